"""Routing a real topic through the contract: every record ends up valid or dead-lettered with its
original bytes and the reason; the labelled dataset agrees with the validator."""

import json
import uuid

import pytest

from iotlab.core import dead_letter_topic
from iotlab.core.contract import validate_reading
from iotlab.core.paths import project_root
from iotlab.kafka import read_topic, recreate_topic, route_topic
from iotlab.sim import read_lines, replay_file

pytestmark = pytest.mark.integration


def test_anomaly_day_routes_every_record_and_keeps_bad_bytes(lab_settings):
    source = f"test.route.{uuid.uuid4().hex[:8]}"
    valid = f"{source}.valid"
    for topic in (source, valid, dead_letter_topic(source)):
        recreate_topic(topic, partitions=3)
    path = project_root() / "data" / "anomaly_day.jsonl"
    assert replay_file(path, source, progress=False).failed == 0
    summary = route_topic(source, valid)
    lines = read_lines(path)
    assert summary.read == len(lines) == summary.valid + summary.dead_lettered
    assert summary.delivery.failed == 0

    labels_path = project_root() / "data" / "anomaly_day.labels.jsonl"
    labels = [json.loads(line) for line in labels_path.read_text().splitlines()]
    bad_kinds = ("malformed", "humidity_out_of_range")
    labelled_bad = sorted(lines[label["seq"]] for label in labels if label["label"] in bad_kinds)
    dead = read_topic(dead_letter_topic(source))
    assert sorted(m.value for m in dead) == labelled_bad
    for message in dead:
        headers = {name: value.decode() for name, value in message.headers}
        assert headers["dlq.reason"] == validate_reading(message.value)[1]
        assert headers["dlq.source.topic"] == source
    valid_lines = sorted(line for line in lines if validate_reading(line)[1] is None)
    assert sorted(m.value for m in read_topic(valid)) == valid_lines
