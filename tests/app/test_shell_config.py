""".streamlit/config.toml: nothing leaves the machine, a minimal toolbar, and only options Streamlit knows."""
from __future__ import annotations

import tomllib

import pytest
import streamlit as st

from .conftest import ROOT

CONFIG = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))


def test_nothing_leaves_the_machine_and_staff_see_no_developer_tools():
    assert CONFIG["browser"]["gatherUsageStats"] is False
    assert CONFIG["client"]["toolbarMode"] == "minimal"
    assert CONFIG["client"]["showErrorDetails"] == "none"
    assert CONFIG["client"]["showErrorLinks"] is False
    assert CONFIG["server"]["enableAgentApi"] is False
    assert CONFIG["server"]["address"] == "127.0.0.1"


@pytest.mark.parametrize("option", [f"{section}.{name}" for section, table in CONFIG.items() for name in table])
def test_every_option_is_one_streamlit_knows(option):
    st.get_option(option)  # raises for an unknown option
