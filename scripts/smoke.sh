#!/usr/bin/env bash
# `make smoke`: the container's start-up, run natively. scripts/entrypoint.sh with production
# settings, in a virtualenv holding only what the image installs (uv.lock without dev tools),
# against a fresh PostgreSQL database on a free port; then the probes, the admin with its CSS,
# and an authenticated API call, as a TLS proxy would forward them; then compose's worker
# command, its health check and a delivered notification. Stops both and drops the database
# whatever happens.
#   SMOKE_DATABASE_SERVER  postgres://postgres@127.0.0.1:5432   (a role that may CREATE DATABASE)
#   SMOKE_DATABASE_NAME    calibration_smoke_<pid>
#   SMOKE_PORT             a free port chosen by the OS
set -euo pipefail
cd "$(dirname "$0")/.."

server="${SMOKE_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}"
dbname="${SMOKE_DATABASE_NAME:-calibration_smoke_$$}"
work="$(mktemp -d)"
log="$work/server.log"
worker_log="$work/worker.log"
pid=""
worker=""
created=""
checks=0

cleanup() {
  status=$?
  if [ -n "$worker" ] && kill -0 "$worker" 2>/dev/null; then
    kill -TERM "$worker" 2>/dev/null || true
    wait "$worker" 2>/dev/null || true
  fi
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  # Only a database this run created is dropped; an existing one makes CREATE fail first.
  if [ -n "$created" ]; then
    psql "$server/postgres" -qX -c "DROP DATABASE IF EXISTS \"$dbname\" WITH (FORCE)" >/dev/null || true
  fi
  if [ "$status" != 0 ] && [ -f "$log" ]; then
    echo "--- server log (last 40 lines) ---" >&2
    tail -n 40 "$log" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

fail() { echo "smoke: FAILED: $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); echo "  ok  $*"; }

# As the Dockerfile's build stage does; uv's cache makes this a second or two.
UV_PROJECT_ENVIRONMENT="$work/venv" ./scripts/uv.sh sync --frozen --no-dev --no-install-project --quiet
python="$work/venv/bin/python"
port="${SMOKE_PORT:-$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
base="http://127.0.0.1:$port"

export DJANGO_SETTINGS_MODULE=config.settings.production
export DATABASE_URL="$server/$dbname"
SECRET_KEY="$("$python" -c 'import secrets; print(secrets.token_urlsafe(50))')"
export SECRET_KEY
# The first host is what scripts/healthcheck.py presents, as in the image.
export ALLOWED_HOSTS="lab.example.org,localhost,127.0.0.1"
# Production's values, explicitly: a developer's `.env` fills in only what is unset.
export TRUST_X_FORWARDED_PROTO=true DEBUG=false LOG_FORMAT=json
export SECURE_SSL_REDIRECT=true SESSION_COOKIE_SECURE=true CSRF_COOKIE_SECURE=true
export STATIC_ROOT="$work/static"
# The worker's queue without Redis: a SQLite file of this run's own.
export HUEY_FILE="$work/huey.sqlite3"
export PORT="$port" BIND_ADDRESS=127.0.0.1 WEB_CONCURRENCY=2 GUNICORN_THREADS=2
export PYTHON="$python"
export DB_WAIT_TIMEOUT=30
# No Redis: the API throttle counts in the database cache, whose table `migrate` alone makes.
export REDIS_URL=""

echo "smoke: database $dbname, port $port"
psql "$server/postgres" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$dbname\"" >/dev/null \
  || fail "could not create database $dbname (it must not exist yet)"
created=1

started=$SECONDS
scripts/entrypoint.sh >"$log" 2>&1 &
pid=$!

for _ in $(seq 1 120); do
  kill -0 "$pid" 2>/dev/null || fail "the entrypoint exited before serving"
  curl -fs -o /dev/null "$base/healthz" && break
  sleep 0.5
done
curl -fs -o /dev/null "$base/healthz" || fail "gunicorn did not answer /healthz within 60 s"
echo "smoke: serving after $((SECONDS - started)) s (wait_for_db, migrate, collectstatic, gunicorn)"

https=(-H "X-Forwarded-Proto: https")
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

[ "$(curl -fsS "${https[@]}" "$base/healthz")" = '{"status": "ok"}' ] || fail "/healthz body"
ok "/healthz answers 200 {\"status\": \"ok\"}"
[ "$(code "$base/healthz")" = 200 ] || fail "/healthz over plain HTTP is redirected"
"$python" scripts/healthcheck.py || fail "scripts/healthcheck.py (the image's HEALTHCHECK)"
ok "/healthz over plain HTTP (the image's HEALTHCHECK) answers 200"
curl -fsS "${https[@]}" "$base/readyz" | grep -q '"database": "ok"' || fail "/readyz"
ok "/readyz answers 200 with the database ok"

redirect="$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$base/admin/")"
[[ "$redirect" == "301 https://127.0.0.1:$port/admin/" ]] || fail "plain HTTP not redirected to HTTPS: $redirect"
ok "plain HTTP to the admin is redirected to HTTPS"

login="$(curl -fsS -D "$work/login.headers" "${https[@]}" "$base/admin/login/")"
grep -qi '^strict-transport-security: max-age=' "$work/login.headers" || fail "no HSTS header"
css="$(grep -o 'href="/static/admin/css/base\.[0-9a-f]*\.css"' <<<"$login" | head -n 1 | cut -d'"' -f2)"
[ -n "$css" ] || fail "the login page links no hashed admin CSS"
ok "/admin/login/ answers 200 with HSTS, linking $css"
curl -fsS -D "$work/css.headers" -o "$work/base.css" "${https[@]}" "$base$css" || fail "$css not served"
grep -qi '^content-type: text/css' "$work/css.headers" || fail "$css is not text/css"
grep -q 'body' "$work/base.css" || fail "$css is empty"
ok "$css answers 200 text/css (whitenoise)"

DJANGO_SUPERUSER_PASSWORD="$(openssl rand -hex 16 2>/dev/null || echo "smoke-$$-password")" \
  "$python" manage.py createsuperuser --no-input --username smoke --email smoke@example.org >/dev/null
token="$("$python" manage.py drf_create_token smoke | awk '{print $3}')"
[ "${#token}" = 40 ] || fail "drf_create_token printed no token"
auth=(-H "Authorization: Token $token")
[ "$(code "${https[@]}" "$base/api/calibrations")" = 401 ] || fail "anonymous API call not refused"
ok "an anonymous API call answers 401"
response="$(curl -fsS "${https[@]}" "${auth[@]}" -H 'Content-Type: application/json' \
  -d '{"calibration_type": "gain", "value": 1.5, "timestamp": "2025-04-01T10:00:00Z", "tags": ["smoke"]}' \
  "$base/api/calibrations")" || fail "POST /api/calibrations with a token"
id="$("$python" -c 'import json, sys; print(json.load(sys.stdin)["calibration_id"])' <<<"$response")"
ok "POST /api/calibrations with a drf_create_token token answers 201 ($id)"
curl -fsS "${https[@]}" "${auth[@]}" "$base/api/calibrations?tag=smoke" | grep -q "\"$id\"" \
  || fail "the new calibration is not listed"
ok "GET /api/calibrations?tag=smoke lists it"

# The entrypoint passes other commands through, as compose's `seed` service uses it.
scripts/entrypoint.sh "$python" manage.py seed_demo --calibrations 20 >"$work/seed.log" 2>&1 \
  || { cat "$work/seed.log" >&2; fail "seed_demo through the entrypoint"; }
ok "seed_demo runs through the entrypoint with production settings"

"$python" - "$log" <<'PY' || fail "no JSON access log line on stdout"
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
access = [entry for entry in lines if entry.get("logger") == "gunicorn.access"]
assert any(entry.get("path") == "/api/calibrations" and str(entry.get("status")) == "201" for entry in access), access[-3:]
PY
ok "gunicorn writes JSON access log lines to stdout"

# compose's worker service: its command through the entrypoint, its health check, and the
# notification of the alarm the demo data raised (the demo's console target prints it).
scripts/entrypoint.sh "$python" manage.py run_huey >"$worker_log" 2>&1 &
worker=$!
healthy=""
for _ in $(seq 1 60); do
  kill -0 "$worker" 2>/dev/null || fail "the worker exited: $(tail -n 20 "$worker_log")"
  if "$python" manage.py worker_health >/dev/null 2>&1; then healthy=1; break; fi
  sleep 0.5
done
[ -n "$healthy" ] || fail "manage.py worker_health (the worker's health check) never passed"
ok "the worker (run_huey through the entrypoint) starts and passes worker_health"
for _ in $(seq 1 60); do
  grep -q "Alarm: stability-chamber" "$worker_log" && break
  sleep 0.5
done
grep -q "Alarm: stability-chamber" "$worker_log" || fail "the demo alarm's notification was not delivered: $(tail -n 20 "$worker_log")"
ok "the worker delivers the demo alarm's notification to the console target"
kill -TERM "$worker"
wait "$worker" || fail "the worker did not stop cleanly on SIGTERM"
worker=""
ok "the worker stops cleanly on SIGTERM"

kill -TERM "$pid"
wait "$pid" || fail "gunicorn did not stop cleanly on SIGTERM"
pid=""
ok "gunicorn stops cleanly on SIGTERM"
echo "smoke: all $checks checks passed in $((SECONDS - started)) s"
