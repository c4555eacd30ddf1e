"""Personal data under control, against a simulator whose notes and transcripts name people.

Every stream selected: no contact's phone number (in any spacing), name or e-mail is left in
any string of any record; one number has one pseudonym across streams and inside text;
another key gives other pseudonyms; no unkeyed hash of a number appears; `drop` keeps what
an utterance is besides its text; a missing key is one sentence before any request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys

import pytest

from tap_skipcall import cli
from tests.helpers import ALL_STREAMS, run_tap, tap_config

KEY = "a-privacy-key-of-32-characters!!"
EVERY_KIND = ["phone_numbers", "names", "emails", "profile_urls"]


def strings(value) -> list[str]:
    """Every string in a record, keys and values, however deep."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [str(k), *strings(v)]]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


def squeezed(text: str) -> str:
    """The text without the separators a number may be written with."""
    return re.sub(r"[\s.\-()/]", "", text)


def private_run(sim, key: str = KEY, **settings):
    config = tap_config(
        sim,
        privacy_pseudonymize=EVERY_KIND,
        privacy_free_text="redact",
        privacy_people="everyone",
        privacy_key=key,
        stats_start_date="2024-01-01",
        **settings,
    )
    return run_tap(config, select=ALL_STREAMS)


@pytest.mark.slow  # every stream, twice
def test_no_personal_value_is_left_in_any_string_of_any_record(make_simulator):
    sim = make_simulator(n_calls=300, personal_text=True)
    data = sim.simulator.data
    result = private_run(sim)
    assert {s for s in ALL_STREAMS if result.records(s)} == set(ALL_STREAMS)
    written = [s for stream in ALL_STREAMS for r in result.records(stream) for s in strings(r)]
    assert any("rappeler au phone:" in s for s in written)  # the notes really named numbers
    blob = "\n".join(written)
    flat = squeezed(blob)
    people = [*data.contacts.values(), *data.users.values()]
    for contact in data.contacts.values():
        for number in contact["phoneNumbers"]:
            national = "0" + number.removeprefix("+33")
            assert national not in flat, number
            assert number.removeprefix("+") not in flat, number
        if contact["email"]:
            assert contact["email"].lower() not in blob.lower()
    for person in people:
        for name in (person["firstName"], person["lastName"]):
            assert not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", blob, re.IGNORECASE), name
    # no unkeyed hash of any number, in any common form
    for contact in data.contacts.values():
        for number in contact["phoneNumbers"]:
            for form in (number, number.removeprefix("+"), "0" + number.removeprefix("+33")):
                for digest in (hashlib.md5, hashlib.sha1, hashlib.sha256):
                    assert digest(form.encode()).hexdigest()[:12] not in blob


@pytest.mark.slow  # every stream, twice
def test_one_number_one_pseudonym_everywhere_and_another_key_others(make_simulator):
    sim = make_simulator(n_calls=300, personal_text=True)
    data = sim.simulator.data
    first = private_run(sim)
    contacts = {c["id"]: c for c in first.records("contacts")}
    joined = 0
    for call in first.records("calls"):
        contact = data.contacts.get((data.calls[call["id"]]["contact"] or {}).get("id") or "")
        if contact is None or call["contact"]["id"] not in contacts:
            continue
        assert call["phoneNumber"]["value"] in contacts[call["contact"]["id"]]["phoneNumbers"]
        if "rappeler au" in (call["notes"] or ""):
            assert (
                call["notes"].split("rappeler au ")[1]
                in contacts[call["contact"]["id"]]["phoneNumbers"]
            )
            joined += 1
    assert joined
    sequence_phones = {p for r in first.records("sequence_contacts") for p in r["phoneNumbers"]}
    contact_phones = {p for c in contacts.values() for p in c["phoneNumbers"]}
    assert sequence_phones & contact_phones  # the same people, the same pseudonyms
    other = private_run(sim, key="another-key-of-32-characters!!!!")
    first_values = {c["phoneNumber"]["value"] for c in first.records("calls")}
    other_values = {c["phoneNumber"]["value"] for c in other.records("calls")}
    assert first_values.isdisjoint(other_values)


