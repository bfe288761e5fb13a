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

step "Demo finished; files are in $OUT/"
