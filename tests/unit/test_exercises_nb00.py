"""Notebook 00's check passes the reference and fails wrong answers (a check that cannot fail is no check)."""

import pytest

from iotlab.course.checks import solution_or_reference
from iotlab.course.exercises import nb00

check = nb00.check_average_temperature_by_device
reference = nb00.average_temperature_by_device


def test_reference_passes(capsys):
    result = check(reference)
    assert result.passed and not result.skipped
    assert "[PASSED]" in capsys.readouterr().out


def sums_instead_of_averages(readings):
    totals = {}
    for r in readings:
        totals[r["device_id"]] = totals.get(r["device_id"], 0) + r["temperature"]
    return totals


def crashes_on_empty_input(readings):
    return {r["device_id"]: r["temperature"] for r in readings} if readings else 1 / len(readings)


def hard_coded_to_the_shown_example(readings):
    return {"device-01": 21.0, "device-02": 30.0}


def averages_of_humidity(readings):
    return reference([{**r, "temperature": r["humidity"]} for r in readings])


def rounded_to_one_decimal(readings):
    return {k: round(v, 1) for k, v in reference(readings).items()}


def returns_a_list(readings):
    return sorted(reference(readings).items())


def last_value_wins(readings):
    return {r["device_id"]: r["temperature"] for r in readings}


@pytest.mark.parametrize("wrong", [
    sums_instead_of_averages, crashes_on_empty_input, hard_coded_to_the_shown_example,
    averages_of_humidity, rounded_to_one_decimal, returns_a_list, last_value_wins,
])
def test_wrong_answers_fail_with_a_hint(wrong, capsys):
    result = check(wrong)
    assert not result.passed and not result.skipped
    output = capsys.readouterr().out
    assert "[FAILED]" in output and "Hint" in output


def not_done_yet(readings):
    raise NotImplementedError()


def test_a_skipped_exercise_is_reported_and_falls_back_to_the_reference(capsys):
    result = check(not_done_yet)
    assert result.skipped and not result.passed
    assert "[SKIPPED]" in capsys.readouterr().out
    assert solution_or_reference(not_done_yet, reference) is reference
    assert "reference" in capsys.readouterr().out


def test_an_implemented_exercise_is_kept_without_a_check_result():
    assert solution_or_reference(sums_instead_of_averages, reference) is sums_instead_of_averages


def test_a_wrong_answer_falls_back_to_the_reference_and_says_so(capsys):
    result = check(sums_instead_of_averages)
    capsys.readouterr()
    assert solution_or_reference(sums_instead_of_averages, reference, result=result) is reference
    output = capsys.readouterr().out.strip()
    assert output.count("\n") == 0 and "did not pass its check" in output and "nb00." in output
    passing = check(reference)
    assert solution_or_reference(reference, reference, result=passing) is reference
