#!/usr/bin/env bash
# Set up (once) and start WPP Console. With nothing configured it runs in demo mode:
# a simulated WhatsApp platform and a local SQLite file, on http://127.0.0.1:8501 only.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import wpp, streamlit, httpx, supabase, qrcode, PIL, pandas, jwt, babel, pydantic_settings, phonenumbers, authlib, prometheus_client" 2>/dev/null; then
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -e .
fi
PORT="${PORT:-8501}"
echo "WPP Console: open http://127.0.0.1:${PORT} in a browser (Ctrl+C to stop)"
exec .venv/bin/streamlit run streamlit_app.py --server.port "$PORT" "$@"
