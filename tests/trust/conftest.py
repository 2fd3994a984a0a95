"""Trust suite (issue 6): bad input, faults, secrets.

The tests record what they tried in one session-wide :class:`TrustRecord`; when the WHOLE folder ran
and every test in it passed, ``pytest_sessionfinish`` writes ``docs/trust.md`` from those records, so
the figures there are produced by the suite, never typed by hand. A partial run (``-k``, one file, a
failure) leaves the existing file alone.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from wpp.store.sqlite import SqliteStore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DOC = ROOT / "docs" / "trust.md"

ORG = "123e4567-e89b-12d3-a456-426614174000"
ORG2 = "9a1b2c3d-0000-4000-8000-00000000abcd"


# --- what a readable message is ------------------------------------------------------------------
_CLASS_NAME_RE = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*(?:Error|Exception|Exc)\b|\bTraceback\b|\bFile \"")
_CODE_RE = re.compile(r"<html|<!doctype|<head|<body|(?-i:\bNone\b)|\{'|\[\]|\\x[0-9a-f]{2}|\bself\.|\bhttpx\b|\bjson\.", re.I)
MAX_MESSAGE_CHARS = 400


def unreadable_reasons(text: str | None) -> list[str]:
    """Why ``text`` is not a sentence a staff member can read (empty list: it is fine)."""
    if text is None or not str(text).strip():
        return ["empty message"]
    text = str(text)
    out = []
    if m := _CLASS_NAME_RE.search(text):
        out.append(f"names a Python exception / traceback ({m.group(0)!r})")
    if m := _CODE_RE.search(text):
        out.append(f"shows code or markup ({m.group(0)!r})")
    if len(text) > MAX_MESSAGE_CHARS:
        out.append(f"too long ({len(text)} characters)")
    if len(re.findall(r"[A-Za-z]{2,}", text)) < 2:
        out.append("not words")
    return out


# --- the store, byte for byte --------------------------------------------------------------------
def snapshot(store: SqliteStore) -> dict:
    """Every row and every activity entry, as stored (raw column values, settings as the stored text)."""
    con = sqlite3.connect(str(store.path))
    try:
        con.row_factory = sqlite3.Row
        rows = {r["id"]: dict(r) for r in con.execute("SELECT * FROM messenger_integrations ORDER BY id")}
        activity = [dict(r) for r in con.execute("SELECT * FROM integration_activity ORDER BY id")]
        schools = [dict(r) for r in con.execute("SELECT * FROM wpp_console_organizations ORDER BY id")]
    finally:
        con.close()
    return {"rows": rows, "activity": activity, "schools": schools}


#: columns a recorded failure may legitimately touch (``last_error`` says what went wrong)
ERROR_COLUMNS = ("last_error", "last_error_at", "updated_at")


def _without_evidence(settings_text) -> object:
    try:
        data = json.loads(settings_text)
    except (TypeError, ValueError):
        return settings_text
    if isinstance(data, dict):
        data.pop("wppKeyEvidence", None)
    return data


def store_changes(before: dict, after: dict, rule: str) -> list[str]:
    """What changed that must not have.

    ``strict``  — refused before anything was sent or saved: rows and activity byte-identical.
    ``rows``    — a platform answer was bad: rows (and their ``settings`` text) byte-identical except
                  the error columns; activity may only gain ``error`` entries.
    """
    problems = []
    if set(before["rows"]) != set(after["rows"]):
        problems.append(f"rows added/removed: {sorted(set(after['rows']) ^ set(before['rows']))}")
    for iid, old in before["rows"].items():
        new = after["rows"].get(iid)
        if new is None:
            continue
        for col, val in old.items():
            if rule != "strict" and col in ERROR_COLUMNS:
                continue
            if rule != "strict" and col == "settings" and _without_evidence(val) == _without_evidence(new.get(col)):
                continue  # the platform's refusal recorded (wpp.keys.KEY_EVIDENCE), like last_error
            if new.get(col) != val:
                problems.append(f"row {iid[:8]} column {col} changed: {str(val)[:80]!r} -> {str(new.get(col))[:80]!r}")
    if before.get("schools") != after.get("schools"):
        problems.append("the schools' names changed")
    old_act, new_act = before["activity"], after["activity"]
    if new_act[: len(old_act)] != old_act:
        problems.append("existing activity entries changed")
    added = new_act[len(old_act):]
    if rule == "strict" and added:
        problems.append(f"activity written for a refused input: {[(a['action'], a['outcome']) for a in added]}")
    if rule != "strict" and any(a["outcome"] != "error" for a in added):
        problems.append(f"a failure was logged as a success: {[(a['action'], a['outcome']) for a in added]}")
    return problems


# --- the record ------------------------------------------------------------------------------------
@dataclass
class TrustRecord:
    inputs: list[dict] = field(default_factory=list)  # form, case, input, outcome, message
    faults: list[dict] = field(default_factory=list)  # fault, what was checked
    leak_checks: list[dict] = field(default_factory=list)  # surface, items checked, secrets, leaks
    authorizations: list[dict] = field(default_factory=list)  # use-case, person, school, outcome, message
    views: list[dict] = field(default_factory=list)  # page, part, person, shown

    def input(self, form: str, case: str, shown: str, outcome: str, message: str) -> None:
        self.inputs.append({"form": form, "case": case, "input": shown, "outcome": outcome, "message": message})

    def fault(self, fault: str, survived: str) -> None:
        self.faults.append({"fault": fault, "survived": survived})

    def authz(self, case: str, role: str, school: str, outcome: str, message: str) -> None:
        self.authorizations.append({"case": case, "role": role, "school": school, "outcome": outcome,
                                    "message": message})

    def sees(self, page: str, part: str, person: str, shown: bool) -> None:
        self.views.append({"page": page, "part": part, "person": person, "shown": shown})

    def leaks(self, surface: str, checked: int, secrets: int, leaks: int) -> None:
        self.leak_checks.append({"surface": surface, "checked": checked, "secrets": secrets, "leaks": leaks})


RECORD = TrustRecord()


@pytest.fixture(scope="session")
def trust() -> TrustRecord:
    return RECORD


# --- docs/trust.md ---------------------------------------------------------------------------------
_state = {"collected": set(), "passed": set(), "failed": set(), "deselected": 0, "files": set()}


def _in_trust(nodeid: str) -> bool:
    return nodeid.replace("\\", "/").startswith("tests/trust/")


def pytest_collection_finish(session):
    for item in session.items:
        if _in_trust(item.nodeid):
            _state["collected"].add(item.nodeid)
            _state["files"].add(item.nodeid.split("::", 1)[0])


def pytest_deselected(items):
    _state["deselected"] += sum(1 for i in items if _in_trust(i.nodeid))


def pytest_runtest_logreport(report):
    if not _in_trust(report.nodeid):
        return
    if report.failed:
        _state["failed"].add(report.nodeid)
    elif report.when == "call" and report.passed:
        _state["passed"].add(report.nodeid)


def _whole_folder_passed(session) -> tuple[bool, str]:
    files = {f"tests/trust/{p.name}" for p in HERE.glob("test_*.py")}
    if not _state["collected"]:
        return False, "no trust tests ran"
    if files - _state["files"]:
        return False, f"not every trust file ran ({sorted(files - _state['files'])} missing)"
    if _state["deselected"]:
        return False, f"{_state['deselected']} trust tests were deselected"
    if session.config.getoption("keyword", "") or session.config.getoption("markexpr", ""):
        return False, "a -k or -m selection was given"
    if _state["failed"]:
        return False, f"{len(_state['failed'])} trust test(s) failed"
    if _state["passed"] != _state["collected"]:
        return False, f"{len(_state['collected'] - _state['passed'])} trust test(s) did not pass (skipped?)"
    return True, ""


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _cell(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("|", "\\|")


def render(record: TrustRecord, *, tests: int) -> str:
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = " (with uncommitted changes)" if _git("status", "--porcelain", "--untracked-files=no") else ""
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    forms = sorted({i["form"] for i in record.inputs})
    leaks = sum(c["leaks"] for c in record.leak_checks)
    checked = sum(c["checked"] for c in record.leak_checks)
    lines = [
        "# Trust: bad input, faults, secrets",
        "",
        "Generated by `python -m pytest tests/trust` (`tests/trust/conftest.py`, `pytest_sessionfinish`) — do not edit by hand.",
        "It is rewritten only when the whole `tests/trust` folder ran and passed.",
        "",
        f"- Date: {now}",
        f"- Commit: `{commit}`{dirty}",
        f"- Tests in the trust suite: {tests}",
        "",
        "## Figures",
        "",
        "| what | count |",
        "| --- | --- |",
        f"| bad inputs tried (distinct) | {len(record.inputs)} |",
        f"| forms and platform answers covered | {len(forms)} |",
        f"| bad inputs answered with a readable message, no traceback, store unchanged | {len(record.inputs)} |",
        f"| faults survived | {len(record.faults)} |",
        f"| leak checks (surfaces) | {len(record.leak_checks)} |",
        f"| texts / log lines / reprs searched for secrets | {checked} |",
        f"| leaks found | {leaks} |",
        f"| authorisation cases (action × person × school A / school B / the console) | {len(record.authorizations)} |",
        f"| … allowed by the role table | {sum(1 for a in record.authorizations if a['outcome'] == 'allowed')} |",
        f"| … refused in words (and in the diary) | "
        f"{sum(1 for a in record.authorizations if a['outcome'] == 'refused in words')} |",
        f"| … another school's number answered like an unknown number | "
        f"{sum(1 for a in record.authorizations if a['outcome'] in ('unknown number', 'not one of your schools'))} |",
        f"| … a page's list without that school's lines | "
        f"{sum(1 for a in record.authorizations if a['outcome'] == 'not shown')} |",
        f"| page parts × person (Settings, Activity, Alerts, the webhook overview) | {len(record.views)} |",
        f"| … shown | {sum(1 for v in record.views if v['shown'])} |",
        "",
        "## Bad inputs and the message each produced",
        "",
        "\"Store\" is what was compared before/after: *strict* — every row and the activity log byte-identical; "
        "*rows* — every row and its `settings` byte-identical apart from `last_error`/`last_error_at`/`updated_at`, "
        "and the log only gained `error` entries.",
        "",
        "| # | form / answer | case | input | outcome | message shown |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for n, i in enumerate(record.inputs, 1):
        lines.append(f"| {n} | {_cell(i['form'], 40)} | {_cell(i['case'], 40)} | {_cell(i['input'], 60)} | "
                     f"{_cell(i['outcome'], 30)} | {_cell(i['message'], 220)} |")
    lines += ["", "## Faults survived", "", "| # | fault | what held |", "| --- | --- | --- |"]
    for n, f in enumerate(record.faults, 1):
        lines.append(f"| {n} | {_cell(f['fault'], 80)} | {_cell(f['survived'], 260)} |")
    people = list(dict.fromkeys(a["role"] for a in record.authorizations))
    lines += ["", "## Who may do what", "",
              "Every action of the permission table (`PERMISSIONS` in `wpp/access/roles.py`: a row without a use-case "
              "here fails the suite), for people with one role at school A and for people with different roles at "
              "different schools, at school A, at school B and on the console as a whole "
              "(`tests/trust/test_authorization.py`, on the service itself: pages, dialogs, fragments and stale "
              "buttons all end there). Expected outcomes are computed from the people's grants and the table, not from "
              "the code under test. A refusal changed nothing but its line in the diary; another school's number is "
              "answered exactly like an unknown one; nothing of the other school changed or was named, in any case.",
              "", "People: " + "; ".join(people) + ".", "",
              "| action | person | school | outcome | message shown |", "| --- | --- | --- | --- | --- |"]
    for a in record.authorizations:
        lines.append(f"| {_cell(a['case'], 50)} | {a['role']} | {a['school']} | {a['outcome']} | "
                     f"{_cell(a['message'], 160)} |")
    viewers = list(dict.fromkeys(v["person"] for v in record.views))
    lines += ["", "## What each person reads on the pages", "",
              "Each part of Settings, Activity, Alerts and the webhook overview, for each person: ✓ shown, · not "
              "shown — exactly as the role each part needs, at the school it is about, allows "
              "(`tests/trust/test_authorization.py`).", "",
              "| page | part | " + " | ".join(viewers) + " |", "| --- | --- | " + " | ".join("---" for _ in viewers) + " |"]
    parts: dict[tuple[str, str], dict[str, bool]] = {}
    for v in record.views:
        parts.setdefault((v["page"], v["part"]), {})[v["person"]] = v["shown"]
    for (page, part), shown in parts.items():
        lines.append(f"| {page} | {_cell(part, 60)} | " + " | ".join(
            "✓" if shown.get(p) else "·" for p in viewers) + " |")
    lines += ["", "## Leak checks", "",
              "| # | surface | texts searched | secrets looked for | leaks |", "| --- | --- | --- | --- | --- |"]
    for n, c in enumerate(record.leak_checks, 1):
        lines.append(f"| {n} | {_cell(c['surface'], 120)} | {c['checked']} | {c['secrets']} | {c['leaks']} |")
    lines.append("")
    return "\n".join(lines)


def pytest_sessionfinish(session, exitstatus):
    ok, why = _whole_folder_passed(session)
    if not ok:
        if _state["collected"]:
            print(f"\ndocs/trust.md not rewritten: {why}.")
        return
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(render(RECORD, tests=len(_state["collected"])), encoding="utf-8")
    print(f"\ndocs/trust.md written: {len(RECORD.inputs)} bad inputs, {len(RECORD.faults)} faults, "
          f"{sum(c['leaks'] for c in RECORD.leak_checks)} leaks.")
