#!/bin/sh
# Runs uv, installing it for this user first if the machine has none (`make` calls this).
set -eu
export UV_PYTHON_DOWNLOADS="${UV_PYTHON_DOWNLOADS:-never}"
if command -v uv >/dev/null 2>&1; then
  exec uv "$@"
fi
PY="${PYTHON:-python3}"
if ! "$PY" -m uv --version >/dev/null 2>&1; then
  echo "uv not found: installing it with pip for $("$PY" --version)…" >&2
  "$PY" -m pip install --quiet --user uv 2>/dev/null \
    || "$PY" -m pip install --quiet uv 2>/dev/null \
    || "$PY" -m pip install --quiet --user --break-system-packages uv
fi
exec "$PY" -m uv "$@"
