"""What Snowflake and BigQuery make of every stream's schema, by their loaders' own code.

target-snowflake (MeltanoLabs) and target-bigquery (z3z1ma) are installed each in its own
virtualenv (scripts/warehouse_venvs.sh, as Meltano installs them) and map every schema the
tap discovers, offline: no account is needed for the type mapping.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tap_skipcall.streams import STREAM_TYPES
from tap_skipcall.tap import TapSkipcall

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def loader_python(name: str) -> str:
    python = os.environ.get(f"SKIPCALL_{name.upper()}_PYTHON") or str(
        ROOT / f".venv-target-{name}/bin/python"
    )
    if not Path(python).exists():
        if os.environ.get("SKIPCALL_REQUIRE_E2E") == "1":
            pytest.fail(f"target-{name} is not installed: source scripts/warehouse_venvs.sh")
        pytest.skip(f"target-{name} is not installed: source scripts/warehouse_venvs.sh")
    return python


@pytest.fixture(scope="module")
def schemas(tmp_path_factory) -> dict[str, dict]:
    catalog = TapSkipcall(config={"api_key": "sk_test_x"}, parse_env_config=False).catalog_dict
    return {entry["tap_stream_id"]: entry["schema"] for entry in catalog["streams"]}


def columns(warehouse: str, schemas: dict[str, dict], tmp_path: Path) -> dict[str, dict]:
    path = tmp_path / "schemas.json"
    path.write_text(json.dumps(schemas))
    completed = subprocess.run(
        [loader_python(warehouse), str(ROOT / "scripts/warehouse_types.py"), warehouse, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(completed.stdout)


def kind(spec: dict) -> str:
    """What a warehouse user expects of a property, from its JSON schema."""
    types = spec.get("type", [])
    types = {types} if isinstance(types, str) else set(types)
    types.discard("null")
    if spec.get("format") == "date-time":
        return "timestamp"
    if spec.get("format") == "date":
        return "date"
    if types == {"string"}:
        return "string"
    if types == {"integer"}:
        return "integer"
    if types == {"number"}:
        return "number"
    if types == {"boolean"}:
        return "boolean"
    if types == {"array"}:
        return "array"
    return "object"


SNOWFLAKE = {
    "timestamp": {"TIMESTAMP_NTZ", "TIMESTAMP_TZ", "TIMESTAMP_LTZ"},
    "date": {"DATE"},
    "string": {"VARCHAR"},
    "integer": {"NUMBER"},
    "number": {"FLOAT", "DOUBLE"},
    "boolean": {"BOOLEAN"},
    "array": {"VARIANT", "ARRAY"},
    "object": {"VARIANT", "OBJECT"},
}
BIGQUERY = {
    "timestamp": {"TIMESTAMP"},
    "date": {"DATE"},
    "string": {"STRING"},
    "integer": {"INTEGER"},
    "number": {"FLOAT", "NUMERIC"},
    "boolean": {"BOOLEAN"},
    "object": {"RECORD", "JSON"},
}


@pytest.mark.parametrize("warehouse", ["snowflake", "bigquery"])
def test_every_column_lands_as_a_warehouse_user_expects(warehouse, schemas, tmp_path):
    mapped = columns(warehouse, schemas, tmp_path)
    assert set(mapped) == {stream.name for stream in STREAM_TYPES}
    wrong = []
    for stream, schema in schemas.items():
        for name, spec in schema["properties"].items():
            column = mapped[stream][name]
            expected = kind(spec)
            if warehouse == "snowflake":
                ok = column["type"] in SNOWFLAKE[expected]
            elif expected == "array":
                ok = column["mode"] == "REPEATED"  # arrays stay arrays
            else:
                ok = column["type"] in BIGQUERY[expected] and column["mode"] != "REPEATED"
            if not ok:
                wrong.append((stream, name, expected, column["type"], column["mode"]))
    assert wrong == []
    # The columns a warehouse user cares most about, spelled out.
    calls = mapped["calls"]
    timestamp = SNOWFLAKE["timestamp"] if warehouse == "snowflake" else BIGQUERY["timestamp"]
    assert {calls[c]["type"] for c in ("createdAt", "updatedAt", "startedAt", "deletedAt")} <= (
        timestamp
    )
    assert calls["extra"]["type"] in {"VARIANT", "JSON"}
    assert calls["id"]["type"] in {"VARCHAR", "STRING"}


@pytest.mark.parametrize("warehouse", ["snowflake", "bigquery"])
def test_every_column_name_is_a_plain_identifier(warehouse, schemas, tmp_path):
    mapped = columns(warehouse, schemas, tmp_path)
    names = {
        (stream, name)
        for stream, cols in mapped.items()
        for column, spec in cols.items()
        for name in (column, *spec["fields"])
    }
    assert [n for n in names if not IDENTIFIER.match(n[1])] == []


def test_every_stream_declares_primary_keys_the_schema_holds(schemas):
    for stream_type in STREAM_TYPES:
        keys = stream_type.primary_keys
        assert keys, stream_type.name
        properties = schemas[stream_type.name]["properties"]
        assert set(keys) <= set(properties), stream_type.name
        for key in keys:
            assert "null" not in properties[key].get("type", []), (stream_type.name, key)
