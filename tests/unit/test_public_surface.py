"""Notebooks use the package through each room's top: ``from iotlab.kafka import ...``, never a module below it.

A learner meets a few obvious places to import from (the rooms of DESIGN.md), and the package can move code
between modules without breaking a notebook. The check cells' own module, ``iotlab.course.exercises`` (one
module per notebook), is the one place below a top that notebooks import from.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util

import nbformat
import pytest

from iotlab.core import project_root

ROOMS = ("bench", "cassandra", "core", "course", "deploy", "faults", "flink", "jobs", "kafka", "lab", "sim")
ALLOWED = {f"iotlab.{room}" for room in ROOMS} | {"iotlab.course.exercises"}
NOTEBOOKS = sorted((project_root() / "solutions").glob("*.ipynb"))


def iotlab_imports(notebook) -> list[tuple[str, list[str]]]:
    """(module, names) of every ``iotlab`` import in a notebook's code cells."""
    found = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("iotlab"):
                found.append((node.module, [alias.name for alias in node.names]))
            elif isinstance(node, ast.Import):
                found += [(alias.name, []) for alias in node.names if alias.name.startswith("iotlab")]
    return found


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem[:2])
def test_notebooks_import_from_the_rooms_tops(notebook):
    below = sorted({module for module, _ in iotlab_imports(notebook) if module not in ALLOWED})
    assert not below, f"{notebook.name} imports below a room's top: {below}; export the names from the room"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem[:2])
def test_the_rooms_export_what_the_notebooks_use(notebook):
    for module, names in iotlab_imports(notebook):
        exported = importlib.import_module(module)
        missing = [name for name in names
                   if not hasattr(exported, name) and importlib.util.find_spec(f"{module}.{name}") is None]
        assert not missing, f"{notebook.name}: {module} does not export {missing}"
        public = getattr(exported, "__all__", None)
        if public is not None and module != "iotlab.course.exercises":
            assert not set(names) - set(public), f"{module} lacks {sorted(set(names) - set(public))} in __all__"


def test_the_solutions_import_from_few_places():
    paths = {module for notebook in NOTEBOOKS for module, _ in iotlab_imports(notebook)}
    assert len(paths) <= 14, sorted(paths)
