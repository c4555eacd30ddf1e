"""Write what describes the tap to Meltano and to readers from the tap itself.

    python scripts/hub_definition.py

rewrites, from the tap's settings and its list of streams, the Meltano Hub definition
(meltano-hub/tap-skipcall.yml), the tap-skipcall block of meltano.yml (settings,
capabilities, the default `select`) and the settings and costs tables of README.md. Run it after
changing a setting or a stream; tests fail until you do.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from doc_blocks import with_block

from tap_skipcall.costs import duration
from tap_skipcall.settings import SETTINGS
from tap_skipcall.streams import STREAM_TYPES

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "meltano-hub" / "tap-skipcall.yml"
MELTANO_YML = ROOT / "meltano.yml"
README = ROOT / "README.md"
COSTS = ROOT / "docs" / "costs.md"
CAPABILITIES = [
    "about",
    "activate-version",
    "batch",
    "catalog",
    "discover",
    "schema-flattening",
    "state",
    "stream-maps",
    "structured-logging",
    "test",
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
    {
        "name": "batch_config",
        "kind": "object",
        "label": "Batch Config",
        "description": "Write records to BATCH files (jsonl or parquet, local, S3 or GCS) "
        "instead of RECORD messages: see docs/warehouses.md, Loading at scale.",
    },
]
LABELS = {"api_key": "API Key", "api_url": "API URL", "workspace_ids": "Workspace IDs"}


def kind_of(spec: dict[str, Any]) -> str:
    """Meltano's setting kind for a JSON schema property."""
    types = spec.get("type", [])
    types = types if isinstance(types, list) else [types]
    if spec.get("secret") and "string" in types:
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


def default_select() -> list[str]:
    """What `--discover` selects: Meltano would otherwise extract every stream."""
    return [f"{t.name}.*" for t in STREAM_TYPES if t.selected_by_default]


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
        "settings_group_validation": [["api_key"], ["accounts"]],
        "settings": settings(),
        "select": default_select(),
        "keywords": ["meltano_sdk", "skipcall", "calls", "sales", "telephony"],
        "maintenance_status": "active",
        "quality": "silver",
        "supported_python_versions": ["3.11", "3.12", "3.13", "3.14"],
        "settings_preamble": "",
        "usage": "",
        "next_steps": "",
    }


def render() -> str:
    """The YAML text of the definition."""
    return yaml.safe_dump(definition(), sort_keys=False, allow_unicode=True, width=100)


def meltano_yml() -> str:
    """meltano.yml with the tap-skipcall block's generated keys replaced."""
    project = yaml.safe_load(MELTANO_YML.read_text())
    tap = next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-skipcall")
    hub = definition()
    for key in ("capabilities", "settings_group_validation", "settings", "select"):
        tap[key] = hub[key]
    return yaml.safe_dump(project, sort_keys=False, allow_unicode=True, width=100)


def settings_table() -> str:
    """The README's settings table (the same rows as `--about --format markdown`)."""
    rows = [
        "| Setting | Required | Default | Description |",
        "|:--------|:--------:|:-------:|:------------|",
    ]
    schema = SETTINGS.to_dict()
    for name, spec in schema["properties"].items():
        required = name in schema.get("required", [])
        description = spec.get("description", "").replace("\n", " ")
        rows.append(f"| {name} | {required} | {spec.get('default')} | {description} |")
    return "\n".join(rows)


#: Requests per call of each per-call stream, cumulatively (the simulator's mix for the
#: shares: 16 % of calls have a transcription, one distinct contact per 4 calls). The default
#: streams' share is what a first sync of 50,000 simulated calls made (679 requests: 500 pages
#: of calls, 174 of the contacts of its 9 sequences, 5 of users, workspaces and members, as
#: `tap-skipcall --test` estimates it too); an account's own is what `--test` says.
COST_ROWS = [
    ("default streams (⌈N/100⌉ + sequence contacts: ≈ 0.0136 N in the simulator)", 0.0136),
    ("+ `call_recordings` (+ N)", 1.0136),
    ("+ `call_transcriptions` (+ ≈ 0.16 N)", 1.1736),
    ("+ `contacts` (+ ≈ 0.25 N distinct contacts)", 1.4236),
]


def plan_table(first_column: str, rows: list[tuple[str, float]]) -> str:
    """Times on both plans for 10,000 and 100,000 calls, from requests per call."""
    lines = [
        f"| {first_column} | 10,000 calls at 100/min | at 1,000/min | 100,000 calls at 100/min "
        "| at 1,000/min |",
        "|---|--:|--:|--:|--:|",
    ]
    for label, per_call in rows:
        cells = [
            duration(calls * per_call / limit)
            for calls in (10_000, 100_000)
            for limit in (100, 1_000)
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


#: What keeping the warehouse fresh costs per run, as requests for N calls (see README):
#: the reconciliation reads the list and two head passes; the contacts walk reads the list
#: once a day (daily syncs, 7-day period) and a sixth of the distinct contacts, a quarter as
#: many as calls in the simulator's mix (scripts/benchmark.py --days measures it).
FRESHNESS_ROWS = [
    ("reconciliation, once every `deletions_within_days` (⌈N/100⌉ + 2)", 0.01),
    (
        "contacts walk, once a day (⌈N/100⌉ pages + C/6 contacts; C distinct contacts, "
        "≈ N/4 in the simulator)",
        1 / 100 + 1 / 24,
    ),
]


def readme() -> str:
    """README.md with its generated block rewritten: the settings table."""
    return with_block(README.read_text(), "settings table", settings_table())


def costs_page() -> str:
    """docs/costs.md with its generated blocks rewritten: costs, freshness costs."""
    text = with_block(COSTS.read_text(), "costs table", plan_table("Selected", COST_ROWS))
    return with_block(text, "freshness costs", plan_table("Per run", FRESHNESS_ROWS))


if __name__ == "__main__":
    TARGET.write_text(render())
    MELTANO_YML.write_text(meltano_yml())
    README.write_text(readme())
    COSTS.write_text(costs_page())
    print(
        "wrote meltano-hub/tap-skipcall.yml, meltano.yml (tap-skipcall), README.md (settings) "
        "and docs/costs.md (costs)"
    )
