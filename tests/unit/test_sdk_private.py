"""The private singer-sdk methods the tap relies on still exist with the same signature."""

from __future__ import annotations

import pytest

from tap_skipcall.sdk_private import PRIVATE_ATTRIBUTES, PRIVATE_METHODS, signature_of


@pytest.mark.parametrize(
    ("cls", "name", "parameters"), PRIVATE_METHODS, ids=[m[1] for m in PRIVATE_METHODS]
)
def test_private_sdk_method_is_unchanged(cls, name, parameters):
    assert callable(getattr(cls, name, None)), f"singer-sdk no longer has {cls.__name__}.{name}"
    assert signature_of(cls, name) == parameters


def test_the_check_would_notice_a_change():
    class Changed:
        def _write_state_message(self, flush: bool) -> None: ...

    assert signature_of(Changed, "_write_state_message") == ["flush"] != []


@pytest.mark.parametrize("name", PRIVATE_ATTRIBUTES)
def test_private_sdk_attribute_still_exists(name):
    from tap_skipcall.tap import TapSkipcall

    tap = TapSkipcall(config={"api_key": "sk_test_x"}, parse_env_config=False)
    assert hasattr(tap.streams["users"], name), f"singer-sdk streams no longer have {name}"
