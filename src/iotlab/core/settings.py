"""One settings object for the whole course.

The profile (``local``, ``docker`` or ``cloud``) and every address come from environment variables,
or from a ``.env`` file at the project root (never committed; see ``lab_env/cloud/cloud.env.example``).
Variables already set in the environment win over the file.

| variable | meaning | default (local) |
|---|---|---|
| IOTLAB_PROFILE | local, docker or cloud | local |
| IOTLAB_KAFKA_BOOTSTRAP | Kafka bootstrap servers seen from Python | 127.0.0.1:9092 (three nodes: each broker) |
| IOTLAB_KAFKA_BOOTSTRAP_FOR_JOBS | Kafka as seen from Flink task managers | same as above (docker: kafka:19092) |
| IOTLAB_KAFKA_SASL_USERNAME / _PASSWORD | Confluent Cloud API key and secret | unset |
| IOTLAB_CASSANDRA_HOSTS | comma-separated contact points | 127.0.0.1 (three nodes: each node) |
| IOTLAB_CASSANDRA_PORT | CQL port | 9042 |
| IOTLAB_CASSANDRA_USERNAME / _PASSWORD | credentials (Astra: "token" and the token) | unset |
| IOTLAB_ASTRA_BUNDLE | path to the Astra secure connect bundle zip | unset |
| IOTLAB_KEYSPACE | the course keyspace | iotlab |
| IOTLAB_FLINK_REST | Flink REST / Web UI address | http://127.0.0.1:8081 |
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from dotenv import dotenv_values

from iotlab.core.errors import SettingsError
from iotlab.core.paths import project_root, state_dir
from iotlab.core.topology import cassandra_contact_points, kafka_bootstrap, recorded_nodes

PROFILES = ("local", "docker", "cloud")
# Flink's SQL Kafka connector jar (flink-sql-connector-kafka) carries Kafka's client classes relocated under this
# package: a JAAS login module in the connector's properties must be named with it, or the client cannot load it.
SHADED_KAFKA_PACKAGE = "org.apache.flink.kafka.shaded.org.apache.kafka"
SECRET_KEYS = ("sasl.password", "password")  # shown as *** by ``without_secrets``


@dataclass(frozen=True)
class Settings:
    """Everything a client needs to reach the lab's services."""

    profile: str = "local"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_bootstrap_for_jobs: str = "127.0.0.1:9092"
    kafka_sasl_username: Optional[str] = None
    kafka_sasl_password: Optional[str] = None
    cassandra_hosts: tuple[str, ...] = ("127.0.0.1",)
    cassandra_port: int = 9042
    cassandra_username: Optional[str] = None
    cassandra_password: Optional[str] = None
    astra_bundle: Optional[Path] = None
    keyspace: str = "iotlab"
    flink_rest_url: str = "http://127.0.0.1:8081"
    python_executable: str = field(default_factory=lambda: sys.executable)

    def kafka_client_config(self) -> dict[str, str]:
        """librdkafka settings shared by every client: the address, plus SASL/TLS in the cloud.

        Reference: https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md
        """
        config = {"bootstrap.servers": self.kafka_bootstrap_servers}
        if self.kafka_sasl_username:
            config.update(
                {
                    "security.protocol": "SASL_SSL",
                    "sasl.mechanisms": "PLAIN",
                    "sasl.username": self.kafka_sasl_username,
                    "sasl.password": self.kafka_sasl_password or "",
                }
            )
        return config

    def flink_kafka_properties(self) -> dict[str, str]:
        """The Kafka client properties of Flink's Kafka connector (the Java client's names; Kafka as the task
        managers reach it): the address, plus SASL_SSL with the PLAIN login module in the cloud (Confluent Cloud's
        API key and secret), named in the connector's shaded package.

        Reference: https://kafka.apache.org/41/configuration/consumer-configs/ and the connector's "Security" section
        (https://nightlies.apache.org/flink/flink-docs-stable/docs/connectors/table/kafka/#security)."""
        properties = {"bootstrap.servers": self.kafka_bootstrap_for_jobs}
        if self.kafka_sasl_username:
            login = f"{SHADED_KAFKA_PACKAGE}.common.security.plain.PlainLoginModule"
            properties.update({
                "security.protocol": "SASL_SSL",
                "sasl.mechanism": "PLAIN",
                "sasl.jaas.config": f'{login} required username="{self.kafka_sasl_username}" '
                                    f'password="{self.kafka_sasl_password or ""}";',
            })
        return properties

    def connector_jars(self) -> list[Path]:
        """The Flink Kafka connector jar(s) resolved by ``iotlab lab up`` (native runtime)."""
        return sorted((state_dir() / "jars" / "flink").glob("*.jar"))


