"""A consumer that really crashes mid-batch: at-least-once versus at-most-once, shown for real.

It runs as its own process (``python -m iotlab.faults.consumer_crash ...``) and, when asked, kills itself
with SIGKILL right after processing a chosen offset: no ``finally``, no commit on close — exactly
what a power cut or an OOM kill does. "Processing" a message appends its value to an output file,
the side effect we count afterwards.

- ``at-least-once``: process, *then* commit every ``batch`` messages. A crash replays the messages
  processed since the last commit: duplicates, no loss.
- ``at-most-once``: commit the whole batch *first*, then process it. A crash skips what was
  committed but not yet processed: losses, no duplicates.

Offsets are committed explicitly at batch boundaries (``offset + 1`` is "the next one to read"),
so the outcome depends only on the crash offset, not on how the client happened to fetch.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

from confluent_kafka import KafkaException, TopicPartition

from iotlab.kafka import consumer as kafka_consumer

MODES = ("at-least-once", "at-most-once")


def consume(topic: str, group: str, mode: str, batch: int, output: Path, crash_at: Optional[int],
            idle_s: float = 5.0) -> None:
    """Consume partition 0 of ``topic`` from the group's committed offset until idle for ``idle_s``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    consumer = kafka_consumer(group, {
        "enable.auto.commit": False,
        # Static membership: a restarted worker takes its crashed predecessor's place at once,
        # instead of waiting for the broker to notice the old one is gone (the session timeout).
        "group.instance.id": f"{group}-worker", "session.timeout.ms": 6000,
    })
    consumer.subscribe([topic])
    started = last_message = time.monotonic()
    with output.open("ab") as out:
        while time.monotonic() - last_message < idle_s:
            message = consumer.poll(0.5)
            if message is None:
                if not consumer.assignment() and time.monotonic() - started < 60:
                    last_message = time.monotonic()  # still joining the group: not idle yet
                continue
            if message.error():
                raise KafkaException(message.error())
            last_message = time.monotonic()
            offset = message.offset()
            if mode == "at-most-once" and offset % batch == 0:
                commit = TopicPartition(topic, message.partition(), offset + batch)
                consumer.commit(offsets=[commit], asynchronous=False)
            out.write(message.value() + b"\n")  # the side effect
            out.flush()
            os.fsync(out.fileno())
            if mode == "at-least-once" and (offset + 1) % batch == 0:
                consumer.commit(offsets=[TopicPartition(topic, message.partition(), offset + 1)], asynchronous=False)
            if crash_at is not None and offset == crash_at:
                os.kill(os.getpid(), signal.SIGKILL)  # a real crash: nothing after this line runs
    consumer.close()


def run_consumer_process(topic: str, group: str, mode: str, batch: int, output: Path,
                         crash_at: Optional[int] = None, idle_s: float = 5.0) -> int:
    """Run ``consume`` in a child process; returns its exit code (-9 when it crashed by SIGKILL)."""
    command = [sys.executable, "-m", "iotlab.faults.consumer_crash", topic, group, mode, str(batch), str(output),
               "--idle", str(idle_s)]
    if crash_at is not None:
        command += ["--crash-at", str(crash_at)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300).returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topic")
    parser.add_argument("group")
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("batch", type=int)
    parser.add_argument("output", type=Path)
    parser.add_argument("--crash-at", type=int, default=None)
    parser.add_argument("--idle", type=float, default=5.0)
    arguments = parser.parse_args()
    consume(arguments.topic, arguments.group, arguments.mode, arguments.batch, arguments.output,
            arguments.crash_at, arguments.idle)


if __name__ == "__main__":
    main()
