"""The notebook generator: solution regions become stubs, hidden tests vanish, outputs are dropped."""

import shutil

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from iotlab.core import CourseBuildError, project_root
from iotlab.course.builder import build_all, learner_notebook, strip_solutions


def test_solution_region_becomes_an_indented_skeleton_naming_the_exercise():
    source = ("def f(x):\n    ### BEGIN SOLUTION\n    # Step 1: double it\n    y = x * 2\n    # a remark\n"
              "    # Step 2: return it\n    return y\n    ### END SOLUTION\nprint('after')")
    assert strip_solutions(source, "Exercise 01.2 — double") == (
        "def f(x):\n    # Step 1: double it\n    # Step 2: return it\n"
        "    raise NotImplementedError('Exercise 01.2 — double: replace this line with your code')\nprint('after')"
    )


def test_a_step_keeps_the_comment_lines_that_continue_it():
    source = ("def f(x):\n    ### BEGIN SOLUTION\n    # Step 1: double it, then\n    #         add one\n"
              "    y = x * 2 + 1\n    # a remark on the code\n    return y\n    ### END SOLUTION")
    assert strip_solutions(source) == (
        "def f(x):\n    # Step 1: double it, then\n    #         add one\n"
        "    raise NotImplementedError('replace this line with your code')")


def test_hidden_tests_are_removed_entirely():
    source = "result = check(f)\n### BEGIN HIDDEN TESTS\nassert result.passed\n### END HIDDEN TESTS"
    assert strip_solutions(source) == "result = check(f)"


def test_code_without_markers_is_unchanged():
    assert strip_solutions("a = 1\nb = 2") == "a = 1\nb = 2"


@pytest.mark.parametrize("broken", [
    "### BEGIN SOLUTION\nx = 1",
    "x = 1\n### END SOLUTION",
    "### BEGIN SOLUTION\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n### END SOLUTION",
])
def test_unbalanced_markers_are_an_error(broken):
    with pytest.raises(CourseBuildError):
        strip_solutions(broken)


def test_learner_notebook_has_no_outputs_and_no_solution():
    cell = new_code_cell("### BEGIN SOLUTION\nsecret = 42\n### END SOLUTION", execution_count=3)
    cell.outputs = [new_output("stream", name="stdout", text="42")]
    notebook = learner_notebook(new_notebook(cells=[new_markdown_cell("# Title"), cell]))
    code = notebook.cells[1]
    assert code.outputs == [] and code.execution_count is None
    assert "secret" not in code.source and "raise NotImplementedError(" in code.source
    assert notebook.cells[0].source == "# Title"


def test_every_skeleton_names_its_exercise():
    heading = new_markdown_cell("## 2. Windows\n\n### Exercise 05.2 — sliding windows\n\nWrite it.")
    cell = new_code_cell("def g():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION")
    notebook = learner_notebook(new_notebook(cells=[heading, cell]))
    assert "NotImplementedError('Exercise 05.2 — sliding windows: replace this line" in notebook.cells[1].source
    other_heading = new_markdown_cell("## 2. Serialising readings — exercise 01.1\n\nWrite it.")
    notebook = learner_notebook(new_notebook(cells=[other_heading, cell]))
    assert "NotImplementedError('Exercise 01.1: replace this line" in notebook.cells[1].source


def test_check_reports_a_stale_learner_notebook_and_build_fixes_it(tmp_path):
    shutil.copytree(project_root() / "solutions", tmp_path / "solutions")
    shutil.copytree(project_root() / "notebooks", tmp_path / "notebooks")
    assert build_all(root=tmp_path, check_only=True, say=lambda _: None) == []

    solution = next((tmp_path / "solutions").glob("*.ipynb"))
    notebook = nbformat.read(solution, as_version=4)
    notebook.cells.append(new_code_cell("print('new cell')"))
    nbformat.write(notebook, solution)
    assert build_all(root=tmp_path, check_only=True, say=lambda _: None) == [solution.name]
    build_all(root=tmp_path, say=lambda _: None)
    assert build_all(root=tmp_path, check_only=True, say=lambda _: None) == []


def test_repository_notebooks_are_in_sync_with_solutions():
    stale = build_all(check_only=True, say=lambda _: None)
    assert stale == [], f"run `iotlab course build`: stale {stale}"


def test_every_solution_notebook_has_a_learner_copy_and_no_error_outputs():
    root = project_root()
    solutions = sorted(p.name for p in (root / "solutions").glob("*.ipynb"))
    assert solutions, "no solution notebooks"
    assert solutions == sorted(p.name for p in (root / "notebooks").glob("*.ipynb"))
    for name in solutions:
        notebook = nbformat.read(root / "solutions" / name, as_version=4)
        outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
        assert outputs, f"{name} is stored without outputs: execute it before committing"
        assert not [o for o in outputs if o.output_type == "error"], f"{name} stores an error output"
        # stderr is noise that differs from run to run (client retries, worker threads): nbval ignores it
        # (conftest.py), and a solution learners read should not store it either.
        assert not [o for o in outputs if o.get("name") == "stderr"], f"{name} stores stderr output"
