"""Benchmarks that print their numbers and the machine they ran on: the lab's start and memory, producer
settings side by side, the aggregate job next to a plain consumer, and four ways to write Cassandra. Never
used for assertions."""

from iotlab.bench.aggregate import bench_aggregate
from iotlab.bench.cassandra import bench_cassandra
from iotlab.bench.lab import bench_lab
from iotlab.bench.machine import machine_description
from iotlab.bench.producer import PRODUCER_SETUPS, ThroughputResult, compare_setups, measure_producer

__all__ = ["PRODUCER_SETUPS", "ThroughputResult", "bench_aggregate", "bench_cassandra", "bench_lab", "compare_setups",
           "machine_description", "measure_producer"]
