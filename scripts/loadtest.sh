#!/usr/bin/env bash
# Load and memory benchmark of the public share links (docs/performance.md, "Public share access").
#
# Starts the test upstream (supysonic, with a ~50 MB track) and a release sharelog on one machine,
# then measures with wrk (64 connections, DURATION s per run), in ROUNDS rounds of:
#   1. GET /livez                                  (the ceiling: no work at all)
#   2. GET /share/{id}  (raw JSON)                 (cached metadata; every visit durably committed)
#   3. GET /share/{id}  Accept: text/html          (the page for people; every visit committed)
#   4. GET /share/{id}  User-Agent: Slackbot-...   (a link preview; every SharePreviewed committed)
# and compares each with /livez of the same round, and the medians. It checks in every round
# that visitCount (previewCount for 4) grew by exactly the server's 200 answers and the other
# count not at all, and, in last runs (raw, page) whose final 2 s ask for a 400 (no visit) so
# that wrk abandons no visit when it stops, by exactly the 2xx answers wrk received. Then it
# samples the process RSS while a 50 MB track streams through /share/{id}/stream/{trackId}.
# Exits 1 when a count is not exact.
#
# Usage: scripts/loadtest.sh [DURATION_SECONDS]   (env: ROUNDS=3 CONNECTIONS=64 THREADS=2 BIG_MB=50)
# SHARELOG_BIN=path runs that binary instead of building target/release/sharelog, to compare
# two builds back to back (A/B, docs/performance.md).
set -euo pipefail

cd "$(dirname "$0")/.."
DURATION="${1:-10}"
ROUNDS="${ROUNDS:-3}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
BIG_MB="${BIG_MB:-50}"
SECRET="loadtest-secret-$$"

if ! command -v wrk >/dev/null; then
    echo "installing wrk from Debian" >&2
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
BIN="${SHARELOG_BIN:-}"
if [ -z "$BIN" ]; then
    cargo build --release --quiet
    BIN=target/release/sharelog
fi

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
RUST_LOG=warn SHARELOG_JWT_SECRET="$SECRET" "$BIN" --config "$T/sharelog.yaml" serve &
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
# counts SHARE -> "visitCount previewCount" (the owner API)
counts() {
    curl -fs "$BASE/api/share/$1" -H "X-ND-Authorization: Bearer $TOKEN" |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["visitCount"], d["previewCount"])'
}
visits() { counts "$1" | cut -d' ' -f1; }
SHARE=$(create "{\"albums\": [\"$ALBUM\"]}")
BIG_SHARE=$(create "{\"songs\": [\"$BIG\"], \"downloadable\": true}")
curl -fs "$BASE/share/$SHARE" >/dev/null # fills the metadata cache

cat >"$T/count.lua" <<'EOF'
-- Counts 2xx answers. With arguments DRAIN_AFTER_SECONDS PATH it asks for PATH until
-- then, and afterwards for PATH?format=drain, a 400 that is no visit: the requests
-- wrk abandons when it stops are then never visits, so every visit is a counted 2xx.
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } timespec_t;
           int clock_gettime(int clock, timespec_t *ts); ]]
local ts = ffi.new("timespec_t")
local function now() ffi.C.clock_gettime(1, ts); return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9 end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  ok = 0; other = 0
  if args[1] then
    deadline = now() + tonumber(args[1])
    page = wrk.format("GET", args[2]); drain = wrk.format("GET", args[2] .. "?format=drain")
  end
end
function request()
  if deadline == nil then return wrk.request() end
  if now() < deadline then return page end
  return drain
end
function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local o, n = 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); n = n + t:get("other") end
  io.write(string.format("2xx=%d non2xx=%d\n", o, n))
