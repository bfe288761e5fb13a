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
step "Notices: the worker on the console channel (no Twilio/SMTP set), reminders 30 s and 15 s ahead"
if ! outages cuts --help >/dev/null 2>&1; then
  echo "the cut and fault commands are not installed: notices demo skipped"
else
  export OUTAGES_NOTICES_CONSOLE_PATH="$OUT/notices.jsonl" OUTAGES_NOTICES_QUIET_HOURS="" \
    OUTAGES_PLANNED_MIN_NOTICE=0s OUTAGES_PLANNED_REMINDERS=30s,15s \
    OUTAGES_WORKER_POLL_INTERVAL=1s
  : > "$OUTAGES_NOTICES_CONSOLE_PATH"
  at() { python -c "import datetime as d, sys; print((d.datetime.now().astimezone() + d.timedelta(seconds=float(sys.argv[1]))).isoformat(timespec='seconds'))" "$1"; }
  json_id() { python -c "import json, sys; d = json.load(sys.stdin); print(next(d[k] for k in ('id', 'outage_id', 'incident_id') if k in d))"; }
  # A square of about 800 m around the middle of the registered customers.
  CENTRE=$(python -c "
from sqlalchemy import func, select
from outages import db
from outages.models import Customer
from outages.settings import load_settings
engine = db.make_engine(load_settings().database.url)
with engine.connect() as conn:
    lon, lat = conn.execute(select(func.avg(Customer.lon), func.avg(Customer.lat))).one()
print(f'{lon:.5f},{lat:.5f}')")
  python -c "
import json, sys
lon, lat = map(float, sys.argv[1].split(','))
d = 0.004
ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]]
json.dump({'type': 'Polygon', 'coordinates': [ring]}, open(sys.argv[2], 'w'))" "$CENTRE" "$OUT/notice-area.geojson"
  outages run 2> "$OUT/worker.log" &
  WORKER=$!
  CUT=$(outages cuts create --area "$OUT/notice-area.geojson" --start "$(at 40)" --end "$(at 3600)" \
        --reason "thay máy biến áp" --by demo --json | json_id)
  outages notices preview --cut "$CUT" --language vi
  FAULT=$(outages faults report --at "$CENTRE" --text "mất điện cả khu" --json | json_id)
  outages faults confirm "$FAULT" --area "$OUT/notice-area.geojson" --cause equipment_failure
  outages faults etr "$FAULT" --at "$(at 7200)"
  sleep 3
  outages faults etr "$FAULT" --at "$(at 10800)" --note "cáp ngầm hỏng nặng hơn dự kiến"
  sleep 3
  outages faults restore "$FAULT"
  echo "waiting for the two reminders (30 s and 15 s before the cut starts) ..."
  sleep 30
  kill -TERM "$WORKER"; wait "$WORKER" || true
  step "What the first customer's phone received, in order"
  python - "$OUTAGES_NOTICES_CONSOLE_PATH" <<'PY'
import collections, json, sys
lines = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
sms = [m for m in lines if m["channel"] == "sms"]
first = sms[0]["recipient"] if sms else None
for m in (m for m in sms if m["recipient"] == first):
    print(f"[{m['kind']}] {m['body']}")
print("\nmessages per kind and channel:")
for (kind, channel), n in sorted(collections.Counter((m["kind"], m["channel"]) for m in lines).items()):
    print(f"  {kind:24} {channel:6} {n}")
PY
  outages notices stats
fi

# --- reliability report ---

step "Demo finished; files are in $OUT/"
