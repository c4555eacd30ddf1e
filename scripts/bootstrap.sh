# Sourced by scripts/demo and scripts/test: make .venv (tap + dev tools) and
# .venv-meltano (Meltano, kept apart so its pins never fight the tap's) when missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
# Every virtualenv uv fills (these, and Meltano's for its plugins) gets its bytecode compiled
# at install: where PYTHONDONTWRITEBYTECODE is set, as on CI, Python would otherwise compile
# Meltano, the loaders and dbt from source at every start, 1 to 3 s of CPU a command.
export UV_COMPILE_BYTECODE=1
if [ ! -x .venv/bin/uv ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
fi
.venv/bin/uv pip install --quiet --compile-bytecode --python .venv/bin/python -e ".[dev]"
if [ ! -x .venv-meltano/bin/meltano ]; then
  "$PYTHON" -m venv .venv-meltano
  .venv/bin/uv pip install --quiet --python .venv-meltano/bin/python "meltano>=3.7,<5"
fi
export MELTANO_BIN="$ROOT/.venv-meltano/bin/meltano"
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false
