#!/usr/bin/env bash
# Load and memory benchmark of the public share links (docs/performance.md, "Public share access").
#
# Starts the test upstream (supysonic, with a ~50 MB track) and a release sharelog on one machine,
# then measures with wrk (64 connections, 20 s each):
#   1. GET /livez                      (the ceiling: no work at all)
#   2. GET /share/{id}  (raw)          (cached metadata; every visit durably committed)
# checks that visitCount grew by exactly the number of 2xx answers wrk received, and samples the
# process RSS while a 50 MB track streams through /share/{id}/stream/{trackId}.
#
# Usage: scripts/loadtest.sh [DURATION_SECONDS]   (env: CONNECTIONS=64 THREADS=2 BIG_MB=50)
set -euo pipefail

cd "$(dirname "$0")/.."
DURATION="${1:-20}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
BIG_MB="${BIG_MB:-50}"
SECRET="loadtest-secret-$$"

if ! command -v wrk >/dev/null; then
    echo "installing wrk from Debian" >&2
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
cargo build --release --quiet

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
    --big-track-mb "$BIG_MB" <"$T/up.in" >"$T/up.json" 2>"$T/up.log" &
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
BIG=$(json 'next(a["songs"][0]["id"] for a in d["albums"] if a["name"]=="Big")')
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"

cat >"$T/sharelog.yaml" <<EOF
listen: 127.0.0.1:$PORT
dataDir: $T/data
publicUrl: $BASE
upstream: { url: "$UP_URL", username: "$UP_USER", password: "$UP_PASS", auth: password }
publicAccess: { rateLimit: { perMinute: 0, burst: 1 } }
EOF
# Per-request log lines are off (RUST_LOG=warn), as a busy deployment would run.
RUST_LOG=warn SHARELOG_JWT_SECRET="$SECRET" target/release/sharelog --config "$T/sharelog.yaml" serve &
APP_PID=$!
for _ in $(seq 100); do curl -fs "$BASE/livez" >/dev/null && break; sleep 0.1; done

TOKEN=$(python3 - "$SECRET" <<'EOF'
import base64, hmac, hashlib, json, sys, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps({"sub": "bench", "uid": "u-bench", "exp": int(time.time()) + 3600}).encode())
sig = b64(hmac.new(sys.argv[1].encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())
print(f"{head}.{body}.{sig}")
EOF
)
create() {
    curl -fs -X POST "$BASE/api/share" -H "X-ND-Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' -d "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
visits() {
    curl -fs "$BASE/api/share/$1" -H "X-ND-Authorization: Bearer $TOKEN" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["visitCount"])'
}
SHARE=$(create "{\"albums\": [\"$ALBUM\"]}")
BIG_SHARE=$(create "{\"songs\": [\"$BIG\"], \"downloadable\": true}")
curl -fs "$BASE/share/$SHARE" >/dev/null # fills the metadata cache

cat >"$T/count.lua" <<'EOF'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; other = 0 end
function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local o, n = 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); n = n + t:get("other") end
  io.write(string.format("2xx=%d non2xx=%d\n", o, n))
end
EOF
bench() {
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$T/count.lua" "$1" | tee "$T/wrk.out" >&2
    local rps p99 ok
    rps=$(awk '/Requests\/sec/ {print $2}' "$T/wrk.out")
    p99=$(awk '$1=="99%" {print $2}' "$T/wrk.out")
    ok=$(sed -n 's/^2xx=\([0-9]*\).*/\1/p' "$T/wrk.out")
    echo "$rps $p99 $ok"
}

