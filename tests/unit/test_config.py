"""Bad settings get one clear sentence each, before any request is sent."""

from __future__ import annotations

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tap_skipcall.settings import config_problems
from tap_skipcall.tap import TapSkipcall

GOOD = {"api_key": "sk_test_abc", "api_url": "https://api-public.skipcall.app"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"api_key": None}, "`api_key` is missing or empty"),
        ({"api_key": ""}, "`api_key` is missing or empty"),
        ({"api_key": "   "}, "`api_key` is missing or empty"),
        ({"api_key": " sk_test_abc"}, "`api_key` has leading or trailing spaces"),
        ({"start_date": "last tuesday"}, "`start_date` 'last tuesday' is not an ISO 8601 date"),
        ({"page_size": 0}, "`page_size` must be a whole number from 1 to 100 (got 0)"),
        ({"page_size": 500}, "`page_size` must be a whole number from 1 to 100 (got 500)"),
        ({"page_size": "50"}, "`page_size` must be a whole number from 1 to 100 (got '50')"),
        ({"api_url": "api-public.skipcall.app"}, "is not an http(s) URL"),
        ({"api_url": "ftp://example.com"}, "is not an http(s) URL"),
        (
            {"api_url": "http://api-public.skipcall.app"},
            "uses plain http to api-public.skipcall.app",
        ),
        ({"workspace_ids": "a,b"}, "`workspace_ids` must be a list of workspace ids"),
        ({"workspace_ids": ["a,b"]}, "`workspace_ids` must be a list of workspace ids"),
        ({"request_timeout": 0}, "`request_timeout` must be a whole number of at least 1"),
        ({"max_requests_per_minute": -5}, "`max_requests_per_minute` must be a whole number"),
        ({"sort_style": "xml"}, "`sort_style` must be one of auto, deep_object, json, flat"),
        (
            {"max_concurrent_requests": 0},
            "`max_concurrent_requests` must be a whole number from 1 to 32",
        ),
        (
            {"max_concurrent_requests": 64},
            "`max_concurrent_requests` must be a whole number from 1 to 32",
        ),
    ],
)
def test_each_bad_setting_has_one_clear_sentence(change, expected):
    config = {**GOOD, **change}
    config = {k: v for k, v in config.items() if v is not None}
    problems = config_problems(config)
    assert len(problems) == 1
    assert expected in problems[0]
    with pytest.raises(ConfigValidationError) as error:
        TapSkipcall(config=config, parse_env_config=False)
    assert error.value.errors == problems


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8765",
        "http://localhost:1",
        "http://[::1]:80",
        "https://api-public.skipcall.app",
    ],
)
def test_loopback_http_and_https_are_accepted(url):
    assert config_problems({**GOOD, "api_url": url}) == []


def test_valid_dates_are_accepted():
    for value in ("2024-01-31", "2024-01-31T00:00:00Z", "2024-01-31T10:00:00.123+02:00"):
        assert config_problems({**GOOD, "start_date": value}) == []


def test_the_key_is_never_echoed_in_problems():
    secret = " sk_live_secret_value_123"
    problems = config_problems({**GOOD, "api_key": secret})
    assert secret.strip() not in " ".join(problems)
