#!/usr/bin/env bash
# The demo: a synthetic Hanoi-like city on the embedded SQLite default, then the main job.
# Each step prints what it found. Run through `make demo`.
set -euo pipefail

export OUTAGES_DATABASE_URL="${OUTAGES_DATABASE_URL:-sqlite:///outages.db}"
OUT=demo-out
mkdir -p "$OUT"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [[ "$OUTAGES_DATABASE_URL" == "sqlite:///outages.db" ]]; then
  step "Starting from a fresh outages.db"
  rm -f outages.db outages.db-wal outages.db-shm
fi
outages db upgrade

# --- foundation: synthetic city, import, area preview ---

# --- lifecycle: cuts and faults ---

# --- notices ---

# --- reliability report ---

# --- http service: users, tokens, public lookup ---
step "An API admin and a viewer, each with a token (printed once)"
outages users add demo.admin --role admin --by demo || true
outages users add demo.viewer --role viewer --by demo || true
ADMIN_TOKEN=$(outages tokens create demo.admin --by demo 2>/dev/null)
VIEWER_TOKEN=$(outages tokens create demo.viewer --by demo 2>/dev/null)
outages tokens list
PORT="${OUTAGES_DEMO_PORT:-8765}"
step "outages serve on 127.0.0.1:$PORT"
outages serve --port "$PORT" --log-level warning &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
curl -s "http://127.0.0.1:$PORT/readyz"; echo
curl -s -H "Authorization: Bearer $ADMIN_TOKEN" "http://127.0.0.1:$PORT/me"; echo
printf 'viewer adding a user gets HTTP '
curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "Authorization: Bearer $VIEWER_TOKEN" \
  -H 'Content-Type: application/json' -d '{"name": "x", "role": "admin"}' \
  "http://127.0.0.1:$PORT/users"
curl -s "http://127.0.0.1:$PORT/public/outages" > "$OUT/public-outages.json"
curl -s "http://127.0.0.1:$PORT/?lang=vi" > "$OUT/public-page.html"
echo "public outages: $OUT/public-outages.json; public page: $OUT/public-page.html"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
trap - EXIT
outages audit --limit 5

step "Demo finished; files are in $OUT/"
