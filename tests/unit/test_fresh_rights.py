"""No stale rights (issue 24.4), read off the code: a dialog, a self-refreshing fragment or a widget callback runs later
than the page run that drew it, so it must act through a service made in ITS run (``pagekit.service()`` /
``pagekit.fragment_service()`` after its guard), never through the page's module-level ``s`` — that one carries the
rights of the last full run (an administrator demoted meanwhile could still press "Remove" in an open dialog).

The page test (tests/app/test_roles_edges_pages.py) proves the Remove dialog; this one keeps every other dialog,
fragment and callback of every page honest, including those added later.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted([*ROOT.glob("pages/*.py"), *ROOT.glob("wppui/*.py"), ROOT / "streamlit_app.py"])
#: decorators whose function runs on its own, later (their last name: gate.dialog, gate.fragment, st.fragment, ...)
LATER = {"dialog", "fragment"}


def _decorator_name(node: ast.expr) -> str | None:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Name):
        return target.id
    return None


def _module_service_names(tree: ast.Module) -> set[str]:
    """Module-level names bound to a service of the page's run (``s = pagekit.begin()`` and the like)."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            call = _decorator_name(node.value)
            if call in {"begin", "service", "for_session", "fragment_service"}:
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _functions(tree: ast.AST) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def _runs_later(tree: ast.AST, funcs: dict[str, ast.FunctionDef]) -> set[str]:
    """Functions that run outside the page run that defined them: decorated as dialogs/fragments, given as widget
    callbacks, and whatever those call (by name, within the file)."""
    later = {name for name, f in funcs.items() if any(_decorator_name(d) in LATER for d in f.decorator_list)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg in ("on_click", "on_change", "on_submit", "on_dismiss", "on_select") \
                        and isinstance(kw.value, ast.Name):
                    later.add(kw.value.id)
    todo = list(later)
    while todo:
        f = funcs.get(todo.pop())
        if f is None:
            continue
        for node in ast.walk(f):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in funcs \
                    and node.func.id not in later:
                later.add(node.func.id)
                todo.append(node.func.id)
    return later


def _reads_global(f: ast.FunctionDef, name: str) -> bool:
    local = {a.arg for a in (*f.args.args, *f.args.kwonlyargs, *f.args.posonlyargs)}
    for node in ast.walk(f):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            local.add(node.id)
    return name not in local and any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
                                     for n in ast.walk(f))


def test_dialogs_fragments_and_callbacks_never_act_through_the_pages_service():
    offenders = []
    checked = 0
    for path in FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        services = _module_service_names(tree)
        funcs = _functions(tree)
        for name in _runs_later(tree, funcs):
            f = funcs.get(name)
            if f is None:
                continue
            checked += 1
            offenders += [f"{path.relative_to(ROOT)}:{f.lineno} {name}() uses the page's `{s}`"
                          for s in services if _reads_global(f, s)]
    assert checked >= 8, f"only {checked} dialogs/fragments/callbacks found: the check no longer sees them"
    assert not offenders, "act through pagekit.service() in the dialog's/fragment's own run:\n" + "\n".join(offenders)


def test_the_check_finds_a_dialog_that_uses_the_pages_service():
    """The check itself can fail: the Number page's Remove dialog as it was before issue 24."""
    code = (
        "s = pagekit.begin()\n"
        "@gate.dialog('Remove?')\n"
        "def confirm(n):\n"
        "    if st.button('Remove'):\n"
        "        _remove(n)\n"
        "def _remove(n):\n"
        "    s.remove(n, actor='x')\n"
    )
    tree = ast.parse(code)
    funcs = _functions(tree)
    later = _runs_later(tree, funcs)
    assert later == {"confirm", "_remove"}
    assert _reads_global(funcs["_remove"], "s") and not _reads_global(funcs["confirm"], "s")
