#!/usr/bin/env bash
# `make lint-docker`: what can be checked of the image and the stack without a Docker engine.
# hadolint on the Dockerfile, shellcheck on our shell scripts, and compose's own validation of
# docker-compose.yml with .env.example's values (the required ones filled with placeholders).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=.venv/bin
"$bin/hadolint" Dockerfile
echo "hadolint: Dockerfile ok"
"$bin/shellcheck" scripts/*.sh .ci/run
echo "shellcheck: scripts/*.sh .ci/run ok"

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  echo "Neither \`docker compose\` nor docker-compose is installed: apt-get install docker-compose" >&2
  exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp docker-compose.yml Dockerfile "$work/"
sed -e 's/^SECRET_KEY=$/SECRET_KEY=lint-only/' -e 's/^POSTGRES_PASSWORD=$/POSTGRES_PASSWORD=lint-only/' \
  .env.example >"$work/.env"
"${compose[@]}" --project-directory "$work" -f "$work/docker-compose.yml" config --quiet
"${compose[@]}" --project-directory "$work" -f "$work/docker-compose.yml" --profile demo config --services \
  | sort | tr '\n' ' ' | grep -qx 'app db redis seed worker ' || { echo "compose: expected services app, db, redis, seed, worker" >&2; exit 1; }
echo "compose: docker-compose.yml valid ($("${compose[@]}" version --short 2>/dev/null || echo "?"))"
