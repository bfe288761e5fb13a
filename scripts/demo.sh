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
step "Five years of interruption history for these customers (faults, planned cuts, blips, storm days)"
outages demo-history "$OUT/history.csv"
outages interruptions import "$OUT/history.csv"
YEAR=$(( $(date +%Y) - 1 ))
step "Reliability indices $YEAR by district (IEEE 1366, major event days by 2.5 beta)"
outages report reliability --from "$YEAR-01-01" --to "$YEAR-12-31" --by district
outages report reliability --from "$YEAR-01-01" --to "$YEAR-12-31" --by district \
  --format html --out "$OUT/reliability.html" --charts-dir "$OUT/charts"
step "Service KPIs"
outages report service
echo "Reliability report: $OUT/reliability.html (charts as PNG in $OUT/charts/)"

step "Demo finished; files are in $OUT/"
