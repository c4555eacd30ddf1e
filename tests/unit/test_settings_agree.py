"""The settings in --about, the README table and meltano.yml must say the same thing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tap_skipcall.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
OWN = SETTINGS.to_dict()["properties"]
OWN_SETTINGS = list(OWN)


def about(fmt: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "tap_skipcall", "--about", "--format", fmt],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def table_rows(markdown: str) -> dict[str, str]:
    rows = {}
    for line in markdown.splitlines():
        match = re.match(r"\| (\w+) \|", line)
        if match and match.group(1) in OWN_SETTINGS:
            rows[match.group(1)] = line
    return rows


@pytest.mark.slow
def test_readme_settings_table_matches_about_markdown():
    assert table_rows((ROOT / "README.md").read_text()) == table_rows(about("markdown"))
    assert list(table_rows(about("markdown"))) == OWN_SETTINGS


@pytest.mark.slow
def test_about_json_lists_every_setting_and_marks_the_key_secret():
    settings = json.loads(about("json"))["settings"]["properties"]
    assert set(OWN_SETTINGS) <= set(settings)
    assert settings["api_key"]["secret"] is True
    assert settings["accounts"]["secret"] is True
    # `api_key` or `accounts`: neither is required alone (the tap's own check says which)
    assert "required" not in json.loads(about("json"))["settings"]


def test_meltano_yml_declares_the_same_settings():
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    tap = next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-skipcall")
    declared = {s["name"]: s for s in tap["settings"]}
    assert set(OWN_SETTINGS) <= set(declared)
    assert declared["api_key"]["sensitive"] is True
    assert [name for name, s in declared.items() if s.get("sensitive")] == [
        "api_key",
        "accounts",
        "privacy_key",
    ]
    assert declared["accounts"]["kind"] == "array"  # Meltano parses it from .env as JSON
    assert tap["settings_group_validation"] == [["api_key"], ["accounts"]]
    for name in OWN_SETTINGS:
        default = OWN[name].get("default")
        assert declared[name].get("value") == default, name
    assert set(tap["capabilities"]) >= {
        "catalog",
        "discover",
        "state",
        "about",
        "stream-maps",
        "schema-flattening",
    }
