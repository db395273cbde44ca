"""Course tooling: write the learner notebooks in ``notebooks/`` from ``solutions/``.

``solutions/`` is the single source of truth (nbgrader's conventions):
- code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes a skeleton: the solution's
  ``# Step ...`` comments and the comment lines that continue them (the steps, without the code), then
  ``raise NotImplementedError("Exercise NN.N: ...")``
  naming the exercise of the nearest ``### Exercise NN.N — title`` heading above, indented like the marker;
- code between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` (the solution's asserts) is removed;
- outputs and execution counts are dropped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Optional

import nbformat

from iotlab.core.errors import CourseBuildError
from iotlab.core.paths import project_root

MARKER = re.compile(r"^(\s*)### (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$")
STEP = re.compile(r"^\s*# Step\b")
COMMENT = re.compile(r"^\s*#")
# "### Exercise 03.3 — validate a record", "## 5. Exercise 00.1 — ...", "## 2. Serialising readings — exercise 01.1"
EXERCISE_HEADING = re.compile(r"^#+ .*?[Ee]xercise (\d\d\.\d+)(?:\s*[—-]+\s*(.+?))?\s*$", re.MULTILINE)


def _stub(exercise: Optional[str]) -> str:
    what = f"{exercise}: replace this line with your code" if exercise else "replace this line with your code"
    return f"raise NotImplementedError({what!r})"


def strip_solutions(source: str, exercise: Optional[str] = None) -> str:
    """The learner's version of one code cell's source; ``exercise`` ("Exercise 03.3 — validate a record")
    goes into the skeleton's NotImplementedError."""
    output: list[str] = []
    region: Optional[str] = None
    in_step = False  # the line before was a step, or a comment line continuing one
    for line in source.splitlines():
        match = MARKER.match(line)
        if match:
            indent, edge, kind = match.groups()
            if edge == "BEGIN":
                if region is not None:
                    raise CourseBuildError(f"nested '### BEGIN {kind}' inside {region}", "close the outer region first")
                region, stub_indent = kind, indent
            else:
                if region != kind:
                    raise CourseBuildError(f"'### END {kind}' without a matching BEGIN",
                                           f"add '### BEGIN {kind}' before it")
                if kind == "SOLUTION":
                    output.append(stub_indent + _stub(exercise))
                region = None
            continue
        if region is None:
            output.append(line)
        elif region == "SOLUTION" and (STEP.match(line) or (in_step and COMMENT.match(line))):
            output.append(line)  # the steps stay, with the comment lines that continue them; the code goes
        in_step = region == "SOLUTION" and bool(STEP.match(line) or (in_step and COMMENT.match(line)))
    if region is not None:
        raise CourseBuildError(f"'### BEGIN {region}' is never closed", f"add '### END {region}' after it")
    return "\n".join(output)


def learner_notebook(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of the solution notebook with solutions stubbed and outputs dropped."""
    notebook = nbformat.from_dict(solution)
    exercise: Optional[str] = None
    for cell in notebook.cells:
        cell.pop("id", None)
        if cell.cell_type == "markdown":
            headings = EXERCISE_HEADING.findall(cell.source)
            if headings:
                number, title = headings[-1]
                exercise = f"Exercise {number} — {title}" if title else f"Exercise {number}"
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, exercise)
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
    notebook.nbformat, notebook.nbformat_minor = 4, 4
    return notebook


def build_all(root: Optional[Path] = None, check_only: bool = False, say: Callable[[str], None] = print) -> list[str]:
    """Write (or, with ``check_only``, compare) every learner notebook. Returns the stale ones."""
    root = root or project_root()
    stale = []
    solutions = sorted((root / "solutions").glob("*.ipynb"))
    if not solutions:
        raise CourseBuildError(f"no notebooks under {root / 'solutions'}",
                               "run from the repository root or pass --root")
    for path in solutions:
        expected = nbformat.writes(learner_notebook(nbformat.read(path, as_version=4))) + "\n"
        target = root / "notebooks" / path.name
        current = target.read_text() if target.exists() else None
        if current != expected:
            stale.append(path.name)
            if not check_only:
                target.parent.mkdir(exist_ok=True)
                target.write_text(expected)
                say(f"wrote {target.relative_to(root)}")
    known = {path.name for path in solutions}
    orphans = [p.name for p in sorted((root / "notebooks").glob("*.ipynb")) if p.name not in known]
    stale.extend(orphans)
    if orphans and not check_only:
        for name in orphans:
            (root / "notebooks" / name).unlink()
            say(f"removed notebooks/{name} (no solution notebook)")
    if not stale:
        say("notebooks/ is up to date with solutions/")
    return stale
