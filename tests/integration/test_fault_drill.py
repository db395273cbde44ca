"""The pipeline through a broker kill and a Cassandra node kill on the three-node lab, under a steady load: each
fault detected or absorbed, the job running and caught up, and Cassandra equal to the batch recomputation of
every record read (the other faults are notebook 11's drill and test_pipeline_failures)."""

from __future__ import annotations

import pytest

from iotlab.core.topology import recorded_nodes
from iotlab.faults.drill import drill_faults, run_drill
from iotlab.lab.native import NativeLab

pytestmark = [pytest.mark.integration, pytest.mark.three_nodes]


def test_a_broker_and_a_cassandra_node_killed_under_load_lose_and_repeat_nothing(lab_settings):
    if recorded_nodes() != 3:
        pytest.fail("this test needs the three-node lab: `iotlab lab down && iotlab lab up --nodes 3`")
    lab = NativeLab(nodes=3)
    faults = [fault for fault in drill_faults() if "killed" in fault.name and "Manager" not in fault.name]
    report = run_drill(lab, faults, rate=1_000, devices=50, topic="it.drill", keyspace="iotlab_it_drill",
                       warm_up_s=15, timeout_s=180, say=lambda _: None)
    assert [record.fault for record in report.faults] == ["broker 2 killed", "Cassandra node 3 killed"]
    assert all(record.caught_up_s is not None for record in report.faults), report.table()
    assert report.compared > 0 and all(record.compared > 0 for record in report.faults), report.table()
    assert (report.missing, report.duplicated, report.different) == (0, 0, 0), report.table()
    assert report.summary() == "faults survived: 2 of 2, rows lost 0, rows duplicated 0"
    assert all(lab.unit_pids(unit) for unit in lab.units())  # every node started again
