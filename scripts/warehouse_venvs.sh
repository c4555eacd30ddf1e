# Sourced by .ci/run: the warehouse loaders, each in its own virtualenv as Meltano installs
# them, for the schema contract test (tests/test_warehouse_contract.py). No account needed.
if [ ! -x .venv-target-snowflake/bin/target-snowflake ]; then
  "$PYTHON" -m venv .venv-target-snowflake
  .venv/bin/uv pip install --quiet --python .venv-target-snowflake/bin/python \
    "meltanolabs-target-snowflake==0.20.4"
fi
if [ ! -x .venv-target-bigquery/bin/target-bigquery ]; then
  "$PYTHON" -m venv .venv-target-bigquery
  .venv/bin/uv pip install --quiet --python .venv-target-bigquery/bin/python \
    "z3-target-bigquery==0.7.2" "setuptools<81"
fi
export SKIPCALL_SNOWFLAKE_PYTHON="$PWD/.venv-target-snowflake/bin/python"
export SKIPCALL_BIGQUERY_PYTHON="$PWD/.venv-target-bigquery/bin/python"
