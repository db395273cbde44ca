"""A learner's progress: every exercise check of their notebooks, read from the notebooks themselves.

Each exercise's check cell calls ``nbNN.check_...`` and prints its verdict (``[PASSED] name: ...``, ``[FAILED]``,
``[SKIPPED]``) into the notebook's stored output, so a learner's saved notebooks already hold the result of the
last time they ran each check: reading it re-runs no job. A check cell with no stored output was not run; one
that raised shows its error. ``execute=True`` runs a copy of each notebook first (with the lab up), for notebooks
saved without their outputs."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import nbformat

CHECK_CALL = re.compile(r"\bnb\d\d\.check_(\w+)\(")
VERDICT = re.compile(r"^\[(PASSED|FAILED|SKIPPED)\] (\w+): (.*)$", re.MULTILINE)
EXERCISE_HEADING = re.compile(r"^#+.*?\bexercise\s+(\d+\.\d+)", re.MULTILINE | re.IGNORECASE)
STATUSES = ("passed", "failed", "skipped", "not run", "error")


@dataclass(frozen=True)
class ExerciseStatus:
    """One exercise of one notebook: its number (``13.1``), the check's name, its status and what it said."""
    notebook: str
    exercise: str
    check: str
    status: str
    message: str


def cell_text(cell) -> str:
    """Everything a code cell printed (streams and text results)."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "".join(parts)


def statuses_of(notebook_path: Path) -> list[ExerciseStatus]:
    """The status of every exercise check in one notebook, from its stored outputs."""
    notebook = nbformat.read(notebook_path, as_version=4)
    exercise = "?"
    found = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            heading = EXERCISE_HEADING.search(cell.source)
            exercise = heading.group(1) if heading else exercise
            continue
        if cell.cell_type != "code":
            continue
        call = CHECK_CALL.search(cell.source)
        if call is None:
            continue
        check = call.group(1)
        errors = [output for output in cell.get("outputs", []) if output.get("output_type") == "error"]
        verdicts = list(VERDICT.finditer(cell_text(cell)))  # named after the function or class checked
        if verdicts:
            status, _, message = verdicts[-1].groups()
            found.append(ExerciseStatus(notebook_path.stem, exercise, check, status.lower(), message))
        elif errors:
            error = errors[-1]
            found.append(ExerciseStatus(notebook_path.stem, exercise, check, "error",
                                        f"{error.get('ename')}: {error.get('evalue')}"))
        else:
            found.append(ExerciseStatus(notebook_path.stem, exercise, check, "not run", ""))
    return found


def executed_copy(notebook_path: Path, folder: Path, timeout_s: int = 1800) -> Path:
    """Run a copy of a notebook in ``folder`` (the learner's file is left as it is), from the notebook's own
    folder, and return the copy; a cell that raises does not stop it (its error is the check's status)."""
    from nbclient import NotebookClient

    notebook = nbformat.read(notebook_path, as_version=4)
    NotebookClient(notebook, timeout=timeout_s, allow_errors=True,
                   resources={"metadata": {"path": str(notebook_path.parent)}}).execute()
    copy = folder / notebook_path.name
    nbformat.write(notebook, copy)
    return copy


def progress(folder: Path, execute: bool = False, only: Optional[str] = None,
             say: Callable[[str], None] = print) -> list[ExerciseStatus]:
    """Every exercise of every notebook (``NN_*.ipynb``) in ``folder``, or of notebook ``only`` (``"13"``)."""
    paths = sorted(path for path in folder.glob("[0-9][0-9]_*.ipynb") if only is None or path.name[:2] == only)
    found: list[ExerciseStatus] = []
    with tempfile.TemporaryDirectory() as scratch:
        for path in paths:
            if execute:
                say(f"running {path.name} ...")
                path = executed_copy(path, Path(scratch))
            found += statuses_of(path)
    return found


def summary_table(statuses: list[ExerciseStatus]) -> str:
    """One line per exercise, then the count of each status."""
    lines = [f"{'notebook':<38} {'exercise':<8} {'check':<28} {'status':<8} message"]
    for row in statuses:
        lines.append(f"{row.notebook:<38} {row.exercise:<8} {row.check:<28} {row.status:<8} {row.message[:70]}")
    counts = {status: sum(1 for row in statuses if row.status == status) for status in STATUSES}
    lines.append(", ".join(f"{count} {status}" for status, count in counts.items()) + f" of {len(statuses)}")
    return "\n".join(lines)
