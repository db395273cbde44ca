"""pytest settings for the whole repository (the test suite's own fixtures are in tests/conftest.py).

nbval compares what a notebook cell prints to stderr like any other output. In this course stderr only
carries noise that changes from run to run and says nothing about the results: librdkafka retry warnings
while the broker is still loading, Apache Beam threads of PyFlink's Python workers shutting down. A cell
that really fails raises, and nbval reports the error output; results are printed to stdout or returned,
and compared. So stderr is left out of the comparison.
"""

from __future__ import annotations


def pytest_collection_modifyitems(session, config, items) -> None:
    for item in items:
        notebook = getattr(item, "parent", None)
        skip_compare = getattr(notebook, "skip_compare", None)  # set by nbval on each notebook it collects
        if skip_compare is not None and "stderr" not in skip_compare:
            notebook.skip_compare = skip_compare + ("stderr",)