end
EOF
# bench URL [SECONDS [LUA ARGS...]] -> "req/s p99 2xx non2xx cpu-µs-per-answer"; each request carries the
# headers in the HEADERS array (wrk -H arguments), if any.
HEADERS=()
# Busy CPU time of the whole machine so far (every core, wrk included), in clock ticks.
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
TICKS_PER_SECOND=$(getconf CLK_TCK)
bench() {
    local url=$1 secs=${2:-$DURATION} busy0
    shift
    [ $# -gt 0 ] && shift
    busy0=$(busy_ticks)
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" --latency -s "$T/count.lua" ${HEADERS[@]+"${HEADERS[@]}"} \
        "$url" ${1:+-- "$@"} >"$T/wrk.out"
    sed -n '/Latency  /p; /Latency Distribution/,/requests in/p' "$T/wrk.out" | sed 's/^/    /' >&2
    local rps p99 ok bad
    rps=$(awk '/Requests\/sec/ {print $2}' "$T/wrk.out")
    p99=$(awk '$1=="99%" {print $2}' "$T/wrk.out")
    ok=$(sed -n 's/^2xx=\([0-9]*\).*/\1/p' "$T/wrk.out")
    bad=$(sed -n 's/.*non2xx=\([0-9]*\).*/\1/p' "$T/wrk.out")
    # CPU per answer, machine-wide: unlike the ratio, it does not move with how fast the
    # host happens to run `/livez` today, and it says what a visit costs beyond a page.
    local cpu
    cpu=$(awk -v b="$(($(busy_ticks) - busy0))" -v hz="$TICKS_PER_SECOND" -v r="$rps" -v s="$secs" \
        'BEGIN {printf "%.1f", b / hz / (r * s) * 1e6}')
    echo "$rps $p99 $ok $bad $cpu"
}
# From /metrics: commit batch size (sum, count), commit seconds (sum, count), server-side
# duration of GET /share/{id} (sum, count), then its 200 answers.
counters() {
    curl -fs "$BASE/metrics" | awk '
        /^sharelog_event_commit_(batch_size|seconds)_(sum|count)/ {v[++n] = $2}
        /^sharelog_http_request_duration_seconds_(sum|count)\{method="GET",route="\/share\/\{id\}"\}/ {v[++n] = $2}
        /^sharelog_http_requests_total\{method="GET",route="\/share\/\{id\}",status="200"\}/ {ok = $2}
        END {for (i = 1; i <= n; i++) printf "%s ", v[i]; print ok + 0}'
}
written() { awk '/^write_bytes/ {print $2}' "/proc/$APP_PID/io"; }
# Commits so far that took over 50 ms from batch start to fsync done (pauses).
slow_commits() {
    curl -fs "$BASE/metrics" | awk '
        /^sharelog_event_commit_seconds_bucket\{le="0.05"\}/ {fast = $2}
        /^sharelog_event_commit_seconds_count/ {all = $2}
        END {print all - fast}'
}

# share_round KIND [wrk -H ARGS...]: one run on the share with those headers; appends
# "KIND req/s p99 wrk2xx server200 visits previews idle iowait cpu-µs" to the rounds file.
share_round() {
    local kind=$1
    shift
    HEADERS=("$@")
    local before after r0 r1 rps p99 ok cpu idle vm
    read -r -a before < <(counts "$SHARE")
    read -r -a r0 < <(counters)
    vmstat 1 $((DURATION - 1)) >"$T/vmstat.out" &
    vm=$!
    read -r rps p99 ok _ cpu < <(bench "$BASE/share/$SHARE")
    wait "$vm"
    sleep 1 # requests wrk abandoned at its deadline finish on the server
    read -r -a r1 < <(counters)
    read -r -a after < <(counts "$SHARE")
    idle=$(awk 'NR > 3 {s += $15; w += $16; n++} END {printf "%.0f %.0f", s / n, w / n}' "$T/vmstat.out")
    echo "$kind $rps $p99 $ok $((r1[6] - r0[6])) $((after[0] - before[0])) $((after[1] - before[1])) $idle $cpu" >>"$T/rounds"
    HEADERS=()
}
PAGE=(-H "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
PREVIEW=(-H "User-Agent: Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)")

# Rounds alternate /livez and the share's answers, so that all see the same (shared, noisy)
# machine; each is compared with /livez of its round, and the medians with each other.
: >"$T/rounds"
read -r -a C0 < <(counters)
SLOW0=$(slow_commits)
IO0=$(written)
for round in $(seq "$ROUNDS"); do
    echo "== round $round: GET /livez" >&2
    read -r L_RPS L_P99 _ _ L_CPU < <(bench "$BASE/livez")
    echo "livez $L_RPS $L_P99 0 0 0 0 0 0 $L_CPU" >>"$T/rounds"
    echo "== round $round: GET /share/{id} (raw)" >&2
    share_round raw
    echo "== round $round: GET /share/{id} (page, Accept: text/html)" >&2
    share_round page "${PAGE[@]}"
    echo "== round $round: GET /share/{id} (preview, Slackbot)" >&2
    share_round preview "${PREVIEW[@]}"
done
read -r -a C1 < <(counters)
SLOW1=$(slow_commits)
IO1=$(written)
curl -fs "$BASE/metrics" | grep -E '^sharelog_event_commit_seconds_bucket' | sed 's/^/    /' >&2

# The exact count as the client sees it: runs whose last 2 s ask for a 400 instead.
# drained_run [wrk -H ARGS...] -> "wrk2xx drain400s visits"
drained_run() {
    HEADERS=("$@")
    local before ok bad
    before=$(visits "$SHARE")
    read -r _ _ ok bad _ < <(bench "$BASE/share/$SHARE" "$DURATION" "$((DURATION - 2))" "/share/$SHARE")
    sleep 1
    echo "$ok $bad $(($(visits "$SHARE") - before))"
    HEADERS=()
}
echo "== drained run: GET /share/{id} (raw), then a 400 for the last 2 s" >&2
read -r D_OK D_BAD D_COUNTED < <(drained_run)
echo "== drained run: GET /share/{id} (page), then a 400 for the last 2 s" >&2
read -r DP_OK DP_BAD DP_COUNTED < <(drained_run "${PAGE[@]}")

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

python3 - "$T/rounds" <<EOF
import statistics, sys
ms = lambda t: float(t[:-2]) if t.endswith("ms") else float(t[:-2]) / 1000 if t.endswith("us") else float(t[:-1]) * 1000
rows = [line.split() for line in open(sys.argv[1])]
# A round is a /livez row followed by its raw, page and preview rows.
rounds, livez = [], None
for r in rows:
    if r[0] == "livez":
        livez = r
    else:
        rounds.append((livez, r))
print("round  kind     /livez req/s  share req/s      p99  ratio   wrk 2xx  server 200   visits  previews  idle iowait  CPU µs/answer (livez)")
for i, (l, r) in enumerate(rounds):
    print(f"{i // 3 + 1:5d}  {r[0]:7}  {float(l[1]):12.0f}  {float(r[1]):11.0f}  {r[2]:>7}  {100 * float(r[1]) / float(l[1]):4.0f}%  {r[3]:>8}  {r[4]:>10}  {r[5]:>7}  {r[6]:>8}  {r[7]:>3}% {r[8]:>4}%  {float(r[9]):6.1f} ({float(l[9]):.1f})")
lz = statistics.median(float(r[1]) for r in rows if r[0] == "livez")
lz_cpu = statistics.median(float(r[9]) for r in rows if r[0] == "livez")
print(f"median /livez {lz:.0f} req/s, {lz_cpu:.1f} µs of CPU (whole machine, wrk included) per answer")
for kind in ("raw", "page", "preview"):
    med = statistics.median(float(r[1]) for _, r in rounds if r[0] == kind)
    ratios = ", ".join(f"{100 * float(r[1]) / float(l[1]):.0f}%" for l, r in rounds if r[0] == kind)
    worst = max(ms(r[2]) for _, r in rounds if r[0] == kind)
    cpu = statistics.median(float(r[9]) for _, r in rounds if r[0] == kind)
    print(f"median {kind:7}: {med:.0f} req/s = {100 * med / lz:.0f}% of /livez (each round: {ratios}); worst p99 {worst:.2f} ms; {cpu:.1f} µs of CPU per answer")
exact = all((r[4] == r[6] and r[5] == "0") if r[0] == "preview" else (r[4] == r[5] and r[6] == "0") for _, r in rounds)
print("counts: in every round visitCount (previewCount for previews) grew by the server's 200 answers, the other not at all: " + ("yes" if exact else "NO"))
print("        (wrk reads fewer: the answers to requests it abandons when it stops, at most one per connection)")
print(f"drained raw run: wrk saw $D_OK 2xx (and $D_BAD drain 400s); visitCount grew by $D_COUNTED: " + ("equal" if $D_OK == $D_COUNTED else "DIFFERENT"))
print(f"drained page run: wrk saw $DP_OK 2xx (and $DP_BAD drain 400s); visitCount grew by $DP_COUNTED: " + ("equal" if $DP_OK == $DP_COUNTED else "DIFFERENT"))
c0, c1 = [float(x) for x in "${C0[*]}".split()], [float(x) for x in "${C1[*]}".split()]
events, batches = c1[0] - c0[0], max(c1[1] - c0[1], 1)
print(f"commits: mean {events / batches:.1f} events per batch, {1000 * (c1[2] - c0[2]) / batches:.2f} ms from batch start to fsync done; {$SLOW1 - $SLOW0} of {batches:.0f} took over 50 ms")
print(f"server side: mean {1000 * (c1[4] - c0[4]) / max(c1[5] - c0[5], 1):.2f} ms from request to answer (event on disk included)")
print(f"disk: {($IO1 - $IO0) / max(events, 1):.0f} bytes written per event (/proc/PID/io write_bytes)")
for name, b, p, e in (("stream, full speed", $FAST_BASE, $FAST_PEAK, $FAST_END), ("stream, 10 MB/s", $SLOW_BASE, $SLOW_PEAK, $SLOW_END), ("zip, 10 MB/s", $ZIP_BASE, $ZIP_PEAK, $ZIP_END)):
    print(f"${BIG_MB} MB {name}: RSS {b/1024:.1f} MB -> peak {p/1024:.1f} MB, end {e/1024:.1f} MB (growth {(p-b)/1024:.1f} MB)")
sys.exit(0 if exact and $D_OK == $D_COUNTED and $DP_OK == $DP_COUNTED else 1)
EOF

# ---- Protected shares (issue 22): a password share visited with its access key. ----
# The key comes from one visit with the password (Basic); then every request carries it as
# `?key=` and no password, so argon2 runs for that one visit only, never per request. Rounds
# alternate the open share's raw JSON and the password share's (the same album), each first
# in turn, so both see the same machine; the keyed rate must be within 10% of the open one
# (the medians), and the password share's visitCount must grow by its 200 answers (within
# the requests wrk abandons at its deadline, at most one per connection). Exits 1 otherwise.
PW_SHARE=$(create "{\"albums\": [\"$ALBUM\"], \"password\": \"loadtest password\"}")
KEY=$(curl -fs -u "friend:loadtest password" "$BASE/share/$PW_SHARE?format=raw" | python3 -c '
import json, sys, urllib.parse as u
url = json.load(sys.stdin)["tracks"][0]["streamUrl"]
print(u.parse_qs(u.urlparse(url).query)["key"][0])')
curl -fs -o /dev/null "$BASE/share/$PW_SHARE?format=raw&key=$KEY" || { echo "the key opens nothing" >&2; exit 1; }
curl -s -o /dev/null -w '%{http_code}' "$BASE/share/$PW_SHARE?format=raw" | grep -qx 401 ||
    { echo "the password share answers without proof" >&2; exit 1; }
: >"$T/keyed"
for round in $(seq "$ROUNDS"); do
    for kind in $(if [ $((round % 2)) = 1 ]; then echo open keyed; else echo keyed open; fi); do
        echo "== round $round: GET /share/{id}?format=raw ($kind)" >&2
        if [ "$kind" = open ]; then
            id=$SHARE url="$BASE/share/$SHARE?format=raw"
        else
            id=$PW_SHARE url="$BASE/share/$PW_SHARE?format=raw&key=$KEY"
        fi
        before=$(visits "$id")
        read -r rps p99 ok bad cpu < <(bench "$url")
        sleep 1 # requests wrk abandoned at its deadline finish on the server
        echo "$round $kind $rps $p99 $ok $bad $(($(visits "$id") - before)) $cpu" >>"$T/keyed"
    done
done
python3 - "$T/keyed" "$CONNECTIONS" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
connections = int(sys.argv[2])
print("round  kind    req/s      p99  wrk 2xx  other  visits  CPU µs/answer")
for r in rows:
    print(f"{r[0]:>5}  {r[1]:6} {float(r[2]):6.0f}  {r[3]:>7}  {r[4]:>7}  {r[5]:>5}  {r[6]:>6}  {float(r[7]):6.1f}")
med = {k: statistics.median(float(r[2]) for r in rows if r[1] == k) for k in ("open", "keyed")}
ratio = med["keyed"] / med["open"]
print(f"median open {med['open']:.0f} req/s, password share with its key {med['keyed']:.0f} req/s: {100 * ratio:.0f}% of open")
clean = all(r[5] == "0" for r in rows)
exact = all(0 <= int(r[6]) - int(r[4]) <= connections for r in rows)
print("every answer a 2xx: " + ("yes" if clean else "NO"))
print("visitCount grew by the 2xx answers wrk read (plus at most one abandoned request per connection): " + ("yes" if exact else "NO"))
sys.exit(0 if ratio >= 0.9 and clean and exact else 1)
PY
