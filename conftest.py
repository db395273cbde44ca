"""pytest settings for the whole repository (the test suite's own fixtures are in tests/conftest.py).

The notebook passes of `make test` run as one pytest run with ``--nbval`` over both folders:

- ``solutions/`` has its outputs compared; ``notebooks/`` (the learner copies, stored without outputs) only has
  to run, as ``--nbval-lax`` would: each collected learner notebook is switched to lax here.
- With pytest-xdist (``-n 2 --dist loadgroup``) a notebook and its learner copy form one group, run one after the
  other by the same worker: they use the same topics, keyspaces and job names. Different notebooks use names of
  their own, so two groups can run side by side. A notebook that kills or restarts a service runs alone, in a
  run of its own (the Makefile's ALONE_NOTEBOOKS).

nbval compares what a notebook cell prints to stderr like any other output. In this course stderr only
carries noise that changes from run to run and says nothing about the results: librdkafka retry warnings
while the broker is still loading, Apache Beam threads of PyFlink's Python workers shutting down. A cell
that really fails raises, and nbval reports the error output; results are printed to stdout or returned,
and compared. So stderr is left out of the comparison.
"""

from __future__ import annotations

from pathlib import Path

import pytest

LEARNER_FOLDER = "notebooks"


@pytest.hookimpl(hookwrapper=True)
def pytest_collect_file(file_path: Path, parent):
    outcome = yield
    if file_path.suffix != ".ipynb" or file_path.parent.name != LEARNER_FOLDER:
        return
    for collector in outcome.get_result() or []:
        if hasattr(collector, "compare_outputs"):  # nbval's notebook collector, before it collects the cells
            collector.compare_outputs = False


def pytest_collection_modifyitems(session, config, items) -> None:
    for item in items:
        notebook = getattr(item, "parent", None)
        skip_compare = getattr(notebook, "skip_compare", None)  # set by nbval on each notebook it collects
        if skip_compare is None:
            continue
        if "stderr" not in skip_compare:
            notebook.skip_compare = skip_compare + ("stderr",)
        # 05_flink_time_and_windows.ipynb in solutions/ and in notebooks/: group "notebook-05"
        item.add_marker(pytest.mark.xdist_group(f"notebook-{Path(str(notebook.path)).name[:2]}"))
