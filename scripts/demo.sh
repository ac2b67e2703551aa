#!/usr/bin/env bash
# Try sharelog in a few minutes, with nothing configured:
#   1. start the test music server the tests use (supysonic with synthesized audio,
#      scripts/test_upstream.py; its venv is cached under target/test-upstream);
#   2. start sharelog against it, with a temp data dir and SHARELOG_JWT_SECRET if it is
#      set (else a fresh random auth.jwtSecret);
#   3. mint an owner token (`sharelog token`), create a share of the first album;
#   4. print the share's link, and keep both servers running until Ctrl-C.
# It only ever talks to the servers it started: a port that is taken is named with
# the process that holds it, never used.
#
# Usage: scripts/demo.sh [--port N] [--for SECONDS]
#   --port N       sharelog's port; refused if taken. Default 4534, or a free port when
#                  4534 is taken (said on stderr). The link is http://127.0.0.1:PORT/share/ID
#   --for SECONDS  stop by itself after that long (for tests); default: run until Ctrl-C
# DEMO_BIN=path runs that binary instead of building target/release/sharelog.
set -euo pipefail
cd "$(dirname "$0")/.."

port=""
run_for=""
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port="$2"; shift 2 ;;
        --for) run_for="$2"; shift 2 ;;
        -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "demo: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
for tool in python3 curl; do
    command -v "$tool" >/dev/null || { echo "demo: $tool is needed" >&2; exit 1; }
done

# Whether 127.0.0.1:$1 can be bound now (a listener on any address of that port says no).
port_is_free() {
    python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}
# Who listens on TCP port $1, from /proc: "process PID (COMMAND LINE)".
port_owner() {
    python3 - "$1" <<'PY'
import os, sys
port, inodes = int(sys.argv[1]), set()
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    try:
        with open(table) as f:
            for row in list(f)[1:]:
                cols = row.split()
                if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(cols[9])
    except OSError:
        pass
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            if link.startswith("socket:[") and link[8:-1] in inodes:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = " ".join(f.read().decode(errors="replace").replace("\0", " ").split())
                print(f"process {pid} ({cmd})")
                sys.exit(0)
    except OSError:
        continue
print("another program (`ss -ltnp` as root names it)")
PY
}
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# sharelog's port: the one asked for, or 4534, or (4534 being taken) any free one.
if [ -n "$port" ]; then
    if ! port_is_free "$port"; then
        echo "demo: port $port is taken by $(port_owner "$port"); stop it or choose another --port" >&2
        exit 1
    fi
elif port_is_free 4534; then
    port=4534
else
    port=$(free_port)
    echo "demo: port 4534 is taken by $(port_owner 4534); using port $port instead" >&2
fi

bin="${DEMO_BIN:-}"
if [ -z "$bin" ]; then
    echo "demo: building sharelog (cargo build --release)..." >&2
    cargo build --release --quiet
    bin=target/release/sharelog
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sharelog-demo.XXXXXX")
sharelog_pid=""
upstream_pid=""
sleep_pid=""
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    # A failure's reason is often in sharelog's own log: shown before it is deleted.
    if [ "$status" -ne 0 ] && [ "$status" -ne 130 ] && [ "$status" -ne 143 ] &&
        [ -s "$tmp/sharelog.log" ]; then
        echo "demo: sharelog's log:" >&2
        tail -n 20 "$tmp/sharelog.log" >&2
    fi
    # The --for timer too: left behind, it would keep our stdout open for its whole
    # duration (a caller reading to the end, such as `cargo test | tee`, would hang).
    if [ -n "$sleep_pid" ]; then
        kill "$sleep_pid" 2>/dev/null || true
    fi
    if [ -n "$sharelog_pid" ]; then
        kill -TERM "$sharelog_pid" 2>/dev/null || true
        wait "$sharelog_pid" 2>/dev/null || true
    fi
    if [ -n "$upstream_pid" ]; then
        # The launcher stops supysonic when its stdin closes (or on SIGTERM).
        exec {upstream_in}>&-
        kill -TERM "$upstream_pid" 2>/dev/null || true
        wait "$upstream_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
    echo "demo: stopped sharelog and the music server" >&2
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. The music server: one JSON line on stdout, then it runs until its stdin closes.
echo "demo: starting the test music server (the first run installs supysonic, about a minute)..." >&2
mkfifo "$tmp/up.in" "$tmp/up.out"
python3 scripts/test_upstream.py --cache target/test-upstream --workdir "$tmp/music-server" \
    --rm-workdir <"$tmp/up.in" >"$tmp/up.out" &
