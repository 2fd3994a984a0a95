#!/usr/bin/env python3
"""Make a password hash for a staff account of WPP Console.

    python scripts/hash_password.py            # asks twice, without echo
    python scripts/hash_password.py --user anna
    printf '%s\\n' "$PW" | python scripts/hash_password.py --stdin

Prints one line to paste into ``.streamlit/secrets.toml`` under ``[staff]``:

    [staff]
    anna = "scrypt$16384$8$1$...$..."

The password itself is never printed or stored.
"""
from __future__ import annotations

import argparse
import getpass
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wpp.access.passwords import hash_password, verify_password  # noqa: E402
from wpp.errors import WppError  # noqa: E402

MIN_LENGTH = 8


def _read_password(use_stdin: bool) -> str:
    if use_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    first = getpass.getpass("New staff password: ")
    second = getpass.getpass("Type it again: ")
    if first != second:
        raise SystemExit("The two passwords differ. Nothing was printed; run the script again.")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Hash a staff password for .streamlit/secrets.toml [staff].")
    parser.add_argument("--stdin", action="store_true", help="read the password as one line from standard input")
    parser.add_argument("--user", help="print a complete `name = \"hash\"` line for this staff name")
    args = parser.parse_args(argv)

    password = _read_password(args.stdin).rstrip("\r")
    if not password:
        print("The password is empty. Nothing was printed.", file=sys.stderr)
        return 2
    if len(password) < MIN_LENGTH:
        print(f"Use at least {MIN_LENGTH} characters. Nothing was printed.", file=sys.stderr)
        return 2
    try:
        hashed = hash_password(password)
    except WppError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    assert verify_password(password, hashed)

    if args.user:
        name = args.user.strip()
        key = name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else '"' + name.replace('\\', '\\\\').replace('"', '\\"') + '"'
        print(f'{key} = "{hashed}"')
    else:
        print(hashed)
    print('Paste it into .streamlit/secrets.toml under [staff], as:  name = "<the line above>"', file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
