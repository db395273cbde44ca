"""The repository's pytest settings (conftest.py at the root): stderr noise is ignored, stdout still compared; what
runs side by side shares nothing, and what must run alone is marked so."""

import importlib.util
import os
import subprocess
import sys
import tempfile
from types import SimpleNamespace

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from iotlab.core.paths import project_root


def stored_cell(source: str, stdout: str, count: int):
    cell = new_code_cell(source, execution_count=count)
    cell.outputs = [new_output("stream", name="stdout", text=stdout)]
    return cell


def test_stderr_is_not_compared_but_stdout_is():
    notebook = new_notebook(cells=[
        stored_cell('import sys\nprint("result 42")\nprint("retrying...", file=sys.stderr)', "result 42\n", 1),
        stored_cell('print("result 43")', "result 42\n", 2),
    ], metadata={"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}})
    # Inside the repository, so that its conftest.py applies.
    with tempfile.TemporaryDirectory(dir=project_root(), prefix=".nbval-probe-") as folder:
        path = f"{folder}/probe.ipynb"
        nbformat.write(notebook, path)
        run = subprocess.run([sys.executable, "-m", "pytest", "--nbval", path, "-p", "no:cacheprovider", "-q"],
                             cwd=project_root(), capture_output=True, text=True, timeout=120)
    assert "1 failed, 1 passed" in run.stdout, run.stdout[-2000:]
    summary = run.stdout.split("short test summary")[-1]
    assert "probe.ipynb::Cell 1" in summary and "probe.ipynb::Cell 0" not in summary


def root_conftest():
    spec = importlib.util.spec_from_file_location("root_conftest", project_root() / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_notebook_and_its_learner_copy_share_a_scope_and_test_modules_have_their_own():
    scope_of = root_conftest().scope_of
    assert scope_of("solutions/05_flink_time_and_windows::ipynb::Cell 3") == "notebook 05"
    assert scope_of("notebooks/05_flink_time_and_windows.ipynb::Cell 7") == "notebook 05"
    assert scope_of("solutions/06_flink_state_and_checkpoints::ipynb::Cell 0") == "notebook 06"
    assert scope_of("tests/integration/test_aggregate.py::test_x[1]") == "tests/integration/test_aggregate.py"
    assert scope_of("tests/integration/test_pipeline.py::test_a") == scope_of(
        "tests/integration/test_dashboard_queries.py::test_b[panel]"), "one anomaly-day pipeline run, one worker"


def test_the_longest_scopes_go_first_and_every_other_item_keeps_its_place():
    conftest = root_conftest()
    nodeids = ["tests/unit/test_a.py::test_1",
               "solutions/06_flink_state_and_checkpoints::ipynb::Cell 0",
               "solutions/06_flink_state_and_checkpoints::ipynb::Cell 1",
               "tests/unit/test_b.py::test_1",
               "tests/integration/test_no_process_left.py::test_x[a]",
               "notebooks/06_flink_state_and_checkpoints.ipynb::Cell 0",
               "tests/integration/test_pipeline.py::test_y",
               "tests/integration/test_no_process_left.py::test_x[b]"]
    ordered = [nodeids[index] for index in conftest.longest_first(nodeids)]
    assert ordered == [nodeids[i] for i in (4, 7, 6, 1, 2, 5, 0, 3)]


def test_every_longest_scope_names_a_notebook_a_test_module_or_a_shared_scope():
    conftest = root_conftest()
    root = project_root()
    notebooks = {f"notebook {path.name[:2]}" for path in (root / "solutions").glob("*.ipynb")}
    modules = {str(path.relative_to(root)) for path in (root / "tests").rglob("test_*.py")}
    for scope in conftest.LONGEST_SCOPES_FIRST:
        assert scope in notebooks | modules | set(conftest.SHARED_SCOPES.values()), scope


def test_a_notebook_kernel_starts_without_what_an_in_process_pyflink_job_left_in_the_environment(monkeypatch):
    conftest = root_conftest()
    monkeypatch.setenv("PYFLINK_GATEWAY_DISABLED", "true")
    setup = conftest.pytest_runtest_setup(SimpleNamespace(nodeid="solutions/10_anomaly_detection.ipynb::Cell 0"))
    next(setup)  # where the kernel starts
    assert "PYFLINK_GATEWAY_DISABLED" not in os.environ
    with pytest.raises(StopIteration):
        next(setup)
    assert os.environ["PYFLINK_GATEWAY_DISABLED"] == "true"  # this process keeps its own
    test_setup = conftest.pytest_runtest_setup(SimpleNamespace(nodeid="tests/unit/test_x.py::test_y"))
    next(test_setup)
    assert os.environ["PYFLINK_GATEWAY_DISABLED"] == "true"


def test_alone_selects_notebooks_09_and_12_and_the_tests_that_kill_a_service_or_drop_keyspaces():
    run = subprocess.run([sys.executable, "-m", "pytest", "--nbval", "--collect-only", "-q", "-m", "alone",
                          "tests", "solutions", "notebooks", "-p", "no:cacheprovider"],
                         cwd=project_root(), capture_output=True, text=True, timeout=300)
    selected = [line for line in run.stdout.splitlines() if "::" in line]
    files = {line.split("::")[0].removesuffix(".ipynb") for line in selected}
    assert files == {"solutions/09_end_to_end_pipeline", "notebooks/09_end_to_end_pipeline",
                     "solutions/12_observability_and_performance", "notebooks/12_observability_and_performance",
                     "tests/integration/test_pipeline.py", "tests/integration/test_pipeline_failures.py",
                     "tests/integration/test_cassandra_store.py", "tests/integration/test_lab.py"}, \
        run.stdout[-2000:]
    tests = [line.split("::")[1] for line in selected if line.startswith("tests/")]
    assert sorted(tests) == ["test_a_killed_jobmanager_is_replaced_and_the_pipeline_resumes_from_its_checkpoint",
                             "test_a_refused_row_goes_to_the_sink_dead_letter_topic_and_the_job_runs_on",
                             "test_a_taskmanager_that_exits_on_its_own_is_replaced_by_the_supervisor",
                             "test_a_three_minute_cassandra_outage_ends_with_the_rows_of_a_clean_run",
                             "test_reset_drops_the_course_keyspaces_only",
                             "test_unbounded_run_survives_a_killed_taskmanager"]


def test_three_nodes_selects_notebook_11_and_the_tests_that_need_three_nodes():
    run = subprocess.run([sys.executable, "-m", "pytest", "--nbval", "--collect-only", "-q", "-m", "three_nodes",
                          "tests", "solutions", "notebooks", "-p", "no:cacheprovider"],
                         cwd=project_root(), capture_output=True, text=True, timeout=300)
    files = {line.split("::")[0].removesuffix(".ipynb") for line in run.stdout.splitlines() if "::" in line}
    assert files == {"solutions/11_fault_tolerance", "notebooks/11_fault_tolerance",
                     "tests/integration/test_three_node_lab.py", "tests/integration/test_exercises_nb11.py"}, \
        run.stdout[-2000:]