upstream_pid=$!
exec {upstream_in}>"$tmp/up.in"
# Held open: the launcher must never write to a closed pipe.
exec {upstream_out}<"$tmp/up.out"
read -r -t 600 info <&"$upstream_out" || { echo "demo: the music server did not start" >&2; exit 1; }
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2], {}, {"d": d}))' "$info" "$1"; }
upstream_url=$(field 'd["url"]')
album_id=$(field 'd["albums"][0]["id"]')
album_name=$(field 'd["albums"][0]["name"]')

# 2. sharelog, configured through its environment only.
export SHARELOG_LISTEN="127.0.0.1:$port"
export SHARELOG_PUBLIC_URL="http://127.0.0.1:$port"
export SHARELOG_DATA_DIR="$tmp/data"
export SHARELOG_UPSTREAM_URL="$upstream_url"
export SHARELOG_UPSTREAM_USERNAME=$(field 'd["admin"]["username"]')
export SHARELOG_UPSTREAM_PASSWORD=$(field 'd["admin"]["password"]')
export SHARELOG_UPSTREAM_AUTH=password
# The caller's secret (so that `sharelog token` with it works against this server, as
# the README shows), else a random one; either way the token is printed below.
if [ -z "${SHARELOG_JWT_SECRET:-}" ]; then
    SHARELOG_JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
fi
export SHARELOG_JWT_SECRET
# sharelog::startup's "listening on port N" is logged whatever RUST_LOG says: it is how we
# know that the port is ours before anything is sent to it.
RUST_LOG="${RUST_LOG:-warn},sharelog::startup=info" "$bin" serve 2>"$tmp/sharelog.log" &
sharelog_pid=$!
until grep -q "listening on port $port\$" "$tmp/sharelog.log"; do
    if ! kill -0 "$sharelog_pid" 2>/dev/null; then
        sharelog_pid=""
        echo "demo: sharelog did not start on port $port" >&2
        exit 1
    fi
    sleep 0.1
done
for _ in $(seq 100); do
    curl -fsS "$SHARELOG_PUBLIC_URL/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done

# 3. An owner token and a share of the first album, through the owner API.
token=$("$bin" token --user demo --admin)
created=$(curl -fsS -X POST "$SHARELOG_PUBLIC_URL/api/share" \
    -H "X-ND-Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"albums\": [\"$album_id\"], \"description\": \"$album_name (sharelog demo)\", \"downloadable\": true}")
link=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["url"])' "$created")

# 4. The link, and how to go on.
cat <<EOF

  sharelog is running on $SHARELOG_PUBLIC_URL, in front of the test music server
  at $upstream_url (supysonic, with synthesized audio).

  Open the share in a browser:
    $link

  As a playlist:   $link?format=m3u
  As a zip:        $link?download=true
  The owner API:   curl -H "X-ND-Authorization: Bearer \$TOKEN" $SHARELOG_PUBLIC_URL/api/share
  with             TOKEN=$token

  Press Ctrl-C to stop both servers (the data directory is deleted).
EOF
echo "SHARE_URL=$link"
echo "UPSTREAM_URL=$upstream_url"

if [ -n "$run_for" ]; then
    sleep "$run_for" >/dev/null 2>&1 &
    sleep_pid=$!
    wait "$sleep_pid" || true
else
    wait "$sharelog_pid" || true
    sharelog_pid=""
    echo "demo: sharelog stopped; its log:" >&2
    cat "$tmp/sharelog.log" >&2
fi
