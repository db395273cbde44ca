"""What `iotlab course reset NN` counts as notebook NN's: the course's naming convention, and nothing near it."""

from __future__ import annotations

import pytest

from iotlab.core.errors import OptionError
from iotlab.course.reset import notebook_number, owns_job, owns_keyspace, owns_topic


def test_a_notebooks_topics_and_its_checks_topics_and_no_other():
    for topic in ("nb12.readings", "nb12.readings.b", "nb12", "check.nb12.x"):
        assert owns_topic("12", topic), topic
    assert owns_topic("03", "nb03-watermarks")
    for topic in ("nb120.x", "nb1.x", "it.nb12", "nb13.readings", "check.nb13.x", "readings"):
        assert not owns_topic("12", topic), topic


def test_a_notebooks_keyspaces_and_jobs():
    assert all(owns_keyspace("11", name) for name in ("iotlab_nb11", "iotlab_nb11_pipeline", "iotlab_check_nb11"))
    assert not any(owns_keyspace("11", name) for name in ("iotlab_nb110", "iotlab", "iotlab_it_nb11", "nb11"))
    assert owns_job("12", "iotlab pipeline: nb12.readings -> iotlab_nb12")
    assert owns_job("06", "silence alerts: check.nb06.savepoint.7967ea91")
    assert not owns_job("12", "iotlab pipeline: it.metrics -> iotlab_it_metrics")


def test_the_notebook_number_is_read_or_refused_clearly():
    assert [notebook_number(text) for text in ("7", "07", "07_cassandra_data_modeling.ipynb")] == ["07"] * 3
    with pytest.raises(OptionError, match="not a notebook number"):
        notebook_number("seven")
