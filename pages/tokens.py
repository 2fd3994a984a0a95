"""The old address of the Access page (/tokens): the same page, so bookmarks keep working."""
from __future__ import annotations

import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).with_name("access.py")), run_name="__main__")
