"""wpp.access and wpp.config stay framework-free: importing and using them loads no Streamlit (and no
supabase-py until a Supabase sign-in is made)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
import wpp.access, wpp.config
from wpp.access import StaffDirectory, SignInSessions, Throttle, identity_from_oidc
wpp.config.load_settings(env={}, secrets_files=[])
bad = sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'supabase', 'psycopg'))
print(','.join(bad))
"""


def test_no_streamlit_in_the_domain():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT / ".no-home")})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_the_old_module_is_gone():
    assert not (ROOT / "wpp" / "access.py").exists()
    assert (ROOT / "wpp" / "access" / "__init__.py").exists()
