#!/usr/bin/env python3
"""Keep the translations in step with the code (the standard gettext workflow, through Babel).

    python scripts/i18n.py            # extract messages, update wpp/locale/ru/.../wpp.po, report what is missing
    python scripts/i18n.py --check    # only report (exit 1 when a message has no translation or loses a placeholder)
    python scripts/i18n.py --merge ru other.po   # take the translations of another .po file (a translator's)

Same as ``pybabel extract -F babel.cfg -k _ -k N_ -k _n:1,2 -k N_n:1,2 --no-default-keywords -o wpp/locale/wpp.pot .``
followed by ``pybabel update -i wpp/locale/wpp.pot -d wpp/locale -D wpp``. Translators edit the ``.po`` file
(Poedit, or any text editor); the console compiles it in memory at start, no ``.mo`` needs committing.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from babel.messages.catalog import Catalog  # noqa: E402
from babel.messages.extract import extract_from_dir  # noqa: E402
from babel.messages.frontend import parse_mapping_cfg  # noqa: E402
from babel.messages.pofile import read_po, write_po  # noqa: E402

from wpp.i18n import BABEL_KEYWORDS, DOMAIN, LANGUAGES, LOCALE_DIR, placeholders  # noqa: E402


def extract() -> Catalog:
    """Every message of the code (wpp/, wppui/, pages/, streamlit_app.py) as a template catalogue."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {k: v for k, v in BABEL_KEYWORDS.items()}
    template = Catalog(project="wpp-console", domain=DOMAIN)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords, comment_tags=("TRANSLATORS:",), strip_comment_tags=True
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def load(lang: str) -> Catalog:
    with open(po_path(lang), "rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


def problems(template: Catalog, catalog: Catalog) -> list[str]:
    """What a translator still has to do: missing/fuzzy translations, lost or invented placeholders."""
    out = []
    for msg in template:
        if not msg.id:
            continue
        tr = catalog.get(msg.id)
        ids = msg.id if isinstance(msg.id, (tuple, list)) else (msg.id,)
        where = f"{msg.locations[0][0]}:{msg.locations[0][1]}" if msg.locations else "?"
        if tr is None or not tr.string or (isinstance(tr.string, (tuple, list)) and not all(tr.string)):
            out.append(f"missing   {where}  {ids[0]!r}")
            continue
        if tr.fuzzy:
            out.append(f"fuzzy     {where}  {ids[0]!r}")
        wanted = set().union(*(placeholders(i) for i in ids))
        strings = tr.string if isinstance(tr.string, (tuple, list)) else (tr.string,)
        for s in strings:
            got = placeholders(s)
            if got - wanted or (wanted - {"n"}) - got:
                out.append(f"placeholder {where}  {ids[0]!r}: translation has {sorted(got)}, message has {sorted(wanted)}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only report; change no file")
    ap.add_argument("--merge", nargs=2, metavar=("LANG", "PO"), help="copy the translations of PO into LANG's catalogue")
    args = ap.parse_args(argv)
    if args.merge:
        lang, other = args.merge
        catalog = load(lang)
        with open(other, "rb") as fh:
            incoming = read_po(fh, locale=lang, domain=DOMAIN)
        taken = 0
        for msg in incoming:
            if not msg.id or not msg.string or (isinstance(msg.string, (tuple, list)) and not all(msg.string)):
                continue
            current = catalog.get(msg.id)
            if current is None:
                catalog.add(msg.id, msg.string, msg.locations, flags=[f for f in msg.flags if f != "fuzzy"])
            else:
                current.string = msg.string
                current.flags.discard("fuzzy")
            taken += 1
        with open(po_path(lang), "wb") as fh:
            write_po(fh, catalog, width=120, omit_header=False, ignore_obsolete=True, sort_output=False)
        print(f"{lang}: took {taken} translations from {other}")
    template = extract()
    bad = 0
    for lang in LANGUAGES[1:]:
        catalog = load(lang)
        if not args.check:
            catalog.update(template, no_fuzzy_matching=True)
            with open(po_path(lang), "wb") as fh:
                write_po(fh, catalog, width=120, omit_header=False, ignore_obsolete=True, sort_output=False)
            catalog = load(lang)
            with open(LOCALE_DIR / f"{DOMAIN}.pot", "wb") as fh:
                write_po(fh, template, width=120)
        found = problems(template, catalog)
        bad += len(found)
        print(f"{lang}: {len(template) - 1} messages, {len(found)} to do")
        for line in found[:200]:
            print("  " + line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
