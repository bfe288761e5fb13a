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
step "Generating a synthetic Hanoi-like city: 24,000 customers in 9 districts (seed 7)"
outages demo-data city "$OUT" --customers 24000 --seed 7

step "Importing the customer registry (a few rows are bad on purpose)"
outages customers import "$OUT/customers.csv"

step "The rejects file keeps each bad row as given, plus its line and the reason"
python - "$OUT/customers.rejects.csv" <<'PY'
import csv, sys
with open(sys.argv[1], encoding="utf-8", newline="") as handle:
    for row in csv.DictReader(handle):
        print(f"line {row['line']:>6}  {row['code'] or '(no code)':<11} {row['reason']}")
PY

step "Who would lose power inside $OUT/areas/preview.geojson today"
outages area preview "$OUT/areas/preview.geojson" --customers-out "$OUT/preview-customers.csv"

# --- lifecycle: cuts and faults ---

# --- notices ---

# --- reliability report ---

step "Demo finished; files are in $OUT/"
