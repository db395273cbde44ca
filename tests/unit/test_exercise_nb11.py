"""Notebook 11's checks that judge without the lab: wrong producer settings and consistency levels are refused by
rule before anything is broken, and the recovery check and the REST recovery time fail every wrong answer."""

from __future__ import annotations

import pytest

from iotlab.course.exercises import nb11


def stub(*_args):
    raise NotImplementedError


@pytest.mark.parametrize("config,words", [
    ({"acks": "1", "enable.idempotence": True}, "acks=1"),
    ({"acks": 0, "enable.idempotence": True}, "acks=0"),
    ({"acks": "all"}, "enable.idempotence"),
    ({"acks": "all", "enable.idempotence": False}, "enable.idempotence"),
    ({"acks": "-1", "enable.idempotence": True, "retries": 0}, "retries=0"),
])
def test_producer_settings_that_can_lose_or_repeat_fail_by_rule(config, words):
    result = nb11.check_safe_producer_config(lambda: config)
    assert not result.passed and not result.skipped
    assert words in result.message, result.message


@pytest.mark.parametrize("levels,words", [
    (("ONE", "ONE"), "1 + 1 = 2"),
    (("QUORUM", "ONE"), "2 + 1 = 3"),
    (("ONE", "ALL"), "ALL needs 3 replicas"),
    (("ALL", "ONE"), "ALL needs 3 replicas"),
    (("ANY", "QUORUM"), "ANY"),
    (("SERIAL", "QUORUM"), "not a consistency level here"),
])
def test_levels_without_read_your_writes_or_unavailable_with_a_node_down_fail_by_rule(levels, words):
    result = nb11.check_read_your_writes_levels(lambda: levels)
    assert not result.passed and not result.skipped
    assert words in result.message, result.message


def test_unwritten_exercises_are_skipped():
    assert nb11.check_safe_producer_config(stub).skipped
    assert nb11.check_read_your_writes_levels(stub).skipped
    assert nb11.check_recovery_check(stub).skipped
    assert nb11.check_recovery_seconds(stub).skipped


def test_the_reference_recovery_check_passes_its_check():
    assert nb11.check_recovery_check(nb11.recovery_check).passed


def counts_only(actual, expected, key, delivered):
    """Compares row counts, not rows: a missing row and an extra one cancel out."""
    return {"missing": max(0, len(expected) - len(actual)), "different": 0,
            "duplicated": len(delivered) - len(set(delivered))}


def by_position(actual, expected, key, delivered):
    """Compares rows position by position: the same rows in another order all look different."""
    different = sum(1 for a, b in zip(actual, expected) if a != b)
    return {"missing": max(0, len(expected) - len(actual)), "different": different,
            "duplicated": len(delivered) - len(set(delivered))}


def exact_floats(actual, expected, key, delivered):
    """Compares floats exactly: an average summed in another order differs in its last bits."""
    have, want = {key(r): r for r in actual}, {key(r): r for r in expected}
    return {"missing": sum(k not in have for k in want),
            "different": sum(k not in want or want[k] != r for k, r in have.items()),
            "duplicated": len(delivered) - len(set(delivered))}


def distinct_duplicates(actual, expected, key, delivered):
    """Counts the alerts delivered more than once, not the extra copies: three copies count one."""
    answer = nb11.recovery_check(actual, expected, key, [])
    answer["duplicated"] = sum(1 for value in set(delivered) if delivered.count(value) > 1)
    return answer


def extra_rows_ignored(actual, expected, key, delivered):
    """Looks only at the expected rows: a row that should not exist goes unseen."""
    answer = nb11.recovery_check([r for r in actual if key(r) in {key(e) for e in expected}], expected, key,
                                 delivered)
    return answer


@pytest.mark.parametrize("wrong", [counts_only, by_position, exact_floats, distinct_duplicates, extra_rows_ignored])
def test_wrong_recovery_checks_fail_on_a_crafted_run(wrong):
    result = nb11.check_recovery_check(wrong)
    assert not result.passed and not result.skipped
    assert "case '" in result.message


def test_the_reference_recovery_time_passes_its_check():
    assert nb11.check_recovery_seconds(nb11.recovery_seconds).passed


def oldest_failure(details, exceptions):
    if not exceptions:
        return None
    return (details["timestamps"]["RUNNING"] - min(e["timestamp"] for e in exceptions)) / 1000


def first_entry(details, exceptions):
    return None if not exceptions else (details["timestamps"]["RUNNING"] - exceptions[0]["timestamp"]) / 1000


def milliseconds(details, exceptions):
    return None if not exceptions else details["timestamps"]["RUNNING"] - max(e["timestamp"] for e in exceptions)


def zero_when_never_failed(details, exceptions):
    return 0.0 if not exceptions else nb11.recovery_seconds(details, exceptions)


def from_the_start(details, exceptions):
    return None if not exceptions else (details["timestamps"]["RUNNING"] - details["start-time"]) / 1000


@pytest.mark.parametrize("wrong", [oldest_failure, first_entry, milliseconds, zero_when_never_failed, from_the_start])
def test_wrong_recovery_times_fail(wrong):
    result = nb11.check_recovery_seconds(wrong)
    assert not result.passed and not result.skipped
    assert "case '" in result.message


def test_a_real_rest_answer_is_judged_by_the_reference():
    details = {"timestamps": {"RUNNING": 1_764_000_030_000}, "start-time": 1_764_000_000_000}
    exceptions = [{"timestamp": 1_764_000_010_000}, {"timestamp": 1_764_000_020_500}]
    assert nb11.recovery_seconds(details, exceptions) == 9.5
    assert not nb11.check_recovery_seconds(oldest_failure, real=(details, exceptions)).passed


def test_a_topic_setting_in_the_producer_config_fails_with_a_hint_not_a_traceback():
    result = nb11.check_safe_producer_config(lambda: {"acks": "all", "enable.idempotence": True,
                                                      "min.insync.replicas": 2})
    assert not result.passed and "topic and broker settings" in result.message, result.message


def test_the_drivers_constants_are_read_as_level_names():
    from cassandra import ConsistencyLevel

    result = nb11.check_read_your_writes_levels(lambda: (ConsistencyLevel.ONE, ConsistencyLevel.ONE))
    assert not result.passed and "ONE writes and ONE reads" in result.message, result.message
