"""Every command and environment variable the README gives is run by a test named here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ("meltano ", "tap-skipcall ", "scripts/", "python -m ", "pip install ", "pipx install ")

NEWCOMER = "tests/end_to_end/test_newcomer.py::"
FRESH_PROJECT = (
    NEWCOMER + "test_a_fresh_meltano_project_from_the_hub_definition_extracts_the_default_streams"
)
WITHOUT_MELTANO = NEWCOMER + "test_the_readme_commands_without_meltano_work_as_written"
CLI = "tests/simulator/test_cli.py::"
DBT_JOB = (
    "tests/end_to_end/test_dbt_package.py::"
    "test_the_meltano_job_builds_models_that_match_the_simulator"
)
ENVIRONMENT = CLI + "test_the_readme_environment_forms_work_as_written"

#: What the README says to run, by how it starts, and the test that runs it as written.
EXERCISED = {
    "scripts/demo": NEWCOMER + "test_the_demo_runs_with_its_output_sent_to_a_file",
    "scripts/test -m": CLI + "test_the_readme_test_commands_collect_the_tests",
    "scripts/test": ".ci/run",  # CI runs it whole: the README's test command
    "meltano add --plugin-type extractor": FRESH_PROJECT,
    "meltano config set tap-skipcall": FRESH_PROJECT,
    "meltano config set tap-skipcall accounts": NEWCOMER
    + "test_several_organisations_through_meltano_keys_in_env_not_in_meltano_yml",
    "meltano run": "tests/end_to_end/test_e2e_postgres.py",
    "scripts/postgres start": NEWCOMER
    + "test_the_readme_postgres_command_starts_a_server_the_job_can_use",
    "tap-skipcall --test": CLI
    + "test_connection_test_says_the_plan_and_what_a_first_sync_of_the_catalog_costs",
    "meltano install": FRESH_PROJECT,
    "meltano config set target-postgres": FRESH_PROJECT,
    "meltano select tap-skipcall": FRESH_PROJECT,
    "meltano state": FRESH_PROJECT,
    "meltano run --full-refresh": FRESH_PROJECT,
    "meltano run tap-skipcall target-jsonl": FRESH_PROJECT,
    "meltano run tap-skipcall target-postgres": "tests/end_to_end/test_e2e_postgres.py",
    "meltano run skipcall-to-postgres": DBT_JOB,
    "pip install": WITHOUT_MELTANO,
    "python -m skipcall_simulator": WITHOUT_MELTANO,
    "tap-skipcall --config config.json": WITHOUT_MELTANO,
    "tap-skipcall --about --format markdown": ENVIRONMENT,
    "TAP_SKIPCALL_API_KEY": ENVIRONMENT,
    "TAP_SKIPCALL_WORKSPACE_IDS": ENVIRONMENT,
    "TAP_SKIPCALL_LOGLEVEL": ENVIRONMENT,
    "TAP_SKIPCALL_LOG_FORMAT": "tests/simulator/test_observe.py::"
    "test_every_stderr_line_of_a_json_logged_sync_is_json",
}
#: What the README says to run that cannot run here, and why.
NOT_HERE = {
    "pipx install meltano": "it installs Meltano: scripts/bootstrap.sh installs it with pip",
    "meltano add --plugin-type loader": "Meltano Hub is unreachable: meltano.yml declares it",
}


def readme_commands() -> list[str]:
    """Every command the README gives: lines of its bash blocks, and inline code spans."""
    text = (ROOT / "README.md").read_text()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.split(" #")[0].strip()
            if line.startswith(PROGRAMS) or line.startswith("tail ") or line.startswith("echo "):
                commands.append(line)
    for span in re.findall(r"`([^`\n]+)`", text):
        if span.startswith(PROGRAMS):
            commands.append(span)
    return commands


def readme_variables() -> set[str]:
    return set(re.findall(r"\bTAP_SKIPCALL_[A-Z_]+\b", (ROOT / "README.md").read_text()))


def named(item: str) -> str | None:
    """The longest key of EXERCISED or NOT_HERE the item starts with."""
    keys = [k for k in (*EXERCISED, *NOT_HERE) if item.startswith(k)]
    return max(keys, key=len) if keys else None


@pytest.mark.parametrize("command", readme_commands())
def test_every_readme_command_is_run_by_a_named_test(command):
    if command.startswith(("tail ", "echo ")):
        return  # shell plumbing inside a block that a test runs whole
    assert named(command) is not None, f"no test runs the README's `{command}`"


@pytest.mark.parametrize("variable", sorted(readme_variables()))
def test_every_readme_environment_variable_is_run_by_a_named_test(variable):
    assert variable in EXERCISED, f"no test sets the README's {variable}"


def test_the_named_tests_exist():
    for where in set(EXERCISED.values()):
        path, _, name = where.partition("::")
        source = (ROOT / path).read_text()
        if name:
            functions = {
                node.name
                for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.FunctionDef)
            }
            assert name in functions, where
    assert "scripts/test" in (ROOT / ".ci/run").read_text()


def test_the_check_would_see_a_command_nobody_runs():
    assert named("meltano elt tap-skipcall target-jsonl") is None
