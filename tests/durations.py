"""Where `make test`'s time goes: read the JUnit XML reports of its pytest passes and print, per pass, its
total; per notebook, the time of its cells (both copies); and the slowest items of the whole run.

    python tests/durations.py test-reports [--slowest 15]
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from pathlib import Path


def wall_seconds(path: Path) -> float:
    """How long the pytest run of a report took, start to end (its items may have run side by side)."""
    root = ElementTree.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    return sum(float(suite.get("time", 0)) for suite in suites)


def read_report(path: Path) -> list[tuple[str, str, float]]:
    """(file, test name, seconds) of every test case in one JUnit XML report."""
    cases = []
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        file = case.get("file") or case.get("classname", "").replace(".", "/")
        cases.append((file, case.get("name", ""), float(case.get("time", 0))))
    return cases


def minutes(seconds: float) -> str:
    return f"{seconds / 60:5.1f} min"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", type=Path, help="the folder of JUnit XML reports (one per pytest pass)")
    parser.add_argument("--slowest", type=int, default=15)
    arguments = parser.parse_args(argv)
    reports = sorted(arguments.reports.glob("*.xml"))
    if not reports:
        print(f"no JUnit XML reports in {arguments.reports}: run `make test` first")
        return 1
    everything: list[tuple[str, str, float]] = []
    print("passes (wall clock; the items' own times added up, where they ran side by side):")
    for report in reports:
        cases = read_report(report)
        everything += cases
        print(f"  {minutes(wall_seconds(report))}  {report.stem} ({len(cases)} items; "
              f"{minutes(sum(seconds for *_, seconds in cases)).strip()} of item time)")
    print(f"  {minutes(sum(wall_seconds(report) for report in reports))}  in all")
    per_notebook: dict[str, float] = defaultdict(float)
    for file, _, seconds in everything:
        if file.endswith(".ipynb"):
            per_notebook[Path(file).name] += seconds
    if per_notebook:
        print("notebooks (solutions/ and notebooks/ together, item time):")
        for name, seconds in sorted(per_notebook.items(), key=lambda item: -item[1]):
            print(f"  {minutes(seconds)}  {name}")
    print(f"the {arguments.slowest} slowest items:")
    for file, name, seconds in sorted(everything, key=lambda case: -case[2])[:arguments.slowest]:
        print(f"  {seconds:7.1f} s  {file}::{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
