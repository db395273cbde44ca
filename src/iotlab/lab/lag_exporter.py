"""The lab's consumer-lag exporter: the lag of every consumer group, per partition, for Prometheus to scrape.

Kafka's brokers do not publish consumer lag as a metric (a consumer knows its own lag, the broker only stores the
committed offsets), so the monitoring profile runs this small exporter next to them: on each scrape it asks the
admin API for every group's committed offsets and every partition's end offset (``iotlab.kafka.lag``).
Its metric names and labels are those of the widely used kafka_exporter (``kafka_consumergroup_lag`` with
``consumergroup``, ``topic``, ``partition``), which the Docker lab runs instead, so one query works on both.

Run by ``iotlab lab up --with monitoring`` as ``python -m iotlab.lab.lag_exporter --port 9308``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Iterator

from confluent_kafka import KafkaException
from prometheus_client import start_http_server
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector

from iotlab.kafka.clients import admin_client
from iotlab.kafka.lag import consumer_group_lags

LABELS = ["consumergroup", "topic", "partition"]


class ConsumerLagCollector(Collector):
    """Reads the lags afresh at each scrape: no thread, no cache, nothing older than the scrape. Each scrape gets
    a new admin client too: a long-lived one keeps the metadata of a topic deleted and created again under the same
    name (the course's notebooks and tests do that all the time), and its end offsets then fail."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        lag = GaugeMetricFamily("kafka_consumergroup_lag", "End offset minus committed offset, per partition",
                                labels=LABELS)
        current = GaugeMetricFamily("kafka_consumergroup_current_offset", "Committed offset, per partition",
                                    labels=LABELS)
        up = GaugeMetricFamily("iotlab_lag_exporter_kafka_up", "1 when the last scrape could read the offsets")
        try:
            rows = consumer_group_lags(admin_client(), timeout_s=4)
        except KafkaException as error:
            print(f"Kafka did not answer: {error}", file=sys.stderr, flush=True)
            rows, reachable = [], 0
        else:
            reachable = 1
        for row in rows:
            labels = [row.group, row.topic, str(row.partition)]
            lag.add_metric(labels, row.lag)
            current.add_metric(labels, row.committed)
        up.add_metric([], reachable)
        yield from (lag, current, up)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9308)
    parser.add_argument("--lab", help="the state folder of the lab it belongs to (only named on the command line)")
    arguments = parser.parse_args(argv)
    REGISTRY.register(ConsumerLagCollector())
    start_http_server(arguments.port, addr=arguments.host)
    print(f"serving consumer lag on http://{arguments.host}:{arguments.port}/metrics", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
