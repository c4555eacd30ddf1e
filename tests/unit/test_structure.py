"""The package's shape: shallow streams, one owner of the state, private SDK use in one file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tap_skipcall.sdk_private import PRIVATE_ATTRIBUTES, PRIVATE_METHODS
from tap_skipcall.streams import STREAM_TYPES

PACKAGE = Path(__file__).resolve().parents[2] / "tap_skipcall"
#: What reads or writes the SDK's Singer state, or asks for a STATE message.
STATE_ACCESS = re.compile(
    r"\.stream_state\b|\.state_manager\b|\.tap_state\b|get_context_state|_write_state_message"
    r"|write_state_now\("
)


def modules() -> dict[str, str]:
    """Every module of the package, by its path below ``tap_skipcall/``, with its code."""
    return {
        str(path.relative_to(PACKAGE)): path.read_text(encoding="utf-8")
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def code_only(text: str) -> str:
    """The module without its docstrings and comments (names quoted there are not uses)."""
    text = re.sub(r'"""[\s\S]*?"""', "", text)
    return re.sub(r"#[^\n]*", "", text)


@pytest.mark.parametrize("stream_type", STREAM_TYPES, ids=lambda t: t.__name__)
def test_no_stream_stacks_more_than_four_project_classes(stream_type):
    own = [cls for cls in stream_type.__mro__ if cls.__module__.startswith("tap_skipcall.")]
    assert len(own) <= 4, [cls.__name__ for cls in own]


def test_only_the_two_state_keepers_and_sdk_private_touch_the_sdk_state():
    touching = {name for name, text in modules().items() if STATE_ACCESS.search(code_only(text))}
    assert touching == {
        "sdk_private.py",
        "calls/state_keeper.py",
        "freshness/child_state.py",
    }


def test_the_check_would_see_a_module_writing_state():
    assert STATE_ACCESS.search(code_only("x = self.stream_state.get('a')"))
    assert not STATE_ACCESS.search(code_only('"""self.stream_state in a docstring"""'))


def test_private_sdk_names_appear_only_in_sdk_private():
    names = [name for _, name, _ in PRIVATE_METHODS] + PRIVATE_ATTRIBUTES
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    users = {
        name: sorted(set(pattern.findall(code_only(text))))
        for name, text in modules().items()
        if name != "sdk_private.py" and pattern.search(code_only(text))
    }
    assert users == {}