def test_drop_keeps_each_utterance_but_its_text(make_simulator):
    sim = make_simulator(n_calls=200, personal_text=True)
    config = tap_config(sim, privacy_free_text="drop", privacy_key=KEY)
    result = run_tap(config, select=["calls", "call_recordings", "call_transcriptions"])
    transcripts = [t for t in result.records("call_transcriptions") if t["transcript"]]
    assert transcripts
    truth = sim.simulator.data.transcriptions
    for row in transcripts:
        served = truth[row["call_id"]]["transcript"]
        assert [u["text"] for u in row["transcript"]] == [None] * len(served)
        assert [
            (u["speaker"], u["start"], u["end"], u["confidence"]) for u in row["transcript"]
        ] == [(u["speaker"], u["start"], u["end"], u["confidence"]) for u in served]
        assert row["summary"] is None
    assert all(c["notes"] is None for c in result.records("calls"))
    schema = next(m for m in result.messages if m["type"] == "SCHEMA" and m["stream"] == "calls")
    assert "privacy_free_text: drop" in schema["schema"]["properties"]["notes"]["description"]


def test_without_privacy_settings_records_are_exactly_as_before(make_simulator):
    sim = make_simulator(n_calls=100, personal_text=True)
    result = run_tap(tap_config(sim), select=["calls"])
    served = sim.simulator.data.snapshot_calls()
    for record in result.records():
        assert record["notes"] == served[record["id"]]["notes"]
        assert record["phoneNumber"] == served[record["id"]]["phoneNumber"]


def test_a_transcription_read_again_later_is_redacted_with_its_call_read_for_names(
    make_simulator, clock
):
    from datetime import timedelta

    sim = make_simulator(n_calls=150, personal_text=True)
    config = tap_config(sim, privacy_free_text="redact", privacy_key=KEY)
    streams = ["calls", "call_recordings", "call_transcriptions"]
    first = run_tap(config, select=streams)
    pending = [
        cid
        for cid, t in sim.simulator.data.transcriptions.items()
        if t["status"] in ("PENDING", "IN_PROGRESS")
    ]
    assert pending
    call_id = pending[0]
    contact = sim.simulator.data.contacts[sim.simulator.data.calls[call_id]["contact"]["id"]]
    # The transcription completes (its call unchanged): the next run reads it from its list.
    done = sim.simulator.data.transcriptions[call_id]
    done.update(
        status="COMPLETED",
        transcript=[
            {
                "speaker": 0,
                "text": f"Bonjour {contact['firstName']}",
                "start": 0.0,
                "end": 1.0,
                "confidence": 0.9,
            }
        ],
        summary=f"{contact['firstName']} {contact['lastName']} rappelle.",
    )
    clock.now += timedelta(hours=1)
    second = run_tap(config, state=first.state, select=streams)
    (row,) = [t for t in second.records("call_transcriptions") if t["call_id"] == call_id]
    assert contact["firstName"] not in json.dumps(row)
    assert sim.simulator.stats.by_endpoint["get_call"] >= 1  # its call, read for the names


def test_a_missing_privacy_key_is_one_sentence_before_any_request(
    make_simulator, tmp_path, monkeypatch, caplog
):
    sim = make_simulator(n_calls=10)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(tap_config(sim, privacy_free_text="redact")))
    monkeypatch.setattr(sys, "argv", ["tap-skipcall", "--config", str(path)])
    caplog.set_level(logging.INFO)
    with pytest.raises(SystemExit) as exit_code:
        cli.main()
    assert exit_code.value.code == 1
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].startswith(
        "tap-skipcall stopped: invalid settings: `privacy_key` is missing: `privacy_free_text` "
        "need a secret key for the pseudonyms"
    )
    assert sim.simulator.stats.requests == 0
