"""The monitoring profile on the running lab (`iotlab lab up --with monitoring`): Prometheus scrapes Flink's
reporter and the JMX exporters of Kafka and Cassandra, and each kept metric answers a PromQL query."""

from __future__ import annotations

import time

import pytest
import requests

from iotlab.cassandra import cassandra_session
from iotlab.kafka import producer, recreate_topic
from iotlab.lab.monitoring import PROMETHEUS_URL, SCRAPE_INTERVAL_S, recorded_monitoring

pytestmark = [pytest.mark.integration, pytest.mark.monitoring]


@pytest.fixture(scope="module")
def prometheus(lab_settings) -> str:
    if not recorded_monitoring():
        pytest.fail("the lab runs without monitoring: `iotlab lab down`, then `iotlab lab up --with monitoring`")
    return PROMETHEUS_URL


def query(url: str, promql: str) -> list[dict]:
    answer = requests.get(f"{url}/api/v1/query", params={"query": promql}, timeout=10).json()
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def wait_for(url: str, promql: str, timeout_s: float = 60) -> list[dict]:
    """The query's result once it holds a series (scrapes come every few seconds)."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = query(url, promql)
        if result or time.monotonic() > deadline:
            return result
        time.sleep(1)


def test_every_scrape_target_is_up(prometheus):
    deadline = time.monotonic() + 3 * SCRAPE_INTERVAL_S + 10
    while True:
        targets = requests.get(f"{prometheus}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
        # Flink's third reporter port is for a TaskManager restarted while the old port is taken: usually empty.
        needed = [t for t in targets if not t["scrapeUrl"].startswith("http://127.0.0.1:9251")]
        down = [f"{t['labels']['job']} {t['scrapeUrl']}: {t.get('lastError')}" for t in needed if t["health"] != "up"]
        if not down or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert down == []
    assert {t["labels"]["job"] for t in needed} == {"flink", "kafka", "cassandra", "kafka-lag", "prometheus"}


def test_kafka_counts_the_messages_a_topic_receives(prometheus):
    topic = "it.monitoring"
    recreate_topic(topic, partitions=1)
    kafka = producer()
    for number in range(500):
        kafka.produce(topic, value=f"{number}".encode())
    assert kafka.flush(30) == 0
    result = wait_for(prometheus, f'kafka_server_messagesin_total{{topic="{topic}"}} >= 500')
    assert result, "the broker's MessagesInPerSec count for the topic never reached 500 in Prometheus"


def test_the_lag_exporter_reports_what_a_group_has_not_committed(prometheus):
    """A group that committed 120 of a partition's 500 messages and 500 of the other's: lags 380 and 0, from the
    library and, after a scrape, from Prometheus."""
    from confluent_kafka import TopicPartition

    from iotlab.kafka import consumer
    from iotlab.kafka.lag import consumer_group_lags

    topic, group = "it.monitoring.lag", f"it-lag-{time.time_ns()}"
    recreate_topic(topic, partitions=2)
    kafka = producer()
    for partition in (0, 1):
        for number in range(500):
            kafka.produce(topic, value=f"{number}".encode(), partition=partition)
    assert kafka.flush(30) == 0
    reader = consumer(group, {"enable.auto.commit": False})
    reader.commit(offsets=[TopicPartition(topic, 0, 120), TopicPartition(topic, 1, 500)], asynchronous=False)
    reader.close()
    mine = {row.partition: row.lag for row in consumer_group_lags() if row.group == group}
    assert mine == {0: 380, 1: 0}
    result = wait_for(prometheus, f'kafka_consumergroup_lag{{consumergroup="{group}", topic="{topic}"}}')
    assert {item["metric"]["partition"]: float(item["value"][1]) for item in result} == {"0": 380.0, "1": 0.0}


def test_cassandra_reports_its_write_latency(prometheus):
    session = cassandra_session()
    session.execute("CREATE KEYSPACE IF NOT EXISTS iotlab_it_monitoring WITH replication = "
                    "{'class': 'SimpleStrategy', 'replication_factor': 1}")
    session.execute("CREATE TABLE IF NOT EXISTS iotlab_it_monitoring.kv (key int PRIMARY KEY, value text)")
    for key in range(200):
        session.execute("INSERT INTO iotlab_it_monitoring.kv (key, value) VALUES (%s, 'x')", (key,))
    session.cluster.shutdown()
    writes = wait_for(prometheus, 'cassandra_client_requests_total{request="Write"} >= 200')
    assert writes, "the node's client write count never reached 200 in Prometheus"
    latency = wait_for(prometheus, 'cassandra_client_request_latency_microseconds{request="Write",quantile="0.99"}')
    assert latency and float(latency[0]["value"][1]) > 0


def test_flink_reports_its_jobmanager_and_taskmanager(prometheus):
    assert wait_for(prometheus, "flink_jobmanager_numRegisteredTaskManagers >= 1")
    assert wait_for(prometheus, "flink_taskmanager_Status_JVM_CPU_Load")


def test_promql_answers_as_tables_and_a_wrong_query_says_why(prometheus):
    from iotlab.core.errors import LabError
    from iotlab.lab import prometheus as promql

    now = promql.instant("up")
    assert {"metric", "job", "instance", "value"} <= set(now.columns)
    assert set(now["job"]) >= {"flink", "kafka", "cassandra", "prometheus"}
    history = promql.series('up{job="prometheus"}', minutes=1, label="job")
    assert list(history.columns) == ["prometheus"] and len(history) >= 2
    assert (history["prometheus"] == 1).all()
    with pytest.raises(LabError, match="refused the query"):
        promql.instant("rate(up[")
