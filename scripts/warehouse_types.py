"""Column types a warehouse loader gives each stream's schema, by the loader's own code.

Runs inside the loader's virtualenv (as Meltano installs it), offline:

    .venv-target-snowflake/bin/python scripts/warehouse_types.py snowflake schemas.json
    .venv-target-bigquery/bin/python scripts/warehouse_types.py bigquery schemas.json

``schemas.json`` maps stream names to JSON schemas; the output maps stream names to
columns, each ``{"type": ..., "mode": ..., "fields": [nested column names]}``.
"""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any


def snowflake(schema: dict[str, Any]) -> dict[str, Any]:
    from target_snowflake.connector import SnowflakeConnector

    connector = SnowflakeConnector(
        config={"account": "offline", "user": "offline", "database": "offline", "password": "-"}
    )
    return {
        name: {"type": type(connector.to_sql_type(spec)).__name__, "mode": None, "fields": []}
        for name, spec in schema["properties"].items()
    }


def bigquery(schema: dict[str, Any]) -> dict[str, Any]:
    warnings.simplefilter("ignore")
    from target_bigquery.core import SchemaTranslator

    def names(field: Any) -> list[str]:
        return [n for sub in field.fields for n in (sub.name, *names(sub))]

    return {
        field.name: {"type": field.field_type, "mode": field.mode, "fields": names(field)}
        for field in SchemaTranslator(schema, transforms={}).translated_schema
    }


if __name__ == "__main__":
    mapper = {"snowflake": snowflake, "bigquery": bigquery}[sys.argv[1]]
    with open(sys.argv[2]) as source:
        streams = json.load(source)
    print(json.dumps({name: mapper(schema) for name, schema in streams.items()}))
