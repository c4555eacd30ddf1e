"""Personal data under control: the settings' sentences, pseudonyms, text, records."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tap_skipcall.privacy import privacy_of
from tap_skipcall.privacy.pseudonyms import Pseudonyms, normal_name, normal_phone
from tap_skipcall.privacy.text import Names, redact
from tap_skipcall.settings import config_problems

KEY = "a-privacy-key-of-32-characters!!"
BASE = {"api_key": "sk_test_x"}


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, None),
        ({"privacy_pseudonymize": ["phone_numbers"], "privacy_key": KEY}, None),
        ({"privacy_free_text": "redact", "privacy_key": KEY, "privacy_phone_region": "de"}, None),
        ({"privacy_free_text": "redact"}, "`privacy_key` is missing: `privacy_free_text` need"),
        ({"privacy_people": "everyone"}, "`privacy_key` is missing: `privacy_people`"),
        ({"privacy_pseudonymize": []}, "`privacy_key` is missing"),
        ({"privacy_pseudonymize": ["names"], "privacy_key": "short"}, "at least 16 characters"),
        ({"privacy_pseudonymize": ["phones"], "privacy_key": KEY}, "must be a list of"),
        ({"privacy_pseudonymize": "names", "privacy_key": KEY}, "must be a list of"),
        ({"privacy_free_text": "hide", "privacy_key": KEY}, "one of keep, redact, drop"),
        ({"privacy_people": "reps", "privacy_key": KEY}, "one of contacts, everyone"),
        ({"privacy_phone_region": "France", "privacy_key": KEY}, "two-letter region code"),
    ],
    ids=[
        "none",
        "phones",
        "redact-de",
        "no-key-text",
        "no-key-people",
        "no-key-empty-list",
        "short-key",
        "unknown-kind",
        "not-a-list",
        "bad-free-text",
        "bad-people",
        "bad-region",
    ],
)
def test_each_privacy_setting_mistake_is_one_sentence(settings, expected):
    problems = config_problems({**BASE, **settings})
    if expected is None:
        assert problems == []
        return
    assert len(problems) == 1, problems
    assert expected in problems[0]
    assert KEY not in problems[0]
    assert "short" not in problems[0].split("(got")[0][-20:]


def test_without_a_privacy_setting_nothing_changes():
    assert privacy_of(BASE) is None


@pytest.mark.parametrize(
    "form",
    [
        "+33612345678",
        "06 12 34 56 78",
        "06.12.34.56.78",
        "0612345678",
        "+33 6 12 34 56 78",
        " 06-12-34-56-78 ",
        "+33 (0)6 12 34 56 78",
    ],
)
def test_a_number_in_any_form_is_one_number(form):
    assert normal_phone(form, "FR") == "+33612345678"


def test_pseudonyms_are_keyed_stable_kinded_and_no_plain_hash():
    one, again, other = (
        Pseudonyms(KEY.encode(), "FR"),
        Pseudonyms(KEY.encode(), "FR"),
        Pseudonyms(b"another-key-of-32-characters!!!!", "FR"),
    )
    value = one.phone("06 12 34 56 78")
    assert value.startswith("phone:")
    assert len(value) == len("phone:") + 20
    assert value == again.phone("+33612345678") == one.phone("0612345678")
    assert value != other.phone("+33612345678")  # another key, another pseudonym
    for plain in ("+33612345678", "0612345678", "33612345678"):
        for digest in (hashlib.md5, hashlib.sha1, hashlib.sha256):
            assert digest(plain.encode()).hexdigest()[:20] not in value
    assert one.email("Alice@Acme.COM ") == one.email("alice@acme.com")
    assert one.name("  Jean  PIERRE ") == one.name("jean pierre") == one.of("name", "Jean Pierre")
    assert normal_name(" Émilie ") == "émilie"
    assert one.name("alice") != one.email("alice")  # the kind is part of what is keyed


@pytest.mark.parametrize(
    ("text", "names", "gone", "kept"),
    [
        ("rappeler au 06 12 34 56 78", (), ["06 12 34 56 78"], ["rappeler au "]),
        ("tel: +44 20 7946 0958, ou 0612345678", (), ["7946", "0612345678"], ["tel: ", ", ou "]),
        ("Ecrire à ALICE@ACME.COM demain", (), ["ALICE@ACME.COM"], ["Ecrire à ", " demain"]),
        ("Bonjour Alice Martin, c'est Marc", ("Alice", "Martin"), ["Alice", "Martin"], ["Marc"]),
        ("alice, ALICE et Alicia", ("Alice",), ["alice,", "ALICE "], ["Alicia"]),
        ("Score 45, lead 2024", (), [], ["Score 45, lead 2024"]),  # not a phone number
        ("Numéro (06 12 34 56 78) ok", (), ["06 12"], ["Numéro (", ") ok"]),
    ],
    ids=["national", "two-forms", "email-case", "names", "whole-words", "no-number", "brackets"],
)
def test_free_text_loses_numbers_emails_and_the_names_on_the_call(text, names, gone, kept):
    pseudonyms = Pseudonyms(KEY.encode(), "FR")
    redacted = redact(text, pseudonyms, Names.of(names))
    for value in gone:
        assert value not in redacted
    for value in kept:
        assert value in redacted
    if "06 12 34 56 78" in text or "0612345678" in text:
        assert pseudonyms.phone("+33612345678") in redacted  # joins the field's pseudonym


def call(**more) -> dict:
    return {
        "id": "c1",
        "contact": {"id": "k1", "firstName": "Alice", "lastName": "Martin", "isUnknown": False},
        "phoneNumber": {"value": "+33612345678"},
        "caller": {"firstName": "Marc", "lastName": "Petit"},
        "callerPhoneNumber": {"value": "+33187654321"},
        "notes": "Alice veut un rappel au 06 12 34 56 78, Marc rappelle",
        **more,
    }


def test_a_call_with_contacts_covered_keeps_its_rep_in_clear():
    privacy = privacy_of(
        {
            "privacy_pseudonymize": ["phone_numbers", "names"],
            "privacy_free_text": "redact",
            "privacy_key": KEY,
        }
    )
    assert privacy is not None
    row = privacy.record("calls", call())
    names = privacy.pseudonyms
    assert row["contact"]["firstName"] == names.name("alice")
    assert row["phoneNumber"]["value"] == names.phone("0612345678")
    assert row["caller"] == {"firstName": "Marc", "lastName": "Petit"}  # a rep: not covered
    assert row["callerPhoneNumber"]["value"] == "+33187654321"
    assert row["notes"] == (
        f"{names.name('Alice')} veut un rappel au {names.phone('+33612345678')}, Marc rappelle"
    )
    assert row["contact"]["id"] == "k1"  # ids stay: analysts join on them


def test_everyone_covers_the_rep_too_and_a_transcript_names_the_people_on_its_call():
    privacy = privacy_of(
        {
            "privacy_pseudonymize": ["names"],
            "privacy_people": "everyone",
            "privacy_free_text": "redact",
            "privacy_key": KEY,
        }
    )
    assert privacy is not None
    privacy.record("calls", call())
    transcription = {
        "call_id": "c1",
        "transcript": [
            {
                "speaker": 0,
                "text": "Bonjour Alice, c'est Marc.",
                "start": 0.0,
                "end": 1.5,
                "confidence": 0.9,
            }
        ],
        "summary": "Marc called Alice Martin.",
    }
    row = privacy.record("call_transcriptions", transcription)
    names = privacy.pseudonyms
    assert (
        row["transcript"][0]["text"]
        == f"Bonjour {names.name('alice')}, c'est {names.name('marc')}."
    )
    assert (
        row["summary"]
        == f"{names.name('Marc')} called {names.name('Alice')} {names.name('Martin')}."
    )


def test_a_transcription_of_a_call_not_met_reads_the_call_once():
    privacy = privacy_of({"privacy_free_text": "redact", "privacy_key": KEY})
    assert privacy is not None
    asked = []

    def read(call_id: str) -> dict:
        asked.append(call_id)
        return call(id=call_id)

    row = privacy.record(
        "call_transcriptions", {"call_id": "c9", "transcript": None, "summary": "Alice ok"}, read
    )
    assert asked == ["c9"]
    assert row["summary"] == f"{privacy.pseudonyms.name('Alice')} ok"
    assert privacy.calls_read_for_names == 1


def test_drop_nulls_the_text_and_keeps_speakers_times_and_confidence():
    privacy = privacy_of({"privacy_free_text": "drop", "privacy_key": KEY})
    assert privacy is not None
    row = privacy.record(
        "call_transcriptions",
        {
            "call_id": "c1",
            "summary": "x",
            "transcript": [
                {
                    "speaker": 1,
                    "text": "06 12 34 56 78",
                    "start": 1.0,
                    "end": 2.0,
                    "confidence": 0.8,
                }
            ],
        },
    )
    assert row["summary"] is None
    assert row["transcript"] == [
        {"speaker": 1, "text": None, "start": 1.0, "end": 2.0, "confidence": 0.8}
    ]
    assert privacy.record("calls", call())["notes"] is None


def test_the_schema_says_which_fields_are_pseudonymised_or_redacted():
    privacy = privacy_of(
        {
            "privacy_pseudonymize": ["phone_numbers"],
            "privacy_free_text": "redact",
            "privacy_key": KEY,
        }
    )
    assert privacy is not None
    schema = {
        "properties": {
            "phoneNumber": {
                "type": ["object", "null"],
                "properties": {"value": {"type": "string"}},
            },
            "notes": {"type": ["string", "null"]},
        }
    }
    annotated = privacy.schema("calls", schema)
    value = annotated["properties"]["phoneNumber"]["properties"]["value"]
    assert value["type"] == "string"  # still a string
    assert value["description"].startswith("Pseudonymised (privacy_pseudonymize: phone_numbers)")
    assert "privacy_free_text: redact" in annotated["properties"]["notes"]["description"]
    assert "description" not in schema["properties"]["notes"]  # the original untouched


@pytest.mark.parametrize(
    ("text", "searched"),
    [
        ("", False),
        ("12345", False),  # five digits cannot be a number: the matcher is not run
        ("Rappel le 12/5 à 9h", False),
        ("123456", True),
        ("au 06 12 34 56 78", True),
        ("a1b2c3d4e5f6", True),  # digits anywhere count
        ("\uff10\uff16\uff11\uff12\uff13\uff14", True),  # full-width digits are digits
        ("x" * 10_000 + "12345", False),  # long text, few digits: linear, no backtracking
    ],
)
def test_only_a_text_with_six_digits_or_more_is_searched_for_numbers(text, searched):
    from tap_skipcall.privacy.text import ENOUGH_DIGITS

    assert (ENOUGH_DIGITS.match(text) is not None) == searched


@pytest.mark.parametrize(
    "key",
    [b"k" * 16, KEY.encode(), b"b" * 64, b"long-" * 20, "clé-à-accents-de-32-caractères".encode()],
    ids=["short", "usual", "one-block", "longer-than-a-block", "utf-8"],
)
@pytest.mark.parametrize(
    ("kind", "value", "normal"),
    [
        ("phone", "06 12 34 56 78", "+33612345678"),
        ("email", " Alice@Acme.COM", "alice@acme.com"),
        ("name", "  Émilie  Le Gall ", "émilie le gall"),
        ("url", "https://linkedin.com/in/x/", "https://linkedin.com/in/x"),
    ],
)
def test_a_pseudonym_is_the_hmac_sha256_of_kind_and_normal_form(key, kind, value, normal):
    import hmac

    expected = hmac.new(key, f"{kind}\x00{normal}".encode(), hashlib.sha256).hexdigest()[:20]
    assert Pseudonyms(key, "FR").of(kind, value) == f"{kind}:{expected}"


#: The words of a text as the scan of every word reads them, for the names below.
WORDS_TEXTS = [
    ("Jean et jean-pierre, JEAN's, Jean' ok", {"jean"}),
    ("Jean-Pierre O'Neil et O\u2019Neil", {"jean-pierre", "o'neil", "o\u2019neil"}),
    ("Jean-Pierre, Pierre, O'Neil, Neil, O\u2019Neil", {"pierre", "neil"}),  # inside a word
    ("--jean__jean jean_ 2jean jean2", {"jean"}),
    ("ß STRASSE Straße strasse", {"strasse"}),  # folding changes the length: each word compared
    ("\u0130stanbul \u0131stanbul ISTANBUL", {"i\u0307stanbul", "istanbul"}),  # dotted, dotless
    ("Ελένη ΕΛΈΝΗ ελενη, Σοφία ΣΟΦΊΑ", {"ελένη", "σοφία"}),
    ("ǅemal ǆemal ǄEMAL Æsa", {"ǆemal", "æsa"}),
    ("an ana anan a-n", {"an", "a-n"}),
    ("", {"jean"}),
]


@pytest.mark.parametrize(("text", "names"), WORDS_TEXTS)
def test_names_are_found_as_the_scan_of_every_word_finds_them(text, names):
    from tap_skipcall.privacy.text import _words, every_word

    pseudonyms = Pseudonyms(KEY.encode(), "FR")
    words = frozenset(names)
    assert _words(text, pseudonyms, words) == every_word(text, pseudonyms, words)


#: Letters, joiners and characters whose case-folding is not one-to-one.
TRICKY = "aAjJeEnN-'\u2019 _.,0\u00df\u0130\u0131\u03a3\u03c3\u03c2\u01c5\u01c6\u00e9\u0301\ufb01"


@given(
    text=st.text(alphabet=TRICKY, max_size=16),
    names=st.sets(st.text(alphabet=TRICKY, min_size=1, max_size=4), min_size=1, max_size=3),
)
@settings(max_examples=400, deadline=None)
def test_any_text_and_names_give_what_the_scan_of_every_word_gives(text, names):
    from tap_skipcall.privacy.text import WORD, _words, every_word

    words = frozenset(n.casefold() for n in names if WORD.fullmatch(n.casefold()))
    assume(words)
    pseudonyms = Pseudonyms(KEY.encode(), "FR")
    assert _words(text, pseudonyms, words) == every_word(text, pseudonyms, words)


def test_a_word_character_is_what_the_pattern_reads_as_one_in_every_script():
    import re
    import sys

    from tap_skipcall.privacy.text import _in_word

    word = re.compile(r"\w")
    differ = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if (word.match(chr(code)) is not None) != _in_word(chr(code))
    ]
    assert differ == []
