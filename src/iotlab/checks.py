"""Exercise checks: run a learner's answer on real test cases, say pass or fail with a hint.

Usage in a notebook::

    result = check_average_temperature_by_device(average_temperature_by_device)
    average_temperature_by_device = solution_or_reference(average_temperature_by_device,
                                                          reference.average_temperature_by_device)

A check never raises: it prints its verdict and returns a ``CheckResult`` (truthy when passed).
An exercise left as ``raise NotImplementedError`` is reported as skipped, and
``solution_or_reference`` hands later cells the reference implementation so the notebook still runs.
Solution notebooks ``assert`` the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from iotlab import reference


@dataclass
class CheckResult:
    name: str
    passed: bool
    skipped: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed


def _report(result: CheckResult) -> CheckResult:
    mark = "PASSED" if result.passed else ("SKIPPED" if result.skipped else "FAILED")
    print(f"[{mark}] {result.name}: {result.message}")
    return result


def _is_skipped(function: Callable, probe_args: tuple) -> bool:
    try:
        function(*probe_args)
    except NotImplementedError:
        return True
    except Exception:  # a real attempt that crashes is judged by the cases, not called skipped
        return False
    return False


def solution_or_reference(function: Callable, reference_function: Callable, probe_args: tuple = ([],)) -> Callable:
    """The learner's function if it is implemented, else the reference (and say so)."""
    if _is_skipped(function, probe_args):
        print(f"Exercise not done yet: later cells use the reference {reference_function.__name__}.")
        return reference_function
    return function


def _dicts_close(actual: Any, expected: dict, tolerance: float = 1e-9) -> bool:
    if not isinstance(actual, dict) or set(actual) != set(expected):
        return False
    return all(
        isinstance(actual[key], (int, float)) and math.isclose(actual[key], value, rel_tol=tolerance, abs_tol=tolerance)
        for key, value in expected.items()
    )


def _reading(device: str, temperature: float, second: int = 0) -> dict:
    return {"device_id": device, "timestamp": f"2025-11-05T12:00:{second:02d}Z",
            "temperature": temperature, "humidity": 40.0, "status": "OK"}


# Cases the notebook shows, then cases it does not (so a hard-coded answer fails).
AVERAGE_CASES: list[tuple[str, list[dict]]] = [
    ("two devices", [_reading("device-01", 20.0), _reading("device-02", 30.0), _reading("device-01", 22.0)]),
    ("no readings at all", []),
    ("a single reading", [_reading("device-07", -3.5)]),
    ("interleaved, unsorted devices", [_reading(f"device-{n % 4:02d}", 10.0 + n * 0.1, n) for n in range(40)]),
    ("non-round averages", [_reading("device-01", t) for t in (21.1, 21.2, 21.4)]),
]


def check_average_temperature_by_device(function: Callable[[list[dict]], dict]) -> CheckResult:
    """Exercise 00.1: {device_id: average temperature} from a list of readings."""
    name = "average_temperature_by_device"
    if _is_skipped(function, ([],)):
        return _report(CheckResult(name, False, True, "not implemented yet (remove the raise and write your code)"))
    for case_name, readings in AVERAGE_CASES:
        expected = reference.average_temperature_by_device(readings)
        try:
            actual = function([dict(reading) for reading in readings])
        except Exception as error:
            return _report(CheckResult(
                name, False, False,
                f"case '{case_name}' raised {type(error).__name__}: {error}. "
                "Hint: an empty list of readings should give an empty dict.",
            ))
        if not _dicts_close(actual, expected):
            return _report(CheckResult(
                name, False, False,
                f"case '{case_name}': expected {expected}, got {actual!r}. "
                "Hint: sum and count per device_id, then divide; return a dict keyed by device_id.",
            ))
    return _report(CheckResult(name, True, False, f"all {len(AVERAGE_CASES)} cases correct"))
