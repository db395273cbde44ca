"""The course's one offline rule (``iotlab.core.offline``), and the places that must follow it."""

from iotlab.core import END_OF_INPUT, OFFLINE_GAP_MINUTES, OFFLINE_GAP_MS, ends_silence, silence_is_raised
from iotlab.jobs.anomalies.detectors import OfflineDetector
from iotlab.jobs.anomalies.sql import silence_statement

MINUTE = 60_000


def test_a_gap_of_exactly_ten_minutes_ends_a_silence_and_a_shorter_one_does_not():
    assert OFFLINE_GAP_MINUTES == 10 and OFFLINE_GAP_MS == 10 * MINUTE
    assert ends_silence(0, 10 * MINUTE)
    assert not ends_silence(0, 10 * MINUTE - 1)


def test_a_running_job_raises_a_silence_once_the_watermark_reaches_its_due_moment():
    assert not silence_is_raised(0, None, 10 * MINUTE - 1)
    assert silence_is_raised(0, None, 10 * MINUTE)
    assert silence_is_raised(0, 30 * MINUTE, 10 * MINUTE)  # the next reading has not come yet: still raised
    assert not silence_is_raised(0, 5 * MINUTE, 60 * MINUTE)  # heard from in time


def test_the_end_of_a_recording_is_not_a_silence_but_a_later_reading_proves_one():
    assert not silence_is_raised(0, None, END_OF_INPUT)
    assert silence_is_raised(0, 10 * MINUTE, END_OF_INPUT)
    assert not silence_is_raised(0, 9 * MINUTE, END_OF_INPUT)


def test_the_python_detector_and_the_sql_session_window_use_the_same_gap():
    detector = OfflineDetector()
    assert detector.gap_ms == OFFLINE_GAP_MS
    assert detector.observe("d", 0) == []
    assert [alert["start"] for alert in detector.observe("d", 10 * MINUTE)] == ["1970-01-01T00:00:00Z"]
    assert detector.observe("d", 19 * MINUTE) == []
    assert f"INTERVAL '{OFFLINE_GAP_MINUTES}' MINUTE" in silence_statement("readings")
