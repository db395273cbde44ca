"""Notebook 01's pure check (serialize_reading) passes the reference and fails wrong answers."""

import json

import pytest

from iotlab.course.exercises import nb01

FIELDS = nb01.CONTRACT_FIELDS


def test_reference_passes():
    assert nb01.check_serialize_reading(nb01.serialize_reading).passed


def pretty_printed(reading):
    return json.dumps({f: reading[f] for f in FIELDS}, ensure_ascii=False).encode()


def keeps_extra_fields(reading):
    missing = [f for f in FIELDS if f not in reading]
    if missing:
        raise ValueError(f"reading lacks {missing[0]}")
    return json.dumps(reading, separators=(",", ":"), ensure_ascii=False).encode()


def escapes_non_ascii(reading):
    missing = [f for f in FIELDS if f not in reading]
    if missing:
        raise ValueError(f"reading lacks {missing[0]}")
    return json.dumps({f: reading[f] for f in FIELDS}, separators=(",", ":")).encode()


def sends_broken_readings(reading):
    return json.dumps({f: reading.get(f) for f in FIELDS}, separators=(",", ":"), ensure_ascii=False).encode()


def returns_text(reading):
    return nb01.serialize_reading(reading).decode()


def sorted_keys(reading):
    nb01.serialize_reading(reading)
    return json.dumps({f: reading[f] for f in FIELDS}, separators=(",", ":"), sort_keys=True,
                      ensure_ascii=False).encode()


@pytest.mark.parametrize("wrong", [pretty_printed, keeps_extra_fields, escapes_non_ascii, sends_broken_readings,
                                   returns_text, sorted_keys])
def test_wrong_answers_fail(wrong, capsys):
    result = nb01.check_serialize_reading(wrong)
    assert not result.passed and not result.skipped
    assert "Hint" in capsys.readouterr().out


def test_unwritten_exercise_is_skipped():
    def stub(reading):
        raise NotImplementedError()

    assert nb01.check_serialize_reading(stub).skipped
