"""The machinery behind exercise checks: run a learner's answer on real cases, say pass or fail with a hint.

Each notebook's exercises live in ``iotlab.course.exercises.nbNN``, each with its reference solution and its
check side by side. A check never raises: it prints its verdict and returns a ``CheckResult`` (truthy
when passed). An exercise left as ``raise NotImplementedError`` is reported as SKIPPED, and
``solution_or_reference`` hands later cells the reference so the notebook still runs to the end.
Solution notebooks ``assert`` the result.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional


@dataclass
class CheckResult:
    name: str
    passed: bool
    skipped: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed


def report(result: CheckResult) -> CheckResult:
    """Print the verdict in one line and return it."""
    mark = "PASSED" if result.passed else ("SKIPPED" if result.skipped else "FAILED")
    print(f"[{mark}] {result.name}: {result.message}")
    return result


def is_skipped(function: Callable, probe_args: tuple) -> bool:
    """True when the function still raises NotImplementedError (the learner has not written it)."""
    try:
        function(*probe_args)
    except NotImplementedError:
        return True
    except Exception:  # a real attempt that crashes is judged by the cases, not called skipped
        return False
    return False


def solution_or_reference(function: Callable, reference_function: Callable, probe_args: tuple = ([],),
                          result: Optional[CheckResult] = None) -> Callable:
    """The learner's function if it is implemented (and passed its check, when ``result`` is given), else the
    reference, saying so in one line: a wrong answer must not break the cells that build on it."""
    return _mine_or_reference(function, reference_function, is_skipped(function, probe_args), result)


def class_or_reference(function_class: type, reference_class: type, result: Optional[CheckResult] = None,
                       constructor_args: tuple = ()) -> type:
    """The same for a class the learner writes (a Flink function): not done yet while its ``open`` still raises
    NotImplementedError (on an instance built with ``constructor_args``), or while its check skips it."""
    not_done = result.skipped if result is not None else open_is_stub(function_class, *constructor_args)
    return _mine_or_reference(function_class, reference_class, not_done, result)


def open_is_stub(function_class: type, *constructor_args: object) -> bool:
    """True while the exercise's skeleton is untouched: its ``open`` raises NotImplementedError before it
    touches the runtime context."""
    return is_skipped(lambda: function_class(*constructor_args).open(None), ())


def _mine_or_reference(mine: Any, reference: Any, not_done: bool, result: Optional[CheckResult]) -> Any:
    """The one rule behind the two functions above, and the line that says which one the cells below use."""
    name = f"{reference.__module__.rsplit('.', 1)[-1]}.{reference.__name__}"
    if not_done:
        print(f"Exercise {mine.__name__} not done yet: the cells below use the reference {name}.")
        return reference
    if result is not None and not result.passed:
        print(f"Exercise {result.name} did not pass its check: the cells below use the reference {name} "
              "(fix yours, run its check again, then the cells below).")
        return reference
    return mine


def skipped(name: str) -> CheckResult:
    return report(CheckResult(name, False, True, "not implemented yet (replace the raise with your code)"))


def failed(name: str, message: str) -> CheckResult:
    return report(CheckResult(name, False, False, message))


def passed(name: str, message: str) -> CheckResult:
    return report(CheckResult(name, True, False, message))


def close(actual: Any, expected: Any, tolerance: float = 1e-9) -> bool:
    """Equal, with floats compared to ``tolerance``, through dicts, lists and tuples."""
    if isinstance(expected, float) or isinstance(actual, float):
        if not isinstance(actual, (int, float)) or isinstance(actual, bool):
            return False
        if isinstance(expected, float) and math.isnan(expected):  # "no value": NaN is only close to NaN
            return math.isnan(actual)
        return math.isclose(actual, expected, rel_tol=tolerance, abs_tol=tolerance)
    if isinstance(expected, dict):
        return isinstance(actual, dict) and set(actual) == set(expected) and all(
            close(actual[key], value, tolerance) for key, value in expected.items())
    if isinstance(expected, (list, tuple)):
        return isinstance(actual, (list, tuple)) and len(actual) == len(expected) and all(
            close(a, e, tolerance) for a, e in zip(actual, expected))
    return actual == expected


def check_cases(
    name: str, function: Callable, reference_function: Callable, cases: Iterable[tuple[str, tuple]], hint: str,
    probe_args: tuple,
) -> CheckResult:
    """Compare ``function`` with ``reference_function`` on each ``(case name, arguments)``."""
    if is_skipped(function, probe_args):
        return skipped(name)
    cases = list(cases)
    for case_name, arguments in cases:
        expected = reference_function(*arguments)
        try:
            actual = function(*arguments)
        except Exception as error:
            return failed(name, f"case '{case_name}' raised {type(error).__name__}: {error}. Hint: {hint}")
        if not close(actual, expected):
            return failed(name, f"case '{case_name}': expected {expected!r}, got {actual!r}. Hint: {hint}")
    return passed(name, f"all {len(cases)} cases correct")


def error_reason(error: BaseException, limit: int = 300) -> str:
    """The line of an error that says what went wrong: for a Flink (Java) error, its deepest ``Caused by``
    (a Py4J error's first line only says which Java method was called); otherwise its first line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    causes = [line for line in lines if ("Exception:" in line or "Error:" in line) and not line.startswith("at ")]
    reason = (causes[-1] if causes else (lines[0] if lines else type(error).__name__))
    reason = reason.removeprefix("Caused by:").strip().lstrip(":").strip()
    return reason[:limit]


_CQL_TOKEN = re.compile(r"""--[^\n]*|//[^\n]*|/\*.*?\*/"""  # comments
                        r"""|'(?:[^']|'')*'|"(?:[^"]|"")*"|\$\$.*?\$\$"""  # strings and quoted names
                        r"""|[A-Za-z_][A-Za-z0-9_]*|\S""", re.DOTALL)  # words, and any other character


def cql_words(cql: str) -> list[str]:
    """The words of a CQL statement, upper-cased, without comments and string literals: what a check looks for
    (``ALLOW FILTERING`` however it is spaced, split over lines or commented in between), never raw text."""
    words = []
    for token in _CQL_TOKEN.findall(cql):
        if token.startswith(("--", "//", "/*", "'", "$$")):
            continue  # a comment or a string: not part of the statement's syntax
        words.append(token.upper())
    return words


def allows_filtering(cql: str) -> bool:
    """True when the statement ends with ALLOW FILTERING (Cassandra then scans partitions it was not given)."""
    words = cql_words(cql)
    return any(first == "ALLOW" and second == "FILTERING" for first, second in zip(words, words[1:]))
