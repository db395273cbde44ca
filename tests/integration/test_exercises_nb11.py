"""Notebook 11's checks on the three-node lab: the reference answers pass, and wrong answers that only the real
brokers can expose fail with what is wrong."""

from __future__ import annotations

import pytest

from iotlab.core.topology import recorded_nodes
from iotlab.course.exercises import nb11
from iotlab.lab.native import NativeLab

pytestmark = [pytest.mark.integration, pytest.mark.three_nodes]


@pytest.fixture(scope="module", autouse=True)
def three_nodes(lab_settings):
    if recorded_nodes() != 3:
        pytest.fail("these tests need the three-node lab: `iotlab lab down && iotlab lab up --nodes 3`")
    NativeLab(nodes=3).up(say=lambda _: None, progress=False)


def every_replica(admin, topic: str) -> dict[int, list[int]]:
    """The replicas, in sync or not: equal to the in-sync set while every broker is up."""
    partitions = admin.list_topics(topic, timeout=10).topics[topic].partitions
    return {number: sorted(partition.replicas) for number, partition in partitions.items()}


def test_the_in_sync_replicas_check_passes_the_reference_and_fails_the_replicas():
    assert nb11.check_in_sync_replicas(nb11.in_sync_replicas).passed
    result = nb11.check_in_sync_replicas(every_replica)
    assert not result.passed and "broker 3 killed" in result.message and "partition.isrs" in result.message
    assert all(NativeLab(nodes=3).unit_pids(unit) for unit in NativeLab(nodes=3).units())  # every node running


def test_the_safe_producer_check_passes_the_reference_and_fails_a_producer_that_gives_up():
    assert nb11.check_safe_producer_config(nb11.safe_producer_config).passed
    # right settings, but each message may wait only a second: the leader's death outlasts it
    result = nb11.check_safe_producer_config(lambda: {"acks": "all", "enable.idempotence": True,
                                                       "message.timeout.ms": 1000})
    assert not result.passed and "were not acknowledged when broker" in result.message, result.message


def test_the_read_your_writes_check_proves_quorum_on_the_real_nodes():
    result = nb11.check_read_your_writes_levels(nb11.read_your_writes_levels)
    assert result.passed, result.message
    assert all(NativeLab(nodes=3).unit_pids(unit) for unit in NativeLab(nodes=3).units())
