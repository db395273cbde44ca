"""Exercise 05.4 run live: the reference job passes; jobs without allowed lateness, without a side output,
or with the wrong watermark strategy fail the check."""

from __future__ import annotations

from pyflink.common import Duration, Time, Types, WatermarkStrategy
from pyflink.datastream.window import TumblingEventTimeWindows

from iotlab.course.exercises import nb05
from iotlab.flink import EventTime
from iotlab.jobs.late_firings import FIRING_TYPE, SCENARIO, CountReadings, scenario_results


def windows(readings, strategy):
    return (readings.assign_timestamps_and_watermarks(strategy)
            .key_by(lambda reading: reading.device_id, key_type=Types.STRING())
            .window(TumblingEventTimeWindows.of(Time.minutes(5))))


def no_allowed_lateness(readings, bound, lateness, late_tag):
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_minutes(bound)).with_timestamp_assigner(
        EventTime())
    return windows(readings, strategy).side_output_late_data(late_tag).process(CountReadings(), FIRING_TYPE)


def no_watermarks(readings, bound, lateness, late_tag):
    strategy = WatermarkStrategy.no_watermarks().with_timestamp_assigner(EventTime())
    return (windows(readings, strategy).allowed_lateness(lateness * 60_000).side_output_late_data(late_tag)
            .process(CountReadings(), FIRING_TYPE))


def test_the_reference_job_passes_and_a_window_fires_twice(lab_settings):
    firings, late, _ = scenario_results(SCENARIO, 1, 5)
    assert [f.count for f in firings if f.device_id == "device-02"] == [1, 2] and len(late) == 1
    assert nb05.check_late_tolerant_counts(nb05.late_tolerant_counts, topic="test.live").passed


def test_without_allowed_lateness_the_late_reading_goes_to_the_side_output_and_the_check_fails(lab_settings):
    result = nb05.check_late_tolerant_counts(no_allowed_lateness, topic="test.live")
    assert not result.passed and not result.skipped and "after reading 5" in result.message


def test_without_watermarks_nothing_fires_until_the_end_and_the_check_fails(lab_settings):
    result = nb05.check_late_tolerant_counts(no_watermarks, topic="test.live")
    assert not result.passed and "after reading 4" in result.message


def test_an_unwritten_exercise_is_skipped(lab_settings):
    def stub(readings, bound, lateness, late_tag):
        raise NotImplementedError("Exercise 05.4: write late_tolerant_counts")

    assert nb05.check_late_tolerant_counts(stub, topic="test.live").skipped
