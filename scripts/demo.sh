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

step "The districts as named areas, to pick on the console's map instead of drawing"
outages areas import "$OUT/areas/districts.geojson" --name-property name --kind district

# --- lifecycle: cuts and faults ---
local_time() { TZ="${OUTAGES_LOCALE_TIMEZONE:-Asia/Ho_Chi_Minh}" date -d "$1" '+%Y-%m-%d %H:%M'; }
json_field() { python -c "import json, sys; print(json.load(sys.stdin)['$1'])"; }

if [[ -f "$OUT/areas/cut.geojson" ]]; then
  step "Planned cut six days ahead on $OUT/areas/cut.geojson"
  DAY=$(TZ="${OUTAGES_LOCALE_TIMEZONE:-Asia/Ho_Chi_Minh}" date -d '+6 days' '+%Y-%m-%d')
  outages cuts create --area "$OUT/areas/cut.geojson" --start "$DAY 08:00" \
    --end "$DAY 16:30" --reason "Bao duong luoi dien / grid maintenance" \
    --work "Replace 22 kV switchgear" --by "demo dispatcher"
  outages cuts list
else
  step "No $OUT/areas/cut.geojson (foundation step missing): planned cut skipped"
fi

step "A fault: three customers near each other call in"
# Three neighbours, so the reports group into one incident (within faults.group_radius_m).
read -r -a CALLERS <<<"$(python - <<'PY'
from sqlalchemy import select
from outages.db import make_engine
from outages.models import Customer
from outages.settings import load_settings

c = Customer.__table__.c
engine = make_engine(load_settings().database.url)
with engine.connect() as conn:
    first = (conn.execute(select(c.code, c.lon, c.lat).where(c.district == "Dong Da").limit(1))
             .first() or conn.execute(select(c.code, c.lon, c.lat).limit(1)).first())
    near = (select(c.code).where(c.lon.between(first.lon - 0.005, first.lon + 0.005),
                                 c.lat.between(first.lat - 0.005, first.lat + 0.005))
            .order_by((c.lon - first.lon) * (c.lon - first.lon)
                      + (c.lat - first.lat) * (c.lat - first.lat)).limit(3))
    print(" ".join(conn.execute(near).scalars()))
PY
)"
FAULT=$(outages faults report --customer "${CALLERS[0]}" --text "Mat dien / no power" \
  --by "call centre" --json | json_field outage_id)
for CODE in "${CALLERS[@]:1}"; do
  outages faults report --customer "$CODE" --source sms --by "call centre"
done
outages faults confirm "$FAULT" --auto --yes --cause equipment_failure --by "demo dispatcher"
outages faults etr "$FAULT" --at "$(local_time '+2 hours')" --note "crew on the way" \
  --by "demo dispatcher"

step "Restoration in two steps: the callers first, then everyone"
printf '%s\n' "${CALLERS[@]:0:2}" > "$OUT/restored-first.txt"
outages faults restore "$FAULT" --customers "$OUT/restored-first.txt" --by "demo dispatcher"
outages faults restore "$FAULT" --by "demo dispatcher"
outages faults show "$FAULT" --history

step "Outage durations"
outages outages durations
outages interruptions export --output "$OUT/interruptions.csv"
echo "interruption log written to $OUT/interruptions.csv"

# --- notices ---
step "Notices: the worker on the console channel (no Twilio/SMTP set), reminders 30 s and 15 s ahead"
# A subshell: the test-bench settings below (no notice period, reminders seconds ahead) must
# not leak into the reports that follow.
(
  export OUTAGES_NOTICES_CONSOLE_PATH="$OUT/notices.jsonl" OUTAGES_NOTICES_QUIET_HOURS="" \
    OUTAGES_PLANNED_REMINDERS=30s,15s \
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
feature = {'type': 'Feature', 'properties': {'name': 'phường Trung Liệt'},
           'geometry': {'type': 'Polygon', 'coordinates': [ring]}}
json.dump(feature, open(sys.argv[2], 'w'), ensure_ascii=False)" "$CENTRE" "$OUT/notice-area.geojson"
  outages run 2> "$OUT/worker.log" &
  WORKER=$!
  CUT=$(outages cuts create --area "$OUT/notice-area.geojson" --start "$(at 40)" --end "$(at 3600)" \
        --reason "thay máy biến áp" --urgent --urgent-reason "máy biến áp quá nhiệt, phải thay ngay" \
        --by demo --json | json_id)
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
  step "What one customer's phone received, in order"
  python - "$OUTAGES_NOTICES_CONSOLE_PATH" "$FAULT" <<'PY'
import collections, json, sys
lines = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
sms = [m for m in lines if m["channel"] == "sms"]
# Follow the first customer acknowledged for this fault: they are inside the cut area too.
acked = [m for m in sms if m["kind"] == "fault_ack" and m["key"].startswith(f"{sys.argv[2]}:")]
first = acked[0]["recipient"] if acked else None
for m in (m for m in sms if m["recipient"] == first):
    print(f"[{m['kind']}] {m['body']}")
print("\nmessages per kind and channel:")
for (kind, channel), n in sorted(collections.Counter((m["kind"], m["channel"]) for m in lines).items()):
    print(f"  {kind:24} {channel:6} {n}")
PY
  outages notices stats
)

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
CUT_DAY=$(python -c "import datetime as d, zoneinfo; print((d.datetime.now(zoneinfo.ZoneInfo('Asia/Ho_Chi_Minh')) + d.timedelta(days=6)).date())")
echo "public lookup, no login: is a cut planned in 'Dong Da' on $CUT_DAY?"
curl -s -G "http://127.0.0.1:$PORT/public/cuts" --data-urlencode "district=Dong Da" \
  --data-urlencode "date=$CUT_DAY" | python -m json.tool --no-ensure-ascii
curl -s "http://127.0.0.1:$PORT/public/outages" > "$OUT/public-outages.json"
curl -s "http://127.0.0.1:$PORT/?lang=vi" > "$OUT/public-page.html"
echo "public outages: $OUT/public-outages.json; public page: $OUT/public-page.html"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
trap - EXIT
outages audit --limit 5

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

# --- the dispatcher console ---
outages users add demo.dispatcher --role dispatcher --by demo >/dev/null 2>&1 || true
CONSOLE_PASSWORD=$(python -c "import secrets; print(secrets.token_urlsafe(12))")
printf '%s\n' "$CONSOLE_PASSWORD" | outages users passwd demo.dispatcher --password-stdin --by demo
step "The dispatcher console"
echo "start the server:  outages serve --port $PORT"
echo "then open:         http://127.0.0.1:$PORT/console/"
echo "sign in as:        demo.dispatcher"
echo "with the password: $CONSOLE_PASSWORD"
