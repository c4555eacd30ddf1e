# Sourced by scripts/test: dbt with the adapters the dbt package's tests use (PostgreSQL and
# DuckDB build it; Snowflake and BigQuery parse it, offline), in its own virtualenv.
# dbt-core 1.12 cannot be installed here (its experimental parser's build downloads a wheel).
if [ ! -x .venv-dbt/bin/dbt ]; then
  "$PYTHON" -m venv .venv-dbt
  .venv/bin/uv pip install --quiet --python .venv-dbt/bin/python \
    "dbt-core>=1.10,<1.12" "dbt-postgres>=1.9,<1.12" "dbt-duckdb>=1.9,<1.12" "duckdb==1.2.2" \
    "dbt-snowflake>=1.9,<1.12" "dbt-bigquery>=1.9,<1.12"
fi
export SKIPCALL_DBT="$PWD/.venv-dbt/bin/dbt"