echo "== /livez" >&2
read -r LIVEZ_RPS LIVEZ_P99 _ < <(bench "$BASE/livez")
echo "== /share/{id} (raw)" >&2
BEFORE=$(visits "$SHARE")
commits() {
    curl -fs "$BASE/metrics" | awk '/^sharelog_event_commit_(batch_size|seconds)_(sum|count)/ {printf "%s ", $2}
        /^sharelog_http_request_duration_seconds_(sum|count)\{method="GET",route="\/share\/\{id\}"\}/ {printf "%s ", $2}
        END {print ""}'
}
read -r B_SUM0 B_N0 S_SUM0 S_N0 H_SUM0 H_N0 < <(commits)
vmstat 1 $((DURATION - 1)) >"$T/vmstat.out" &
IO0=$(awk '/^write_bytes/ {print $2}' "/proc/$APP_PID/io")
read -r SHARE_RPS SHARE_P99 SHARE_OK < <(bench "$BASE/share/$SHARE")
read -r B_SUM1 B_N1 S_SUM1 S_N1 H_SUM1 H_N1 < <(commits)
IO1=$(awk '/^write_bytes/ {print $2}' "/proc/$APP_PID/io")
IDLE=$(awk 'NR > 3 {s += $15; w += $16; n++} END {printf "%.0f %.0f", s / n, w / n}' "$T/vmstat.out")
sleep 1 # requests wrk abandoned at the deadline may still be committing
AFTER=$(visits "$SHARE")
COUNTED=$((AFTER - BEFORE))

# RSS while the 50 MB track streams (full speed, then a slow 10 MB/s client) and as a zip.
rss() { awk '/VmRSS/ {print $2}' "/proc/$APP_PID/status"; }
stream_rss() {
    local base peak pid now
    base=$(rss); peak=$base
    curl -fs -o /dev/null $2 "$BASE/share/$BIG_SHARE$1" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        now=$(rss); [ "$now" -gt "$peak" ] && peak=$now
        sleep 0.05
    done
    wait "$pid"
    now=$(rss); [ "$now" -gt "$peak" ] && peak=$now
    echo "$base $peak $now"
}
read -r FAST_BASE FAST_PEAK FAST_END < <(stream_rss "/stream/$BIG" "")
read -r SLOW_BASE SLOW_PEAK SLOW_END < <(stream_rss "/stream/$BIG" "--limit-rate 10M")
read -r ZIP_BASE ZIP_PEAK ZIP_END < <(stream_rss "?download=true" "--limit-rate 10M")

python3 - <<EOF
livez, share = float("$LIVEZ_RPS"), float("$SHARE_RPS")
print(f"/livez:        {livez:10.0f} req/s   p99 $LIVEZ_P99")
print(f"/share/{{id}}:   {share:10.0f} req/s   p99 $SHARE_P99   ({100 * share / livez:.0f}% of /livez)")
batches = $B_N1 - $B_N0
print(f"commits:       {batches} batches, mean {($B_SUM1 - $B_SUM0) / max(batches, 1):.1f} events, mean {1000 * ($S_SUM1 - $S_SUM0) / max(batches, 1):.2f} ms each (write + flush + fsync)")
print(f"disk writes:   {($IO1 - $IO0) / max($B_SUM1 - $B_SUM0, 1):.0f} bytes per visit (/proc/PID/io write_bytes)")
print(f"server side:   mean {1000 * ($H_SUM1 - $H_SUM0) / max($H_N1 - $H_N0, 1):.2f} ms from request to answer (visit on disk included)")
print(f"CPU during /share/{{id}}: idle %s%%, iowait %s%% (vmstat)" % tuple("$IDLE".split()))
print(f"visits:        wrk saw $SHARE_OK 2xx answers; visitCount grew by $COUNTED (difference {$COUNTED - $SHARE_OK})")
for name, b, p, e in (("stream, full speed", $FAST_BASE, $FAST_PEAK, $FAST_END), ("stream, 10 MB/s", $SLOW_BASE, $SLOW_PEAK, $SLOW_END), ("zip, 10 MB/s", $ZIP_BASE, $ZIP_PEAK, $ZIP_END)):
    print(f"${BIG_MB} MB {name}: RSS {b/1024:.1f} MB -> peak {p/1024:.1f} MB, end {e/1024:.1f} MB (growth {(p-b)/1024:.1f} MB)")
EOF
