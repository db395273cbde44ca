"""`iotlab progress` on a learner's copy worked as a learner works: notebook 13 (it needs no lab) with exercise 13.1
solved, 13.2 answered wrongly, 13.3 and 13.4 left as they were, run for real; then the command reads the saved
notebook and reports each exercise as it went. Notebook 12's learner copy, never run, has every check not run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from iotlab.core.paths import project_root
from iotlab.course.progress import executed_copy, statuses_of

IOTLAB = str(Path(sys.executable).with_name("iotlab"))
SOLVED_13_1 = '''
def alerts_topic(source_topic: str, replicas: int) -> dict:
    name = OutputTopics(source_topic).alerts
    return {"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
            "metadata": {"name": name.replace(".", "-"), "labels": {"strimzi.io/cluster": "iotlab"}},
            "spec": {"topicName": name, "partitions": 1, "replicas": replicas}}
'''
WRONG_13_2 = '''
def pipeline_deployment(topic: str, keyspace: str) -> dict:
    return {"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment", "metadata": {"name": "p"},
            "spec": {"image": "flink:2.2", "flinkVersion": "v2_2"}}
'''


def answer(notebook, function: str, code: str) -> None:
    """Replace the exercise cell that defines ``function`` with ``code`` (what a learner types)."""
    cell = next(cell for cell in notebook.cells if cell.cell_type == "code" and f"def {function}(" in cell.source)
    prelude = cell.source.split("def ")[0]  # the cell's imports, kept
    cell.source = prelude + code.strip() + "\n"


def test_progress_reports_a_learner_copy_with_some_exercises_solved_and_some_not(tmp_path):
    learner = nbformat.read(project_root() / "notebooks" / "13_deployment.ipynb", as_version=4)
    answer(learner, "alerts_topic", SOLVED_13_1)
    answer(learner, "pipeline_deployment", WRONG_13_2)
    folder = tmp_path / "my-notebooks"
    folder.mkdir()
    path = folder / "13_deployment.ipynb"
    nbformat.write(learner, path)
    shutil.copy(project_root() / "notebooks" / "12_observability_and_performance.ipynb", folder)
    # Run it as JupyterLab would (from the course's notebooks/ folder), and save it with its outputs.
    worked = executed_copy(path, tmp_path)
    shutil.copy(worked, path)

    by_exercise = {row.exercise: row for row in statuses_of(path)}
    assert {exercise: row.status for exercise, row in by_exercise.items()} == \
        {"13.1": "passed", "13.2": "failed", "13.3": "skipped", "13.4": "skipped"}
    assert "expected iotlab-flink" in by_exercise["13.2"].message or "CRD refuses" in by_exercise["13.2"].message

    run = subprocess.run([IOTLAB, "progress", str(folder)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert any(line.startswith("13_deployment") and " 13.1 " in line and " passed " in line for line in lines)
    assert any(line.startswith("13_deployment") and " 13.2 " in line and " failed " in line for line in lines)
    assert sum(line.startswith("12_observability") and " not run " in line for line in lines) == 3
    assert lines[-1] == "1 passed, 1 failed, 2 skipped, 3 not run, 0 error of 7"


def test_a_check_cell_that_raised_is_reported_as_an_error(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("### Exercise 99.1 — something"),
        nbformat.v4.new_code_cell("result = nb99.check_something(f)", outputs=[nbformat.v4.new_output(
            "error", ename="NameError", evalue="name 'nb99' is not defined", traceback=[])])])
    path = tmp_path / "99_x.ipynb"
    nbformat.write(notebook, path)
    [row] = statuses_of(path)
    assert (row.exercise, row.check, row.status) == ("99.1", "something", "error")
    assert "NameError" in row.message
