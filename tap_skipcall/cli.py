"""The command line: failures the user can fix end in one sentence, never a traceback."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from tap_skipcall.accounts import accounts_state_problem
from tap_skipcall.calls.state import state_problem, unwrapped
from tap_skipcall.errors import STOPPED, CommandLineError, sentence_of
from tap_skipcall.observe import JSON_LOG_CONFIG
from tap_skipcall.sdk_private import settings_from_environment
from tap_skipcall.settings import config_problems
from tap_skipcall.tap import TapSkipcall

logger = logging.getLogger("tap-skipcall")
LOG_FORMAT = "%(asctime)s | %(levelname)-8s | %(name)s | %(message)s"
#: The environment variable that switches the log to JSON (also the setting `log_format`).
LOG_FORMAT_VARIABLE = "TAP_SKIPCALL_LOG_FORMAT"

#: The options that take a JSON file, and what each holds.
FILE_OPTIONS = {"--config": "config", "--state": "state", "--catalog": "catalog"}


def file_problem(option: str, value: str) -> str | None:
    """One sentence if the file given to ``option`` cannot be used, else None."""
    if option == "--config" and value == "ENV":
        return None
    what = FILE_OPTIONS[option]
    path = Path(value)
    hint = (
        " To start without a state, leave out `--state`; to keep one for the next run, save "
        "the last STATE line the tap prints (see the README, Running without Meltano)."
        if option == "--state"
        else ""
    )
    if not path.is_file():
        return f"The {what} file {value} does not exist.{hint}"
    try:
        text = path.read_text(encoding="utf-8")
        if not text.strip():
            return f"The {what} file {value} is empty.{hint}"
        content = json.loads(text)
    except (OSError, UnicodeDecodeError) as error:
        return f"The {what} file {value} cannot be read: {error}."
    except json.JSONDecodeError as error:
        return (
            f"The {what} file {value} is not valid JSON (line {error.lineno}, column "
            f"{error.colno}: {error.msg})."
        )
    if not isinstance(content, dict):
        return f"The {what} file {value} must hold a JSON object, not {type(content).__name__}."
    if option == "--state":
        from tap_skipcall.streams import STREAM_NAMES

        state = unwrapped(content)[0]
        entries = state.get("accounts")
        if isinstance(entries, dict):  # each account's entry (the config is read later)
            return accounts_state_problem(state, list(entries), set(STREAM_NAMES))
        return state_problem(state, set(STREAM_NAMES))
    if option == "--catalog":
        problem, warnings = catalog_findings(content, value)
        for warning in warnings:
            warn(warning)
        return problem
    return None


def catalog_findings(catalog: dict[str, Any], path: str) -> tuple[str | None, list[str]]:
    """A sentence if this catalog cannot be run, and warnings for what it selects in vain.

    The SDK fails with a ``KeyError`` on a catalog that has a child stream but not its
    parent (``calls`` renamed, say), and says nothing of a selected stream it does not have.
    """
    from tap_skipcall.streams import PARENT_OF, STREAM_NAMES

    entries = [s for s in catalog.get("streams") or [] if isinstance(s, dict)]
    names = {_name(s) for s in entries}
    known = list(STREAM_NAMES)
    strangers = sorted(names - set(known))
    orphans = sorted({PARENT_OF[n] for n in names & PARENT_OF.keys() if PARENT_OF[n] not in names})
    listing = ", ".join(known)
    problem = None
    if orphans:
        also = f" (it names {shown(strangers)}, which this tap does not have)" if strangers else ""
        problem = (
            f"The catalog file {path} has no entry for {', '.join(orphans)}, the parent of "
            f"streams it selects{also}: run `tap-skipcall --discover` for a catalog of this "
            f"tap's streams ({listing}) and select in it."
        )
    selected = sorted(n for n in strangers if any(selected_in(s) for s in entries if _name(s) == n))
    warnings = []
    if selected and not problem:
        ours = [
            n for n in known if n in names and any(selected_in(s) for s in entries if _name(s) == n)
        ]
        nothing = "" if ours else " Nothing else is selected, so this run syncs nothing."
        warnings.append(
            f"The catalog selects {shown(selected)}, which this tap does not have: ignored."
            f"{nothing} Its streams are {listing}: run `tap-skipcall --discover` for a "
            "catalog of them."
        )
    return problem, warnings


def shown(names: list[str]) -> str:
    """Names as a sentence shows them: odd ones (line breaks, blanks) quoted and escaped."""
    return ", ".join(n if n.isprintable() and n.strip() == n and n else repr(n) for n in names)


def _name(entry: dict[str, Any]) -> str:
    return str(entry.get("tap_stream_id") or entry.get("stream"))


def selected_in(entry: dict[str, Any]) -> bool:
    """Whether a catalog entry selects its stream (metadata, or the legacy ``selected``)."""
    for item in entry.get("metadata") or []:
        if isinstance(item, dict) and item.get("breadcrumb") == []:
            meta = item.get("metadata") or {}
            return bool(meta.get("selected", meta.get("selected-by-default", False)))
    return bool(entry.get("selected"))


def argv_problems(argv: list[str]) -> list[str]:
    """Problems with the files named on the command line, found before the SDK reads them."""
    problems = []
    for index, argument in enumerate(argv):
        option, _, inline = argument.partition("=")
        if option not in FILE_OPTIONS:
            continue
        value = inline or (argv[index + 1] if index + 1 < len(argv) else "")
        if value:
            problem = file_problem(option, value)
            if problem:
                problems.append(problem)
    return problems


def option_values(argv: list[str], option: str) -> list[str]:
    """Every value given to ``option`` (``--config a.json --config=ENV`` …), in order."""
    values = []
    for index, argument in enumerate(argv):
        name, equals, inline = argument.partition("=")
        if name == option:
            values.append(inline if equals else (argv[index + 1] if index + 1 < len(argv) else ""))
    return values


def settings_given(argv: list[str]) -> dict[str, Any] | None:
    """The settings the command line gives (files, ``ENV``), merged; None: no ``--config``."""
    sources = option_values(argv, "--config")
    if not sources:
        return None
    config: dict[str, Any] = {}
    for source in sources:
        if source == "ENV":
            config |= settings_from_environment(TapSkipcall)
        elif Path(source).is_file():
            content = json.loads(Path(source).read_text(encoding="utf-8") or "{}")
            config |= content if isinstance(content, dict) else {}  # else: said by its check
    return config


def settings_problems(argv: list[str]) -> list[str]:
    """The settings given (files, ``ENV``) checked as a sync checks them, for every mode.

    ``--about`` and ``--discover`` need no key; every other mode does.
    """
    config = settings_given(argv)
    if config is None:
        return []
    needs_key = not ({"--about", "--discover"} & {a.partition("=")[0] for a in argv})
    return config_problems(config, needs_key=needs_key)


def json_logs_asked(argv: list[str]) -> bool:
    """Whether the log is JSON: the setting `log_format`, or its environment variable."""
    if os.environ.get(LOG_FORMAT_VARIABLE, "").strip().lower() == "json":
        return True
    try:
        given = settings_given(argv) or {}
    except (OSError, ValueError):  # a broken file: its own sentence comes next
        return False
    return given.get("log_format") == "json"


def json_logs_on() -> bool:
    """Whether this process logs JSON (its logging configuration is the tap's JSON one)."""
    return os.environ.get("SINGER_SDK_LOG_CONFIG") == str(JSON_LOG_CONFIG)


def _formatter() -> logging.Formatter:
    """The formatter of the tap's own lines said outside the SDK's logging (JSON or text)."""
    if json_logs_on():
        from singer_sdk.logging import StructuredFormatter

        return StructuredFormatter(defaults={"app_name": TapSkipcall.name})
    return logging.Formatter(LOG_FORMAT)


def warn(message: str) -> None:
    """A warning said before the SDK sets up logging, leaving no handler behind.

    A handler on the root logger would print every later line of the tap's logger twice.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(_formatter())
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("%s", message)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def stop(message: str, *, code: int = 1) -> NoReturn:
    """Log the one sentence and exit (1, or 2 for a command line the tap does not take)."""
    if not logging.getLogger().handlers:  # stopped before the SDK set up its logging
        handler = logging.StreamHandler()
        handler.setFormatter(_formatter())
        logging.getLogger().addHandler(handler)
    logger.error("%s%s", STOPPED, message)
    sys.exit(code)


def main() -> None:
    """Run the tap's command line (the `tap-skipcall` command, `python -m tap_skipcall`)."""
    argv = sys.argv[1:]
    if json_logs_asked(argv):
        os.environ["SINGER_SDK_LOG_CONFIG"] = str(JSON_LOG_CONFIG)
        logging.captureWarnings(True)  # Python's warnings as log lines too
    problems = argv_problems(argv)
    if problems:
        stop(" ".join(problems))
    problems = settings_problems(argv)
    if problems:
        stop("invalid settings: " + " ".join(problems))
    try:
        TapSkipcall.cli()
    except Exception as error:
        sentence = sentence_of(error)
        if sentence is None and json_logs_on():  # a bug: its traceback inside one JSON line
            logger.critical("%s%s: %s", STOPPED, type(error).__name__, error, exc_info=True)
            sys.exit(1)
        if sentence is None:
            raise
        stop(sentence, code=2 if isinstance(error, CommandLineError) else 1)
