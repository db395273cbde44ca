"""Names of Flink tasks as notebook 12 shows them (iotlab.course.live): the chain of operators without the numbers
the planner gives each job's operators, so one task of two jobs compares side by side."""

from __future__ import annotations

from iotlab.course.live import operator_chain, short_name

# Task names as Flink's Prometheus reporter labels them (every character but letters, digits, _ and : becomes _).
FIRST_JOB = "OverAggregate_15_____Calc_16_____Correlate_17_____Calc_18_"
SECOND_JOB = "OverAggregate_21_____Calc_22_____Correlate_23_____Calc_24_"


def test_the_same_task_of_two_jobs_gets_one_name():
    assert operator_chain(FIRST_JOB) == operator_chain(SECOND_JOB) == "OverAggregate → Calc → Correlate → Calc"


def test_different_chains_keep_different_names():
    assert operator_chain("OverAggregate_21_____Calc_22_") == "OverAggregate → Calc"
    assert operator_chain("OverAggregate_21_____Calc_22_") != operator_chain(FIRST_JOB)


def test_the_source_keeps_its_table_name_and_long_chains_are_cut():
    source = "Source:_kafka_readings_1_____Calc_2_____TableToDataStream____restored_watermark_____Calc_5_"
    assert operator_chain(source, width=200) == \
        "Source: kafka_readings → Calc → TableToDataStream → restored_watermark → Calc"
    assert short_name(source) == operator_chain(source, width=30)
    assert len(short_name(source)) == 30 and short_name(source).endswith("…")
