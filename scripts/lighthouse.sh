#!/usr/bin/env bash
# Lighthouse on a real share page: the test upstream (supysonic) and sharelog on loopback,
# one album share, then Lighthouse 12.2.3 (npm) with Debian's chromium, desktop preset.
# Fails when accessibility, best practices or performance score below MIN_SCORE (0.95),
# and lists the audits that cost points. Reports go to target/lighthouse/report.{json,html}.
#
# Usage: scripts/lighthouse.sh        (env: MIN_SCORE=0.95 RUNS=1)
# Installs lighthouse into target/lighthouse (cached) and chromium with apt when missing.
set -euo pipefail

cd "$(dirname "$0")/.."
MIN_SCORE="${MIN_SCORE:-0.95}"
RUNS="${RUNS:-1}"
LH_VERSION=12.2.3
LH_DIR=target/lighthouse
SECRET="lighthouse-secret-$$"

if [ ! -x /usr/bin/chromium ]; then
    echo "installing chromium from Debian" >&2
    apt-get install -y chromium >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }
fi
LH="$LH_DIR/node_modules/.bin/lighthouse"
if [ "$("$LH" --version 2>/dev/null)" != "$LH_VERSION" ]; then
    echo "installing lighthouse@$LH_VERSION into $LH_DIR" >&2
    mkdir -p "$LH_DIR"
    npm install --prefix "$LH_DIR" --no-audit --no-fund --loglevel=error "lighthouse@$LH_VERSION" >&2
fi
cargo build --quiet --bin sharelog

T="$(mktemp -d)"
UP_PID=""
APP_PID=""
cleanup() {
    [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null && wait "$APP_PID" 2>/dev/null || true
    exec 3>&- 2>/dev/null || true # EOF on its stdin stops the upstream
    [ -n "$UP_PID" ] && wait "$UP_PID" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT

# The upstream runs until its stdin closes: hold it open through a fifo on fd 3.
mkfifo "$T/up.in"
python3 scripts/test_upstream.py --cache target/test-upstream --workdir "$T/up" \
    <"$T/up.in" >"$T/up.json" 2>"$T/up.log" &
UP_PID=$!
exec 3>"$T/up.in"
for _ in $(seq 1200); do
    [ -s "$T/up.json" ] && break
    kill -0 "$UP_PID" 2>/dev/null || { cat "$T/up.log" >&2; exit 1; }
    sleep 0.5
done

json() { python3 -c "import json,sys; d=json.load(open('$T/up.json')); print($1)"; }
UP_URL=$(json 'd["url"]')
UP_USER=$(json 'd["admin"]["username"]')
UP_PASS=$(json 'd["admin"]["password"]')
ALBUM=$(json 'next(a["id"] for a in d["albums"] if a["name"]=="Alpha")')
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"

cat >"$T/sharelog.yaml" <<EOF
listen: 127.0.0.1:$PORT
dataDir: $T/data
publicUrl: $BASE
upstream: { url: "$UP_URL", username: "$UP_USER", password: "$UP_PASS", auth: password }
EOF
RUST_LOG=warn SHARELOG_JWT_SECRET="$SECRET" target/debug/sharelog --config "$T/sharelog.yaml" serve &
APP_PID=$!
for _ in $(seq 100); do curl -fs "$BASE/livez" >/dev/null && break; sleep 0.1; done

TOKEN=$(python3 - "$SECRET" <<'EOF'
import base64, hmac, hashlib, json, sys, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps({"sub": "alice", "uid": "u-alice", "exp": int(time.time()) + 3600}).encode())
sig = b64(hmac.new(sys.argv[1].encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())
print(f"{head}.{body}.{sig}")
EOF
)
SHARE=$(curl -fs -X POST "$BASE/api/share" -H "X-ND-Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' \
    -d "{\"albums\": [\"$ALBUM\"], \"description\": \"Songs for the road\", \"downloadable\": true}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
URL="$BASE/share/$SHARE"
echo "== lighthouse $LH_VERSION on $URL (desktop preset, $RUNS run(s), the best kept)" >&2

# The same Chromium flags as the browser tests (tests/support/browser.rs).
FLAGS="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
--disable-background-networking --disable-component-update --disable-sync \
--autoplay-policy=no-user-gesture-required"
for run in $(seq "$RUNS"); do
    CHROME_PATH=/usr/bin/chromium "$LH" "$URL" --quiet --preset=desktop \
        --only-categories=performance,accessibility,best-practices \
        --chrome-flags="$FLAGS --user-data-dir=$T/profile-$run" \
        --output=json --output=html --output-path="$T/report-$run"
done

python3 - "$MIN_SCORE" "$LH_DIR" "$T"/report-*.report.json <<'EOF'
import json, shutil, sys
minimum, out_dir, paths = float(sys.argv[1]), sys.argv[2], sys.argv[3:]
reports = [json.load(open(p)) for p in paths]
cats = ["performance", "accessibility", "best-practices"]
# Performance varies on a shared machine: keep the best run; the other two are deterministic.
best = max(range(len(reports)), key=lambda i: reports[i]["categories"]["performance"]["score"] or 0)
report = reports[best]
shutil.copy(paths[best], f"{out_dir}/report.json")
shutil.copy(paths[best].replace(".report.json", ".report.html"), f"{out_dir}/report.html")
failed = False
for c in cats:
    cat = report["categories"][c]
    score = cat["score"] if cat["score"] is not None else 0.0
    ok = score >= minimum
    failed |= not ok
    print(f"lighthouse {c}: {score:.2f} {'ok' if ok else f'BELOW {minimum}'}")
    for ref in cat["auditRefs"]:
        audit = report["audits"][ref["id"]]
        if ref["weight"] > 0 and audit["score"] is not None and audit["score"] < 1:
            print(f"    {ref['id']} ({audit['score']}): {audit['title']}")
for m in ["first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift", "total-byte-weight"]:
    print(f"    {m}: {report['audits'][m]['displayValue']}")
sys.exit(1 if failed else 0)
EOF
