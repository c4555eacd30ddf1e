"""Write meltano-hub/tap-skipcall.yml from the tap's own settings: one source of truth.

Run `python scripts/hub_definition.py` after changing a setting; a test fails until you do.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tap_skipcall.tap import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "meltano-hub" / "tap-skipcall.yml"
CAPABILITIES = [
    "about",
    "batch",
    "catalog",
    "discover",
    "schema-flattening",
    "state",
    "stream-maps",
    "structured-logging",
]
SDK_SETTINGS = [
    {
        "name": "stream_maps",
        "kind": "object",
        "label": "Stream Maps",
        "description": "Config object for stream maps capability. For more information check out "
        "[Stream Maps](https://sdk.meltano.com/en/latest/stream_maps.html).",
    },
    {
        "name": "stream_map_config",
        "kind": "object",
        "label": "User Stream Map Configuration",
        "description": "User-defined config values to be used within map expressions.",
    },
    {
        "name": "flattening_enabled",
        "kind": "boolean",
        "label": "Enable Schema Flattening",
        "description": "'True' to enable schema flattening and automatically expand nested "
        "properties.",
    },
    {
        "name": "flattening_max_depth",
        "kind": "integer",
        "label": "Max Flattening Depth",
        "description": "The max depth to flatten schemas.",
    },
]
LABELS = {"api_key": "API Key", "api_url": "API URL", "workspace_ids": "Workspace IDs"}


def kind_of(spec: dict[str, Any]) -> str:
    """Meltano's setting kind for a JSON schema property."""
    types = spec.get("type", [])
    types = types if isinstance(types, list) else [types]
    if spec.get("secret"):
        return "password"
    if "enum" in spec:
        return "options"
    if spec.get("format") in {"date-time", "date"}:
        return "date_iso8601"
    for json_type, kind in (
        ("integer", "integer"),
        ("number", "decimal"),
        ("boolean", "boolean"),
        ("array", "array"),
        ("object", "object"),
    ):
        if json_type in types:
            return kind
    return "string"


def settings() -> list[dict[str, Any]]:
    """Every tap setting in Meltano's terms, then the SDK's stream-map and flattening ones."""
    result = []
    for name, spec in SETTINGS.to_dict()["properties"].items():
        entry: dict[str, Any] = {
            "name": name,
            "kind": kind_of(spec),
            "label": LABELS.get(name, name.replace("_", " ").title()),
            "description": spec["description"],
        }
        if spec.get("secret"):
            entry["sensitive"] = True
        if "default" in spec:
            entry["value"] = spec["default"]
        if "enum" in spec:
            entry["options"] = [
                {"label": str(v).replace("_", " ").title(), "value": v} for v in spec["enum"]
            ]
        result.append(entry)
    return result + SDK_SETTINGS


def definition() -> dict[str, Any]:
    """The whole plugin definition, in Meltano Hub's format."""
    return {
        "name": "tap-skipcall",
        "namespace": "tap_skipcall",
        "variant": "skipcall-community",
        "label": "Skipcall",
        "description": "Sales dialer: calls, recordings, transcriptions, contacts",
        "logo_url": "/assets/logos/extractors/skipcall.png",
        "domain_url": "https://docs.skipcall.app",
        "repo": "https://github.com/skipcall-community/tap-skipcall",
        "pip_url": "tap-skipcall",
        "executable": "tap-skipcall",
        "capabilities": CAPABILITIES,
        "settings_group_validation": [["api_key"]],
        "settings": settings(),
        "keywords": ["meltano_sdk", "skipcall", "calls", "sales", "telephony"],
        "maintenance_status": "active",
        "quality": "silver",
        "supported_python_versions": ["3.10", "3.11", "3.12", "3.13"],
        "settings_preamble": "",
        "usage": "",
        "next_steps": "",
    }


def render() -> str:
    """The YAML text of the definition."""
    return yaml.safe_dump(definition(), sort_keys=False, allow_unicode=True, width=100)


if __name__ == "__main__":
    TARGET.write_text(render())
    print(f"wrote {TARGET.relative_to(ROOT)}")
