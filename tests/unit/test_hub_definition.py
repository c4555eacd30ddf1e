"""The Meltano Hub definition: valid against the Hub's schema, and in agreement with the tap."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource

ROOT = Path(__file__).resolve().parents[2]
HUB = ROOT / "meltano-hub"
sys.path.insert(0, str(ROOT / "scripts"))
import hub_definition  # noqa: E402


def hub_validator() -> jsonschema.Draft7Validator:
    """Hub's own check: every schema in a registry keyed by its $id, Draft 7."""
    resources = []
    for path in (HUB / "schema").rglob("*.schema.json"):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    registry = Registry().with_resources(resources)
    entry = json.loads((HUB / "schema/plugin_definitions/extractors.schema.json").read_text())
    return jsonschema.Draft7Validator(entry, registry=registry)


def definition() -> dict:
    return yaml.safe_load((HUB / "tap-skipcall.yml").read_text())


def test_generated_files_are_up_to_date_with_the_tap():
    """The Hub file, meltano.yml's tap block and the README table come from the tap."""
    fix = "run: python scripts/hub_definition.py"
    assert (HUB / "tap-skipcall.yml").read_text() == hub_definition.render(), fix
    assert (ROOT / "meltano.yml").read_text() == hub_definition.meltano_yml(), fix
    assert (ROOT / "README.md").read_text() == hub_definition.readme(), fix
    assert (ROOT / "docs/costs.md").read_text() == hub_definition.costs_page(), fix


def test_meltano_selects_by_default_exactly_what_discovery_selects():
    from tap_skipcall.streams import STREAM_TYPES

    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    tap = next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-skipcall")
    expected = [f"{t.name}.*" for t in STREAM_TYPES if t.selected_by_default]
    assert tap["select"] == definition()["select"] == expected
    assert "activate-version" in tap["capabilities"]


def test_definition_satisfies_the_hub_schema():
    errors = [e.message for e in hub_validator().iter_errors(definition())]
    assert errors == []


def test_the_hub_schema_check_can_fail():
    broken = {**definition(), "quality": "platinum", "unknown_key": 1}
    broken["settings"] = [{"name": "x", "kind": "not-a-kind"}]
    assert len(list(hub_validator().iter_errors(broken))) >= 3


@pytest.mark.slow
def test_definition_meltano_yml_and_about_agree():
    hub = {s["name"]: s for s in definition()["settings"]}
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    tap = next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-skipcall")
    assert {s["name"]: s for s in tap["settings"]} == hub
    assert tap["capabilities"] == definition()["capabilities"]
    assert tap["settings_group_validation"] == definition()["settings_group_validation"]
    about = json.loads(
        subprocess.run(
            [sys.executable, "-m", "tap_skipcall", "--about", "--format", "json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    for name, spec in about["settings"]["properties"].items():
        if name in hub_definition.SETTINGS.to_dict()["properties"]:
            assert hub[name]["description"] == spec["description"]
            assert hub[name].get("value") == spec.get("default")
            assert hub[name].get("sensitive", False) == spec.get("secret", False)
    assert set(hub) >= set(hub_definition.SETTINGS.to_dict()["properties"])
    assert set(about["capabilities"]) >= set(definition()["capabilities"])
