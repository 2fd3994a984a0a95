"""scripts/hash_password.py prints a hash that verify_password accepts."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from wpp.access import check_hash_format, verify_password

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "hash_password.py"


def _run(*args: str, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], input=stdin, capture_output=True, text=True, timeout=60,
        cwd=SCRIPT.parent.parent.parent,  # not the repo: the script must find wpp by itself
    )


def test_script_prints_an_accepted_hash():
    done = _run("--stdin", stdin="my new password 1\n")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    hashed = lines[0]
    assert hashed.startswith("scrypt$16384$8$1$")
    check_hash_format(hashed)
    assert verify_password("my new password 1", hashed)
    assert not verify_password("my new password 1\n", hashed)
    assert "my new password" not in done.stdout + done.stderr


def test_script_user_line_is_valid_toml_for_the_staff_table():
    done = _run("--stdin", "--user", "anna", stdin="another password\n")
    assert done.returncode == 0, done.stderr
    table = tomllib.loads("[staff]\n" + done.stdout)
    assert verify_password("another password", table["staff"]["anna"])


def test_script_refuses_empty_and_short_passwords():
    assert _run("--stdin", stdin="\n").returncode != 0
    short = _run("--stdin", stdin="abc\n")
    assert short.returncode != 0 and short.stdout == ""
