"""pytest settings for the whole repository (the test suite's own fixtures are in tests/conftest.py).

The notebook passes of `make test` run as one pytest run with ``--nbval`` over both folders:

- ``solutions/`` has its outputs compared; ``notebooks/`` (the learner copies, stored without outputs) only has
  to run, as ``--nbval-lax`` would: each collected learner notebook is switched to lax here.
- With pytest-xdist (``-n 2``) a notebook and its learner copy form one unit of work, run one after the other by
  the same worker (``SideBySideScheduling``): they use the same topics, keyspaces and job names. Different
  notebooks use names of their own, so two pairs can run side by side.
- The tests under ``tests/`` run side by side too, a module at a time per worker: each module's topics and
  keyspaces are its own (uuid suffixes or names of its own), except the modules in ``SHARED_SCOPES``, which share a
  session fixture and so one worker.
- What kills or restarts a lab service, or drops keyspaces it does not own, must have nothing beside it: such
  tests are marked ``alone``, and so are the cells of ``ALONE_NOTEBOOKS``; ``make test`` runs them in a run of
  their own (``-m "alone and not three_nodes"``), and the side-by-side runs leave them out.
- What needs the three-node lab is marked ``three_nodes``, and so are the cells of ``THREE_NODE_NOTEBOOKS``:
  ``make test``'s last run starts that lab and runs them (``-m three_nodes``) one at a time.

nbval compares what a notebook cell prints to stderr like any other output. In this course stderr only
carries noise that changes from run to run and says nothing about the results: librdkafka retry warnings
while the broker is still loading, Apache Beam threads of PyFlink's Python workers shutting down. A cell
that really fails raises, and nbval reports the error output; results are printed to stdout or returned,
and compared. So stderr is left out of the comparison.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

LEARNER_FOLDER = "notebooks"
# Notebook 09 kills the pipeline's TaskManager: every job on the session cluster would fail with it. Notebook 12
# freezes Cassandra (every other test's requests would time out) and measures busy times, which a neighbour skews.
ALONE_NOTEBOOKS = {"09", "12"}
# Notebook 11 kills brokers and Cassandra nodes of the three-node lab.
THREE_NODE_NOTEBOOKS = {"11"}
# Test modules that share a session fixture (one anomaly-day pipeline run, topic it.pipeline.day and keyspace
# iotlab_it_pipeline): one worker runs the group, so the run happens once and nobody else writes there.
SHARED_SCOPES = {
    "tests/integration/test_pipeline.py": "the anomaly-day pipeline run",
    "tests/integration/test_dashboard_queries.py": "the anomaly-day pipeline run",
}
# The scopes that take longest, measured (tests/durations.py after `make test`), longest first: the side-by-side
# run hands them out first, so that no worker starts a long one while the other has nothing left to do. Every
# other scope follows in collection order.
LONGEST_SCOPES_FIRST = [
    "tests/integration/test_no_process_left.py",
    "the anomaly-day pipeline run",
    "notebook 10",
    "tests/integration/test_pipeline_failures.py",
    "tests/integration/test_state_and_checkpoints.py",
    "notebook 06",
    "notebook 05",
]
# A notebook cell's node id, as xdist sees it: solutions/05_flink_time_and_windows.ipynb::Cell 3 (pytest 9.2
# writes the file's suffix as a part of its own: solutions/05_flink_time_and_windows::ipynb::Cell 3).
NOTEBOOK_NODE = re.compile(r"^(?:solutions|notebooks)/(\d\d)_[^/:]*(?:\.ipynb|::ipynb)::")


# What an in-process PyFlink job leaves in its Python process's environment (its Python worker runs inside that
# process, in loopback mode, and sets them). Tests run such jobs in the same worker process that starts notebook
# kernels; a kernel inheriting PYFLINK_GATEWAY_DISABLED cannot start its own Java gateway ("It's launching the
# PythonGatewayServer during Python UDF execution which is unexpected"), and every Flink cell in it fails.
PYFLINK_RUNTIME_VARIABLES = ("PYFLINK_GATEWAY_DISABLED", "_PYFLINK_CONN_INFO_PATH", "_PYTHON_WORKER_MEMORY_LIMIT")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    """Start a notebook's kernel (nbval does it while setting up the notebook's first cell) without PyFlink's
    runtime variables, then give them back to this process."""
    kept = {}
    if NOTEBOOK_NODE.match(item.nodeid):
        kept = {name: os.environ.pop(name) for name in PYFLINK_RUNTIME_VARIABLES if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(kept)


@pytest.hookimpl(hookwrapper=True)
def pytest_collect_file(file_path: Path, parent):
    outcome = yield
    if file_path.suffix != ".ipynb":
        return
    for collector in outcome.get_result() or []:
        if not hasattr(collector, "compare_outputs"):  # not nbval's notebook collector
            continue
        if file_path.parent.name == LEARNER_FOLDER:
            collector.compare_outputs = False  # before nbval collects the cells, which read it


def pytest_xdist_make_scheduler(config, log):
    """xdist's scope scheduling: a notebook's number, or a test module (or its ``SHARED_SCOPES`` entry), is the
    unit a worker runs whole (xdist's own ``loadgroup`` marks are lost with pytest 9.2, which no longer reads the
    node id xdist rewrites)."""
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False  # xdist would put the scopes with most items first: ours are ordered

    class SideBySideScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    return SideBySideScheduling(config, log)


def scope_of(nodeid: str) -> str:
    """The unit of work a node belongs to: ``notebook 05`` for solutions/05_x and notebooks/05_x, a test module's
    path, or the ``SHARED_SCOPES`` name of modules that share a session fixture."""
    notebook = NOTEBOOK_NODE.match(nodeid)
    if notebook:
        return f"notebook {notebook.group(1)}"
    module = nodeid.split("::")[0]
    return SHARED_SCOPES.get(module, module)


def longest_first(nodeids: list[str]) -> list[int]:
    """The order (indexes into ``nodeids``) that puts the items of ``LONGEST_SCOPES_FIRST`` first, in that list's
    order, and keeps every other item where it was (a scope's items stay together and in their order)."""
    def rank(index: int) -> tuple[int, int]:
        scope = scope_of(nodeids[index])
        return (LONGEST_SCOPES_FIRST.index(scope) if scope in LONGEST_SCOPES_FIRST else len(LONGEST_SCOPES_FIRST),
                index)
    return sorted(range(len(nodeids)), key=rank)


def pytest_collection_modifyitems(session, config, items) -> None:
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: the scheduler hands out scopes in this order
        items[:] = [items[index] for index in longest_first([item.nodeid for item in items])]
    for item in items:
        notebook_cell = NOTEBOOK_NODE.match(item.nodeid)
        if notebook_cell and notebook_cell.group(1) in ALONE_NOTEBOOKS:
            item.add_marker(pytest.mark.alone)
        if notebook_cell and notebook_cell.group(1) in THREE_NODE_NOTEBOOKS:
            item.add_marker(pytest.mark.three_nodes)
        notebook = getattr(item, "parent", None)
        skip_compare = getattr(notebook, "skip_compare", None)  # set by nbval on each notebook it collects
        if skip_compare is not None and "stderr" not in skip_compare:
            notebook.skip_compare = skip_compare + ("stderr",)
