"""Every check passes the reference, and fails wrong answers (a check that cannot fail is no check)."""

import pytest

from iotlab import reference
from iotlab.checks import check_average_temperature_by_device, solution_or_reference


def test_reference_passes(capsys):
    result = check_average_temperature_by_device(reference.average_temperature_by_device)
    assert result.passed and not result.skipped
    assert "[PASSED]" in capsys.readouterr().out


def sums_instead_of_averages(readings):
    totals = {}
    for r in readings:
        totals[r["device_id"]] = totals.get(r["device_id"], 0) + r["temperature"]
    return totals


def crashes_on_empty_input(readings):
    devices = {r["device_id"] for r in readings}
    return {d: sum(r["temperature"] for r in readings if r["device_id"] == d) / len(readings) * len(devices)
            for d in devices} if readings else 1 / len(readings)


def hard_coded_to_the_shown_example(readings):
    return {"device-01": 21.0, "device-02": 30.0}


def averages_of_humidity(readings):
    return {k: v for k, v in reference.average_temperature_by_device(
        [{**r, "temperature": r["humidity"]} for r in readings]).items()}


def rounded_to_one_decimal(readings):
    return {k: round(v, 1) for k, v in reference.average_temperature_by_device(readings).items()}


def returns_a_list(readings):
    return sorted(reference.average_temperature_by_device(readings).items())


@pytest.mark.parametrize("wrong", [
    sums_instead_of_averages, crashes_on_empty_input, hard_coded_to_the_shown_example,
    averages_of_humidity, rounded_to_one_decimal, returns_a_list,
])
def test_wrong_answers_fail_with_a_hint(wrong, capsys):
    result = check_average_temperature_by_device(wrong)
    assert not result.passed and not result.skipped
    output = capsys.readouterr().out
    assert "[FAILED]" in output and "Hint" in output


def not_done_yet(readings):
    raise NotImplementedError()


def test_a_skipped_exercise_is_reported_and_falls_back_to_the_reference(capsys):
    result = check_average_temperature_by_device(not_done_yet)
    assert result.skipped and not result.passed
    assert "[SKIPPED]" in capsys.readouterr().out
    chosen = solution_or_reference(not_done_yet, reference.average_temperature_by_device)
    assert chosen is reference.average_temperature_by_device
    assert "reference" in capsys.readouterr().out


def test_an_implemented_exercise_is_kept_even_if_wrong():
    assert solution_or_reference(sums_instead_of_averages, reference.average_temperature_by_device) \
        is sums_instead_of_averages
