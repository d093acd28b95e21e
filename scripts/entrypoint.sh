#!/bin/sh
# The container's entrypoint, run natively by `make smoke` too: wait for the database,
# migrate, collect static files, then replace this shell with gunicorn (so it gets signals).
# With arguments other than `serve` it runs them as given, e.g.
#   docker compose run --rm app python manage.py seed_demo
set -eu
cd "$(dirname "$0")/.."

export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.production}"
if [ "$#" -gt 0 ] && [ "$1" != "serve" ]; then
  exec "$@"
fi

python=${PYTHON:-python}

"$python" manage.py wait_for_db --timeout "${DB_WAIT_TIMEOUT:-60}"
# Several replicas starting at once should not all migrate: set MIGRATE_ON_START=0 on them
# and run `manage.py migrate` once (docs/OPERATIONS.md, "Upgrading").
if [ "${MIGRATE_ON_START:-1}" = 1 ]; then
  "$python" manage.py migrate --no-input
fi
# The image collects static files at build time and sets COLLECTSTATIC_ON_START=0.
if [ "${COLLECTSTATIC_ON_START:-1}" = 1 ]; then
  "$python" manage.py collectstatic --no-input --verbosity 0
fi
exec "$python" -m gunicorn --config config/gunicorn.py config.wsgi:application
