"""pytest settings for the whole repository (the test suite's own fixtures are in tests/conftest.py).

The notebook passes of `make test` run as one pytest run with ``--nbval`` over both folders:

- ``solutions/`` has its outputs compared; ``notebooks/`` (the learner copies, stored without outputs) only has
  to run, as ``--nbval-lax`` would: each collected learner notebook is switched to lax here.
- With pytest-xdist (``-n 2``) a notebook and its learner copy form one unit of work, run one after the other by
  the same worker (``NotebookPairScheduling``): they use the same topics, keyspaces and job names. Different
  notebooks use names of their own, so two pairs can run side by side. A notebook that kills or restarts a
  service runs alone, in a run of its own (the Makefile's ALONE_NOTEBOOKS).

nbval compares what a notebook cell prints to stderr like any other output. In this course stderr only
carries noise that changes from run to run and says nothing about the results: librdkafka retry warnings
while the broker is still loading, Apache Beam threads of PyFlink's Python workers shutting down. A cell
that really fails raises, and nbval reports the error output; results are printed to stdout or returned,
and compared. So stderr is left out of the comparison.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

LEARNER_FOLDER = "notebooks"
# A notebook cell's node id, as xdist sees it: solutions/05_flink_time_and_windows.ipynb::Cell 3 (pytest 9.2
# writes the file's suffix as a part of its own: solutions/05_flink_time_and_windows::ipynb::Cell 3).
NOTEBOOK_NODE = re.compile(r"^(?:solutions|notebooks)/(\d\d)_[^/:]*(?:\.ipynb|::ipynb)::")


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
    """xdist's scope scheduling with a notebook's number as the scope (xdist's own ``loadgroup`` marks are lost
    with pytest 9.2, which no longer reads the node id xdist rewrites)."""
    from xdist.scheduler import LoadScopeScheduling

    class NotebookPairScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            notebook = NOTEBOOK_NODE.match(nodeid)  # solutions/05_x and notebooks/05_x: scope "notebook 05"
            return f"notebook {notebook.group(1)}" if notebook else super()._split_scope(nodeid)

    return NotebookPairScheduling(config, log)


def pytest_collection_modifyitems(session, config, items) -> None:
    for item in items:
        notebook = getattr(item, "parent", None)
        skip_compare = getattr(notebook, "skip_compare", None)  # set by nbval on each notebook it collects
        if skip_compare is not None and "stderr" not in skip_compare:
            notebook.skip_compare = skip_compare + ("stderr",)
