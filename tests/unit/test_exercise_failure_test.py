"""Exercise 09.4 (the failure test): the reference passes the real run and fails each copy with one thing wrong;
each test that cannot fail where it should is itself failed by the check, naming the case it let through.
The check is pure: the notebook gives it the real run's evidence (REST, consumer lag, Cassandra, recomputation);
here the evidence is a small run written out by hand."""

from __future__ import annotations

import pytest

from iotlab.course.exercises import nb09

KEYS = {"windows": ("device_id", "window_start"), "latest": ("device_id",),
        "alerts": ("device_id", "kind", "quantity", "alert_at")}


def window(device: str, start: str, count: int, avg: float) -> dict:
    return {"device_id": device, "window_start": start, "window_end": start.replace(":00:", ":05:"), "count": count,
            "avg_temp": avg}


def run() -> nb09.RunEvidence:
    tables = {"windows": [window("device-01", "2025-11-05T22:00:00Z", 5, 21.0),
                          window("device-02", "2025-11-05T22:00:00Z", 4, 19.5)],
              "latest": [{"device_id": "device-01", "timestamp": "2025-11-05T22:04:00Z", "temperature": 21.2},
                         {"device_id": "device-02", "timestamp": "2025-11-05T22:04:00Z", "temperature": 19.1}],
              "alerts": [{"device_id": "device-02", "kind": "spike", "quantity": "temperature",
                          "alert_at": "2025-11-05T22:03:00Z", "score": 7.5}]}
    return nb09.RunEvidence(restores=1, lag=0, stored={t: list(rows) for t, rows in tables.items()},
                            expected={t: list(rows) for t, rows in tables.items()}, keys=KEYS)


def test_the_reference_passes_and_a_stub_is_skipped():
    assert nb09.check_failure_test(nb09.assert_nothing_lost, run()).passed

    def stub(evidence):
        raise NotImplementedError("Exercise 09.4")

    assert nb09.check_failure_test(stub, run()).skipped


def counts_only(evidence):
    """Compares how many rows, not which or what."""
    assert evidence.restores >= 1 and evidence.lag == 0, "no fault, or not caught up"
    assert evidence.expected["windows"], "nothing to compare"
    for table in evidence.keys:
        assert len(evidence.stored[table]) == len(evidence.expected[table]), table


def no_restore_check(evidence):
    assert evidence.lag == 0, "not caught up"
    for table, key in evidence.keys.items():
        assert not any(nb09.compare_rows(evidence.stored[table], evidence.expected[table], key).values()), table


def no_lag_check(evidence):
    assert evidence.restores >= 1, "no fault"
    for table, key in evidence.keys.items():
        assert not any(nb09.compare_rows(evidence.stored[table], evidence.expected[table], key).values()), table


def windows_only(evidence):
    assert evidence.restores >= 1 and evidence.lag == 0 and evidence.expected["windows"], "no fault"
    assert not any(nb09.compare_rows(evidence.stored["windows"], evidence.expected["windows"],
                                     evidence.keys["windows"]).values()), "windows differ"


def all_but_alerts(evidence):
    windows_only(evidence)
    assert not any(nb09.compare_rows(evidence.stored["latest"], evidence.expected["latest"],
                                     evidence.keys["latest"]).values()), "latest readings differ"


def returns_false(evidence):
    try:
        nb09.assert_nothing_lost(evidence)
    except AssertionError:
        return False
    return True


def silent(evidence):
    try:
        nb09.assert_nothing_lost(evidence)
    except AssertionError:
        raise AssertionError() from None


def crashes(evidence):
    return evidence.stored["readings"]


@pytest.mark.parametrize("wrong, rule", [
    (counts_only, "a window's count one short"),
    (no_restore_check, "no restore"),
    (no_lag_check, "before the job caught up"),
    (lambda evidence: no_lag_check(evidence) if evidence.lag == 0 else None, "before the job caught up"),
    (windows_only, "a latest reading of a device that never sent"),
    (all_but_alerts, "an alert's score changed"),
    (returns_false, "your test passed it"),
    (silent, "without saying why"),
    (crashes, "not by crashing"),
    (lambda evidence: nb09.assert_nothing_lost(nb09.RunEvidence(0, 0, {}, {}, {})), "fails the real run"),
])
def test_wrong_failure_tests_fail_with_the_case_they_let_through(wrong, rule):
    result = nb09.check_failure_test(wrong, run())
    assert not result.passed and not result.skipped
    assert rule in result.message, result.message


def test_a_real_run_that_lost_a_row_is_reported_before_the_learners_test():
    lossy = run()
    lossy.stored["windows"] = lossy.stored["windows"][1:]
    result = nb09.check_failure_test(nb09.assert_nothing_lost, lossy)
    assert not result.passed and "the real run itself lost or changed something" in result.message
    assert "windows: 1 missing" in result.message
