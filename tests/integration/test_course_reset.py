"""`iotlab course reset NN` on the lab: notebook NN's topics (its checks' too) and keyspaces go, with its running
job; another notebook's, and anything else, stay."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from iotlab.cassandra import closing_session
from iotlab.cassandra.session import ensure_keyspace
from iotlab.kafka import recreate_topic
from iotlab.kafka.clients import admin_client

pytestmark = pytest.mark.integration
IOTLAB = str(Path(sys.executable).with_name("iotlab"))


def test_reset_removes_one_notebooks_topics_and_keyspaces_and_leaves_the_rest():
    mine, theirs = ["nb98.readings", "nb98-x", "check.nb98.y"], ["nb99.readings", "it.nb98"]
    for topic in mine + theirs:
        recreate_topic(topic, partitions=1)
    with closing_session() as session:
        for keyspace in ("iotlab_nb98", "iotlab_check_nb98", "iotlab_nb99"):
            ensure_keyspace(session, keyspace, 1)
    run = subprocess.run([IOTLAB, "course", "reset", "98"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "deleted 3 topic(s): check.nb98.y, nb98-x, nb98.readings" in run.stdout
    assert "dropped 2 keyspace(s): iotlab_check_nb98, iotlab_nb98" in run.stdout
    topics = set(admin_client().list_topics(timeout=10).topics)
    assert not topics & set(mine) and set(theirs) <= topics
    with closing_session() as session:
        keyspaces = {row.keyspace_name for row in session.execute("SELECT keyspace_name FROM system_schema.keyspaces")}
        assert "iotlab_nb99" in keyspaces and not {"iotlab_nb98", "iotlab_check_nb98"} & keyspaces
        session.execute("DROP KEYSPACE IF EXISTS iotlab_nb99", timeout=60)
    bad = subprocess.run([IOTLAB, "course", "reset", "ninety"], capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr.strip().startswith("error: 'ninety' is not a notebook number")