def _read_environment(env_file: Optional[Path]) -> dict[str, str]:
    """Environment variables over the ``.env`` file: an exported variable always wins."""
    path = env_file if env_file is not None else project_root() / ".env"
    values = {k: v for k, v in dotenv_values(path).items() if v is not None} if path.exists() else {}
    values.update({k: v for k, v in os.environ.items() if k.startswith("IOTLAB_")})
    return values


def load_settings(env_file: Optional[Path] = None, profile: Optional[str] = None) -> Settings:
    """Build the settings for the selected profile (``profile``, else IOTLAB_PROFILE); raise SettingsError with
    the fix on a bad value."""
    env = _read_environment(env_file)
    profile = (profile or env.get("IOTLAB_PROFILE", "local")).strip().lower()
    if profile not in PROFILES:
        raise SettingsError(f"IOTLAB_PROFILE={profile!r} is not one of {', '.join(PROFILES)}", "fix it in .env")

    # The local lab's addresses follow its node count (`iotlab lab up --nodes 3` records it): with three nodes a
    # client knows every broker and every Cassandra node, so it still connects while one of them is down.
    nodes = recorded_nodes() if profile == "local" else 1
    kafka = env.get("IOTLAB_KAFKA_BOOTSTRAP", kafka_bootstrap(nodes))
    # In docker, task managers reach Kafka by its service name on the compose network.
    default_for_jobs = "kafka:19092" if profile == "docker" else kafka
    bundle = env.get("IOTLAB_ASTRA_BUNDLE")
    port_text = env.get("IOTLAB_CASSANDRA_PORT", "9042")
    if not port_text.isdigit():
        raise SettingsError(f"IOTLAB_CASSANDRA_PORT={port_text!r} is not a port number", "fix it in .env")

    settings = Settings(
        profile=profile,
        kafka_bootstrap_servers=kafka,
        kafka_bootstrap_for_jobs=env.get("IOTLAB_KAFKA_BOOTSTRAP_FOR_JOBS", default_for_jobs),
        kafka_sasl_username=env.get("IOTLAB_KAFKA_SASL_USERNAME"),
        kafka_sasl_password=env.get("IOTLAB_KAFKA_SASL_PASSWORD"),
        cassandra_hosts=tuple(h.strip() for h in env.get("IOTLAB_CASSANDRA_HOSTS",
                                                         ",".join(cassandra_contact_points(nodes))).split(",")),
        cassandra_port=int(port_text),
        cassandra_username=env.get("IOTLAB_CASSANDRA_USERNAME"),
        cassandra_password=env.get("IOTLAB_CASSANDRA_PASSWORD"),
        astra_bundle=Path(bundle) if bundle else None,
        keyspace=env.get("IOTLAB_KEYSPACE", "iotlab"),
        flink_rest_url=env.get("IOTLAB_FLINK_REST", "http://127.0.0.1:8081").rstrip("/"),
    )
    if profile == "cloud" and not (settings.kafka_sasl_username and settings.astra_bundle):
        raise SettingsError(
            "profile 'cloud' needs IOTLAB_KAFKA_SASL_USERNAME/_PASSWORD and IOTLAB_ASTRA_BUNDLE",
            "copy lab_env/cloud/cloud.env.example to .env and fill it in"
        )
    return settings


def without_secrets(config: dict) -> dict:
    """``config`` with every secret shown as ``***``: passwords and tokens, and the password inside a JAAS line (its
    login module and username stay readable). What ``iotlab doctor --dry-run`` prints."""
    shown = {}
    for key, value in config.items():
        if key.endswith("jaas.config") and isinstance(value, str):
            shown[key] = re.sub(r'password="[^"]*"', 'password="***"', value)
        elif value and any(key.endswith(secret) for secret in SECRET_KEYS):
            shown[key] = "***"
        else:
            shown[key] = value
    return shown
