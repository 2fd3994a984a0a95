"""Where the values come from: the secrets files (each one whole, or a problem naming the file, the line and the
column), the environment and the program's arguments — layered strongest first, with where each value was set.

Strongest first: keyword arguments of ``load_settings``; the environment (``WPP_*``, ``SUPABASE_*``,
``DATABASE_URL``); the secrets files Streamlit reads, a later file replacing an earlier file's top-level entry
(a whole ``[staff]`` table included). Streamlit copies a file's top-level values into ``os.environ``: such a copy
counts as the file's. A ``WPP_*`` name that is no setting is a warning (with the closest setting's name), never an
error.
"""
from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..i18n import N_, Text
from .checks import present
from .problems import ARGUMENTS, ENVIRONMENT, InvalidSettings, where as _where
from .settings import ALIASES

#: the names of the files, relative to a folder, Streamlit reads secrets from
SECRETS_FILE = Path(".streamlit") / "secrets.toml"
PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
#: settings that used to exist: named in a warning when still set
RETIRED = {"WPP_STAFF_FILE": N_("Staff accounts are read from the [staff] table of the secrets file.")}
#: loader inputs that are WPP_* names but not settings
LOADER_NAMES = ("WPP_SECRETS_FILE",)


def default_secrets_files() -> list[Path]:
    """The files Streamlit reads by default: ``~/.streamlit/secrets.toml``, ``<cwd>/.streamlit/secrets.toml``, and
    the one beside ``streamlit_app.py`` (the project's), in that order (later ones win)."""
    out: list[Path] = []
    for p in (Path.home() / SECRETS_FILE, Path.cwd() / SECRETS_FILE, PROJECT_DIR / SECRETS_FILE):
        if p not in out:
            out.append(p)
    return out


# =================================================================================================================
# The secrets files
# =================================================================================================================
def read_files(env: Mapping[str, str], secrets_files: Iterable[str | os.PathLike] | None,
               secrets: Mapping[str, Any] | None) -> tuple[list[tuple[str, dict]], list[str]]:
    """``(files, read)``: each file's contents with where it is, and the paths read, in order (``secrets``: the
    already-read contents instead). Raises :class:`InvalidSettings` naming every file that cannot be read."""
    files: list[tuple[str, dict]] = []
    read: list[str] = []
    problems: list[Text] = []
    details: list[str] = []
    if secrets is not None:
        files.append(("secrets", dict(secrets)))
    else:
        if str(env.get("WPP_SECRETS_FILE") or "").strip():
            paths = [Path(str(env["WPP_SECRETS_FILE"]).strip()).expanduser()]
        elif secrets_files is not None:
            paths = [Path(p).expanduser() for p in secrets_files]
        else:
            paths = default_secrets_files()
        for path in paths:
            data, problem, detail = _read_secrets_path(path)
            if problem is not None:
                problems.append(problem)
                details.append(detail)
            elif data is not None:
                files.append((str(path), data))
                read.append(str(path))
    if problems:
        raise InvalidSettings(problems, detail="\n".join(details))
    return files, read


def _toml_problem(path: Path, exc: tomllib.TOMLDecodeError) -> tuple[Text, str]:
    text = str(exc)
    what = getattr(exc, "msg", None)
    line, column = getattr(exc, "lineno", None), getattr(exc, "colno", None)
    m = re.match(r"(?s)(.*?)\s*\(at line (\d+), column (\d+)\)\s*$", text)
    if m:
        what, line, column = m.group(1), int(m.group(2)), int(m.group(3))
    elif text.endswith("(at end of document)"):
        what = text[: -len("(at end of document)")].strip()
    what = what or text
    detail = f"{path}: {text}"
    if line:
        return N_("The settings file {file} cannot be read: line {line}, column {column}: {problem}.",
                  file=str(path), line=line, column=column or 1, problem=what), detail
    return N_("The settings file {file} cannot be read: at the end of the file: {problem}.",
              file=str(path), problem=what), detail


def _read_secrets_path(path: Path) -> tuple[dict | None, Text | None, str]:
    """``(data, problem, detail)``; ``(None, None, "")`` when the path does not exist (skipped, as Streamlit does)."""
    try:
        if path.is_dir():
            return _read_secrets_dir(path), None, ""
        with path.open("rb") as fh:
            return tomllib.load(fh), None, ""
    except FileNotFoundError:
        return None, None, ""
    except tomllib.TOMLDecodeError as exc:
        problem, detail = _toml_problem(path, exc)
        return None, problem, detail
    except UnicodeDecodeError as exc:
        return None, N_("The settings file {file} cannot be read: it is not UTF-8 text (byte {position}).",
                        file=str(path), position=exc.start + 1), f"{path}: {exc}"
    except OSError as exc:
        return None, N_("The settings file {file} cannot be read: {problem}.",
                        file=str(path), problem=exc.strerror or type(exc).__name__), f"{path}: {exc}"


def _read_secrets_dir(path: Path) -> dict:
    """Kubernetes-style secrets, as Streamlit reads them: ``<dir>/<name>/<file>`` (one file: a value)."""
    out: dict[str, Any] = {}
    for sub in sorted(path.iterdir()):
        if not sub.is_dir():
            continue
        values = {f.name: f.read_text(encoding="utf-8").strip() for f in sorted(sub.iterdir()) if f.is_file()}
        out[sub.name] = next(iter(values.values())) if len(values) == 1 else values
    return out


