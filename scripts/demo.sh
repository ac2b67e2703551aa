#!/usr/bin/env bash
# Try sharelog in a few minutes, with nothing configured:
#   1. start the test music server the tests use (supysonic with synthesized audio,
#      scripts/test_upstream.py; its venv is cached under target/test-upstream);
#   2. start sharelog against it, with a fresh random auth.jwtSecret and a temp data dir;
#   3. mint an owner token (`sharelog token`), create a share of the first album;
#   4. print the share's link, and keep both servers running until Ctrl-C.
#
# Usage: scripts/demo.sh [--port N] [--for SECONDS]
#   --port N       sharelog's port (default 4534); the link is http://127.0.0.1:N/share/ID
#   --for SECONDS  stop by itself after that long (for tests); default: run until Ctrl-C
# DEMO_BIN=path runs that binary instead of building target/release/sharelog.
set -euo pipefail
cd "$(dirname "$0")/.."

port=4534
run_for=""
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port="$2"; shift 2 ;;
        --for) run_for="$2"; shift 2 ;;
        -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "demo: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
for tool in python3 curl; do
    command -v "$tool" >/dev/null || { echo "demo: $tool is needed" >&2; exit 1; }
done

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
    trap - EXIT INT TERM
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
SHARELOG_JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
export SHARELOG_JWT_SECRET
RUST_LOG=${RUST_LOG:-warn} "$bin" serve 2>"$tmp/sharelog.log" &
sharelog_pid=$!
for _ in $(seq 100); do
    curl -fsS "$SHARELOG_PUBLIC_URL/readyz" >/dev/null 2>&1 && break
    kill -0 "$sharelog_pid" 2>/dev/null || { cat "$tmp/sharelog.log" >&2; exit 1; }
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
