"""`iotlab simulate` and `iotlab replay` against the lab's broker: every line accounted for, keys stick to
partitions, order per key is kept, and failures are reported without stopping the rest."""

import json
import uuid
from collections import defaultdict

import pytest
from click.testing import CliRunner
from confluent_kafka.admin import NewTopic

from iotlab.cli import main
from iotlab.core.paths import project_root
from iotlab.kafka import admin_client, read_topic, recreate_topic
from iotlab.sim import key_of, read_lines

pytestmark = pytest.mark.integration


def fresh_topic(prefix: str, partitions: int = 3) -> str:
    topic = f"test.{prefix}.{uuid.uuid4().hex[:8]}"
    recreate_topic(topic, partitions=partitions)
    return topic


def assert_keys_stick_and_order_is_kept(messages, expected_lines, key_function=key_of):
    """Each key lives on one partition, and each key's values come back in file order."""
    partitions = defaultdict(set)
    stored_by_key = defaultdict(list)
    for message in messages:
        partitions[message.key].add(message.partition)
        stored_by_key[message.key].append(message.value)
    assert all(len(parts) == 1 for key, parts in partitions.items() if key is not None)
    expected_by_key = defaultdict(list)
    for line in expected_lines:
        expected_by_key[key_function(line)].append(line)
    for key, values in expected_by_key.items():
        if key is not None:
            assert stored_by_key[key] == values, f"order of {key!r} changed"


def test_simulate_to_a_topic_accounts_for_every_record_like_the_file(lab_settings, tmp_path):
    topic = fresh_topic("simulate")
    arguments = ["simulate", "--devices", "8", "--interval", "30", "--duration", "2h", "--seed", "5", "--fast",
                 "--out-of-order-rate", "0.05", "--duplicate-rate", "0.02", "--malformed-rate", "0.02",
                 "--no-progress"]
    to_topic = CliRunner().invoke(main, arguments + ["--topic", topic, "--labels", str(tmp_path / "t.labels")])
    to_file = CliRunner().invoke(main, arguments + ["--out", str(tmp_path / "s.jsonl")])
    assert to_topic.exit_code == 0 and to_file.exit_code == 0, to_topic.output + to_file.output
    lines = read_lines(tmp_path / "s.jsonl")
    assert f"sent {len(lines)}, failed 0, of {len(lines)}" in to_topic.output
    assert f"wrote {len(lines)} records to {tmp_path / 's.jsonl'}" in to_file.output and "sent" not in to_file.output
    assert "per partition: 0: " in to_topic.output
    messages = read_topic(topic)
    assert sorted(m.value for m in messages) == sorted(lines)
    # The simulator keys even a malformed record by its device, so take each record's key from the topic.
    key_by_value = {m.value: m.key for m in messages}
    assert None not in key_by_value.values()
    assert_keys_stick_and_order_is_kept(messages, lines, key_function=key_by_value.get)
    assert (tmp_path / "t.labels").read_bytes() == (tmp_path / "s.labels.jsonl").read_bytes()


def test_replay_of_the_anomaly_day_is_byte_exact_and_in_order(lab_settings):
    path = project_root() / "data" / "anomaly_day.jsonl"
    topic = fresh_topic("replay")
    result = CliRunner().invoke(main, ["replay", str(path), "--topic", topic, "--no-progress"])
    lines = read_lines(path)
    assert result.exit_code == 0, result.output
    assert f"sent {len(lines)}, failed 0, of {len(lines)}" in result.output
    messages = read_topic(topic)
    assert len(messages) == len(lines)
    assert sorted(m.value for m in messages) == sorted(lines)
    assert_keys_stick_and_order_is_kept(messages, lines)
    unreadable = [line for line in lines if key_of(line) is None]
    assert unreadable, "the dataset has records whose device_id cannot be read"
    assert sum(1 for m in messages if m.key is None) == len(unreadable)


def test_replay_works_on_a_stream_our_simulator_did_not_write(lab_settings, tmp_path):
    foreign = [
        b'{"timestamp":"2026-01-01T00:00:00Z","device_id":"boiler-7","temperature":61.0,"humidity":12,"status":"HOT","x":1}',
        b'{"device_id": "boiler-7", "timestamp": "2026-01-01T00:01:00Z"}',
        "{\"device_id\":\"caf\u00e9-1\",\"temperature\":20}".encode(),
        b"temperature=21;device=plain-text",
        b"",
        b'["device_id", "array-not-object"]',
        b'{"device_id": 42}',
        b"\xff\xfe not utf-8",
        b'{"device_id":"boiler-7","timestamp":"2026-01-01T00:02:00Z"}\r',
    ]
    path = tmp_path / "foreign.jsonl"
    path.write_bytes(b"\n".join(foreign) + b"\n")
    topic = fresh_topic("foreign", partitions=2)
    result = CliRunner().invoke(main, ["replay", str(path), "--topic", topic, "--rate", "200", "--no-progress"])
    assert result.exit_code == 0, result.output
    messages = read_topic(topic)
    assert sorted(m.value for m in messages) == sorted(foreign)
    keys = {m.value: m.key for m in messages}
    assert keys[foreign[0]] == b"boiler-7" and keys[foreign[1]] == b"boiler-7"
    assert keys[foreign[2]] == "caf\u00e9-1".encode()
    assert [keys[v] for v in foreign[3:8]] == [None] * 5
    assert_keys_stick_and_order_is_kept(messages, foreign)


def test_a_line_the_broker_refuses_is_reported_and_the_rest_go_through(lab_settings, tmp_path):
    topic = f"test.small.{uuid.uuid4().hex[:8]}"
    admin = admin_client()
    admin.create_topics([NewTopic(topic, 1, 1, config={"max.message.bytes": "2000"})])[topic].result()
    lines = [json.dumps({"device_id": f"device-{n % 3}", "n": n}).encode() for n in range(50)]
    lines[17] = json.dumps({"device_id": "device-2", "padding": "x" * 5000}).encode()
    path = tmp_path / "with_a_big_line.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = CliRunner().invoke(main, ["replay", str(path), "--topic", topic, "--no-progress"])
    assert result.exit_code == 1
    assert "sent 49, failed 1, of 50" in result.output
    assert "failed line 18: " in result.output and "max.message.bytes" in result.output
    stored = [m.value for m in read_topic(topic)]
    assert stored == lines[:17] + lines[18:]