# =================================================================================================================
# The layers of single values
# =================================================================================================================
@dataclass
class Found:
    """Every value the loader found, layer by layer, and where each was set (names are the settings' upper-case
    names, e.g. ``WPP_POLL_SECONDS``)."""

    #: the secrets files' contents, in reading order: ``(where, contents)``
    files: list[tuple[str, dict]]
    #: the secrets files read, in order
    read: list[str]
    #: the files' top-level entries, a later file replacing an earlier file's (like Streamlit), and which file
    merged: dict[str, Any] = field(default_factory=dict)
    file_of: dict[str, str] = field(default_factory=dict)
    #: values given as keyword arguments; the tables (``staff``, ``auth``) given so
    arguments: dict[str, Any] = field(default_factory=dict)
    table_arguments: dict[str, Any] = field(default_factory=dict)
    #: values from the environment, and from the files (the last file first)
    environment: dict[str, Any] = field(default_factory=dict)
    file_layers: list[dict[str, Any]] = field(default_factory=list)
    #: where each setting's value was set: name -> "environment" | a file's path | "arguments"
    provenance: dict[str, str] = field(default_factory=dict)
    #: each setting's value as given, the strongest layer winning
    raw: dict[str, Any] = field(default_factory=dict)
    #: names that are no settings (translatable texts)
    warnings: list[Text] = field(default_factory=list)

    def table(self, name: str) -> tuple[Any, str]:
        """A table (``staff``, ``auth``) and where it was set: given as an argument, else the files' (None, "")."""
        given = self.table_arguments.get(name)
        if given is not None:
            return given, ARGUMENTS
        key = _key(self.merged, name)
        return (None, "") if key is None else (self.merged[key], self.file_of.get(key, ""))

    def where(self, name: str) -> Text | str:
        """Where the setting ``name`` was set, in words (a value given to ``Settings(...)`` alone: the arguments)."""
        return _where(self.provenance.get(name, ARGUMENTS))


def collect(files: list[tuple[str, dict]], read: list[str], env: Mapping[str, str],
            overrides: Mapping[str, Any]) -> Found:
    """The layers of single values, strongest first (see the module docstring); TypeError for an argument that
    names no setting."""
    found = Found(files, read)
    _arguments(found, overrides)
    for source, data in files:
        for key, value in data.items():
            found.merged[key] = value  # shallow, like Streamlit: a later file replaces a whole entry
            found.file_of[key] = source
    env_where = _environment(found, env)
    _file_layers(found)
    for alias in found.environment:
        found.provenance[alias] = env_where[alias]
    for alias in found.arguments:
        found.provenance[alias] = ARGUMENTS
    for layer in (*reversed(found.file_layers), found.environment, found.arguments):
        found.raw.update(layer)
    return found


def _arguments(found: Found, overrides: Mapping[str, Any]) -> None:
    overrides = dict(overrides)
    for name in ("staff", "auth"):
        found.table_arguments[name] = overrides.pop(name, None)
    for key, value in overrides.items():
        alias = key.upper() if key.upper() in ALIASES else next(
            (a for a, f in ALIASES.items() if f == key), None)
        if alias is None:
            raise TypeError(f"load_settings() got an unknown setting {key!r}")
        if value is not None and not (isinstance(value, str) and not value.strip()):
            found.arguments[alias] = value


def _environment(found: Found, env: Mapping[str, str]) -> dict[str, str]:
    """The environment's layer; returns where each of its values was set (a Streamlit copy: the file)."""
    env_where: dict[str, str] = {}
    merged = found.merged
    for key, value in env.items():
        upper = str(key).upper()
        if upper in ALIASES and present(value):
            found.environment[upper] = value
            # Streamlit copies a secrets file's top-level values into os.environ when it starts; such a copy is
            # the file's value, not the environment's.
            same = [k for k in merged if str(k).upper() == upper and str(merged[k]) == str(value)]
            env_where[upper] = found.file_of[same[0]] if same else ENVIRONMENT
        elif upper.startswith("WPP_") and upper not in LOADER_NAMES:
            if not any(str(k).upper() == upper and str(v) == str(value) for k, v in merged.items()):
                found.warnings.append(_unknown(upper, ENVIRONMENT))  # (a Streamlit copy of a file's name: the file's)
    return env_where


def _file_layers(found: Found) -> None:
    """One layer per file, the last file first; each value only where it is the file the merge kept."""
    for source, data in reversed(found.files):
        layer: dict[str, Any] = {}
        for key, value in data.items():
            upper = str(key).upper()
            if upper in ALIASES:
                if present(value) and found.file_of.get(key) == source:
                    layer[upper] = value
                    found.provenance.setdefault(upper, source)
            elif upper.startswith("WPP_") and upper not in LOADER_NAMES and found.file_of.get(key) == source:
                found.warnings.append(_unknown(upper, source))
        found.file_layers.append(layer)


def _key(data: Mapping[str, Any], name: str) -> str | None:
    """The key of ``data`` that is ``name`` in any case (the last one)."""
    found = [k for k in data if str(k).lower() == name]
    return found[-1] if found else None


def _unknown(name: str, source: str) -> Text:
    if name in RETIRED:
        return N_("{name} (in {source}) is no longer used. {instead}", name=name, source=_where(source),
                  instead=RETIRED[name])
    close = difflib.get_close_matches(name, list(ALIASES), n=1, cutoff=0.8)
    if close:
        return N_("{name} (in {source}) is not a setting the console knows, so it is ignored. Did you mean "
                  "{suggestion}?", name=name, source=_where(source), suggestion=close[0])
    return N_("{name} (in {source}) is not a setting the console knows, so it is ignored.", name=name,
              source=_where(source))
