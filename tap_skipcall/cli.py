"""The command line: failures the user can fix end in one sentence, never a traceback."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import requests
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError

from tap_skipcall.calls.state import StateError
from tap_skipcall.errors import connection_failure, origin_of
from tap_skipcall.tap import TapSkipcall

logger = logging.getLogger("tap-skipcall")
LOG_FORMAT = "%(asctime)s | %(levelname)-8s | %(name)s | %(message)s"

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
        content = json.loads(path.read_text(encoding="utf-8") or "null")
    except (OSError, UnicodeDecodeError) as error:
        return f"The {what} file {value} cannot be read: {error}."
    except json.JSONDecodeError as error:
        return (
            f"The {what} file {value} is not valid JSON (line {error.lineno}, column "
            f"{error.colno}: {error.msg})."
        )
    if not isinstance(content, dict):
        return f"The {what} file {value} must hold a JSON object, not {type(content).__name__}."
    if option == "--catalog":
        problem, warnings = catalog_findings(content, value)
        for warning in warnings:
            logging.basicConfig(format=LOG_FORMAT)
            logger.warning("%s", warning)
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
        also = (
            f" (it names {', '.join(strangers)}, which this tap does not have)" if strangers else ""
        )
        problem = (
            f"The catalog file {path} has no entry for {', '.join(orphans)}, the parent of "
            f"streams it selects{also}: run `tap-skipcall --discover` for a catalog of this "
            f"tap's streams ({listing}) and select in it."
        )
    selected = sorted(n for n in strangers if any(selected_in(s) for s in entries if _name(s) == n))
    warnings = (
        [
            f"The catalog selects {', '.join(selected)}, which this tap does not have: ignored. "
            f"Its streams are {listing}."
        ]
        if selected and not problem
        else []
    )
    return problem, warnings


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


def stop(message: str) -> None:
    """Log the one sentence and exit 1."""
    logging.basicConfig(format=LOG_FORMAT)
    logger.error("tap-skipcall stopped: %s", message)
    sys.exit(1)


def main() -> None:
    """Run the tap's command line (the `tap-skipcall` command, `python -m tap_skipcall`)."""
    argv = sys.argv[1:]
    problems = argv_problems(argv)
    if problems:
        stop(" ".join(problems))
    try:
        TapSkipcall.cli()
    except ConfigValidationError as error:
        stop("invalid settings: " + " ".join(error.errors or [str(error)]))
    except (FatalAPIError, RetriableAPIError, StateError) as error:
        message = str(error)
        if isinstance(error, RetriableAPIError):
            message += " (gave up after retrying)"
        stop(message)
    except requests.exceptions.RequestException as error:
        origin = origin_of(error) or "the API"
        stop(
            f"Could not reach the Skipcall API at {origin} ({connection_failure(error)}), even "
            f"after retrying: check `api_url` ({origin}) and that this machine can reach it "
            "(network, proxy, firewall)."
        )
