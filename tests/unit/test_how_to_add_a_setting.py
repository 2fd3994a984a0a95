"""docs/architecture.md's "How to add a setting", done for real: its example field, put under its group's heading in
a copy of wpp/config/settings.py and nothing else changed, is read from the environment and from a secrets file,
stops the console with a line naming it when wrong, is suggested for a near-miss name, and shows on the Settings
page. If another place had to learn the setting too, or the doc's example did not work, this fails."""
from __future__ import annotations

import importlib.util
import re
import shutil
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

import wpp.config

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"


def _example() -> tuple[str, str]:
    """The doc's example: the group heading it goes under, and the field's lines (as they sit in the class)."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## How to add a setting", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```python\n(.*?)\n\s*```", section, re.S)
    assert block, "docs/architecture.md: 'How to add a setting' has no python example"
    lines = textwrap.dedent(block.group(1)).splitlines()
    heading, field = lines[0], lines[1:]
    return heading, "\n".join(textwrap.indent(line, "    ") for line in field)


def _config_with_the_example(tmp_path: Path):
    """A copy of the wpp.config package with the doc's step 1 done, imported as a package of its own."""
    heading, field = _example()
    copy = tmp_path / "config"
    shutil.copytree(Path(wpp.config.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    settings = copy / "settings.py"
    source = settings.read_text(encoding="utf-8")
    at = "\n    " + heading.strip() + "\n"
    assert at in source, f"the doc's group heading is not in wpp/config/settings.py: {heading.strip()!r}"
    settings.write_text(source.replace(at, at + field + "\n", 1), encoding="utf-8")
    name = f"wpp._howto_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, copy / "__init__.py", submodule_search_locations=[str(copy)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return name, module


@pytest.fixture()
def config(tmp_path):
    name, module = _config_with_the_example(tmp_path)
    yield module
    for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
        del sys.modules[key]


def test_the_docs_steps_to_add_a_setting_are_enough(config, tmp_path):
    shown = dict((str(label), value) for label, value in config.load_settings(env={}, secrets_files=[]).describe())
    assert shown["Where the staff handbook is"] == "not set"

    # the environment, checked by its value check (a trailing slash dropped), and where it came from
    cfg = config.load_settings(env={"WPP_HANDBOOK_URL": "https://school.example/handbook/"}, secrets_files=[])
    assert cfg.handbook_url == "https://school.example/handbook"
    assert cfg.provenance["WPP_HANDBOOK_URL"] == "environment"
    rows = dict((str(label), value) for label, value in cfg.describe())
    assert rows["Where the staff handbook is"] == "https://school.example/handbook"
    assert "WPP_HANDBOOK_URL='https://school.example/handbook'" in repr(cfg)

    # a secrets file
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('WPP_HANDBOOK_URL = "https://wiki.school.example/staff"\n', encoding="utf-8")
    cfg = config.load_settings(env={}, secrets_files=[secrets])
    assert cfg.handbook_url == "https://wiki.school.example/staff"
    assert cfg.provenance["WPP_HANDBOOK_URL"] == str(secrets)

    # a wrong value stops the console with one line naming the setting, where it was set and the rule
    with pytest.raises(config.InvalidSettings) as caught:
        config.load_settings(env={"WPP_HANDBOOK_URL": "handbook on the shared drive"}, secrets_files=[])
    assert [str(p) for p in caught.value.problems] == [
        "WPP_HANDBOOK_URL is “handbook on the shared drive” (set in the environment), but it must be a web address "
        "that starts with http:// or https:// and names a host, e.g. https://school.example/handbook."]

    # a near-miss name is not an error: a warning that suggests the setting
    cfg = config.load_settings(env={"WPP_HANDBOK_URL": "https://school.example/h"}, secrets_files=[])
    assert cfg.handbook_url is None
    assert any("Did you mean WPP_HANDBOOK_URL?" in str(w) for w in cfg.warnings)

    # the real package does not know it (the copy above is what made the difference)
    real = wpp.config.load_settings(env={"WPP_HANDBOOK_URL": "https://school.example/h"}, secrets_files=[])
    assert not hasattr(real, "handbook_url")
    assert any("WPP_HANDBOOK_URL" in str(w) and "ignored" in str(w) for w in real.warnings)
