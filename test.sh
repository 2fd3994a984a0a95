#!/usr/bin/env bash
# Set up (once) and run every test: unit, simulator, store (real PostgreSQL), app (AppTest) and
# end-to-end (headless Chromium). Needs root for apt-get on a fresh Debian machine.
set -euo pipefail
cd "$(dirname "$0")"
need_apt=0
command -v chromium >/dev/null 2>&1 || need_apt=1
command -v initdb >/dev/null 2>&1 || [ -x /usr/lib/postgresql/15/bin/initdb ] || need_apt=1
if [ "$need_apt" = 1 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  command -v chromium >/dev/null 2>&1 || $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null
  command -v initdb >/dev/null 2>&1 || [ -x /usr/lib/postgresql/15/bin/initdb ] \
    || $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import wpp, streamlit, pytest, respx, playwright, zxingcpp, psycopg, psycopg_pool, pytest_timeout, babel, pydantic_settings, phonenumbers, authlib, axe_playwright_python, prometheus_client" 2>/dev/null; then
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -e '.[test]'
fi
exec .venv/bin/python -m pytest "$@"
