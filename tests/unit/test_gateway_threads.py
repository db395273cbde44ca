"""Planning from any py4j gateway thread (FLINK-36298), and the jars' class loader on every gateway thread.

Each test plans (or looks a class up) on Java threads py4j has never used: it empties the Python side's pool
of idle connections, so the call opens a new connection, served by a new Java thread, as happens by chance
when two Python threads call at once or a Java call calls back into Python. The first test shows the bug with
py4j's own connection factory (the course's set-up taken out), so it proves the fix is what makes the second
one pass.
"""

from __future__ import annotations

from typing import Callable

import pytest
from py4j.java_gateway import GatewayClient, quiet_close
from py4j.protocol import Py4JJavaError
from pyflink.java_gateway import get_gateway

from iotlab.flink import stream_environment, table_environment

ATTEMPTS = 4


def on_fresh_gateway_threads(call: Callable[[int], object], attempts: int = ATTEMPTS) -> list[str]:
    """Run ``call(i)`` ``attempts`` times, each through new connections; the errors, as text."""
    client = get_gateway()._gateway_client
    errors = []
    for attempt in range(attempts):
        pooled = list(client.deque)
        client.deque.clear()
        try:
            call(attempt)
        except Py4JJavaError as error:
            errors.append(str(error))
        finally:
            while client.deque:  # the connections this attempt opened: closed, so no later test meets them
                quiet_close(client.deque.pop())
            client.deque.extend(pooled)
    return errors


@pytest.fixture(scope="module")
def tables():
    return table_environment(batch=True, kafka=False)


def plan_and_run(tables) -> Callable[[int], object]:
    def call(attempt: int) -> object:
        frame = tables.sql_query(f"SELECT {attempt} + 1 AS answer").to_pandas()
        assert frame["answer"].tolist() == [attempt + 1]
        return frame
    return call


def test_planning_on_a_fresh_thread_fails_without_the_course_set_up(monkeypatch):
    # An environment of its own: a metadata query that Calcite built on an unprepared thread stays broken in
    # the planner's cluster, which would fail the next test for a reason that is not its own.
    tables = table_environment(batch=True, kafka=False)
    client = get_gateway()._gateway_client
    monkeypatch.setattr(client, "_create_connection", GatewayClient._create_connection.__get__(client))
    errors = on_fresh_gateway_threads(plan_and_run(tables))
    assert any("NullPointerException: metadataHandlerProvider" in error for error in errors), (
        f"FLINK-36298 did not show on {ATTEMPTS} fresh threads: {errors}")


def test_planning_on_fresh_threads_works_with_the_course_set_up(tables):
    assert on_fresh_gateway_threads(plan_and_run(tables)) == []


def look_up_a_pipeline_jar_class(attempt: int) -> object:
    """A class of ``pipeline.jars`` (the course's Java functions), through the thread's context class loader."""
    thread = get_gateway().jvm.java.lang.Thread.currentThread()
    return thread.getContextClassLoader().loadClass("org.iotlab.flink.ParseReading")


def test_a_fresh_thread_misses_the_jars_without_the_course_set_up(monkeypatch):
    stream_environment(kafka=False)
    client = get_gateway()._gateway_client
    monkeypatch.setattr(client, "_create_connection", GatewayClient._create_connection.__get__(client))
    errors = on_fresh_gateway_threads(look_up_a_pipeline_jar_class)
    assert errors and all("ClassNotFoundException: org.iotlab.flink.ParseReading" in error for error in errors)


def test_the_jars_reach_fresh_threads_with_the_course_set_up():
    stream_environment(kafka=False)
    assert on_fresh_gateway_threads(look_up_a_pipeline_jar_class) == []
