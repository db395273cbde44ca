"""The cloud profile (Confluent Cloud + DataStax Astra DB): each client's configuration, built from `.env`, checked
against the client it is for, with no cloud account: librdkafka (confluent-kafka) refuses a property it does not
know when a client is made; the Flink Kafka connector's jar must hold the login module and the property names
its properties use; cassandra-driver documents Astra as a ``cloud`` option with the bundle, and ``token`` as the
username. `iotlab doctor --profile cloud --dry-run` shows all of it, without a secret."""

from __future__ import annotations

import inspect
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cassandra.cluster import Cluster
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

from iotlab.cassandra.session import astra_options
from iotlab.core.paths import state_dir
from iotlab.core.settings import SHADED_KAFKA_PACKAGE, load_settings, without_secrets
from iotlab.flink.tables import kafka_options
from iotlab.kafka.clients import CONSUMER_DEFAULTS, PRODUCER_DEFAULTS

IOTLAB = str(Path(sys.executable).with_name("iotlab"))
CLOUD = {
    "IOTLAB_PROFILE": "cloud",
    "IOTLAB_KAFKA_BOOTSTRAP": "pkc-abc12.europe-west1.gcp.confluent.cloud:9092",
    "IOTLAB_KAFKA_SASL_USERNAME": "ABCDEFGHIJKLMNOP",
    "IOTLAB_KAFKA_SASL_PASSWORD": "it's-a-secret",
    "IOTLAB_ASTRA_BUNDLE": "/nowhere/secure-connect-iotlab.zip",
    "IOTLAB_CASSANDRA_USERNAME": "token",
    "IOTLAB_CASSANDRA_PASSWORD": "AstraCS:abc:def",
}


@pytest.fixture
def cloud(tmp_path, monkeypatch):
    for key in list(CLOUD):
        monkeypatch.delenv(key, raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f'{key}="{value}"\n' for key, value in CLOUD.items()))
    return load_settings(env_file)


def test_librdkafka_accepts_the_cloud_configuration_of_every_client(cloud):
    config = cloud.kafka_client_config()
    assert config["security.protocol"] == "SASL_SSL" and config["sasl.mechanisms"] == "PLAIN"
    assert (config["sasl.username"], config["sasl.password"]) == ("ABCDEFGHIJKLMNOP", "it's-a-secret")
    # librdkafka checks every property's name and value when a client is made (and connects later, in the
    # background): an unknown name or a bad value raises here.
    Producer({**config, **PRODUCER_DEFAULTS}).flush(0)
    Consumer({**config, **CONSUMER_DEFAULTS, "group.id": "g"}).close()
    AdminClient(config)
    with pytest.raises(Exception, match="sasl.mechanismz"):
        Producer({**config, "sasl.mechanismz": "PLAIN"})


def connector_jar() -> Path:
    jars = sorted((state_dir() / "jars" / "flink").glob("flink-sql-connector-kafka-*.jar"))
    if not jars:
        pytest.skip("the Flink Kafka connector jar is not resolved yet (`iotlab lab up` resolves it)")
    return jars[0]


def test_the_connector_properties_name_its_shaded_login_module_and_properties_its_client_knows(cloud):
    properties = cloud.flink_kafka_properties()
    assert properties["security.protocol"] == "SASL_SSL" and properties["sasl.mechanism"] == "PLAIN"
    login = f"{SHADED_KAFKA_PACKAGE}.common.security.plain.PlainLoginModule"
    assert properties["sasl.jaas.config"] == \
        f'{login} required username="ABCDEFGHIJKLMNOP" password="it\'s-a-secret";'
    with zipfile.ZipFile(connector_jar()) as jar:
        assert login.replace(".", "/") + ".class" in jar.namelist()
        shaded = SHADED_KAFKA_PACKAGE.replace(".", "/")
        # The Java client's names: constants of its CommonClientConfigs and SaslConfigs classes.
        constants = jar.read(f"{shaded}/clients/CommonClientConfigs.class") + \
            jar.read(f"{shaded}/common/config/SaslConfigs.class")
    for name in properties:
        assert name.encode() in constants, name


def test_every_kafka_table_gets_the_cloud_properties_quoted_for_sql(cloud):
    options = kafka_options("readings", cloud)
    assert "'properties.security.protocol' = 'SASL_SSL'" in options
    assert "'properties.sasl.mechanism' = 'PLAIN'" in options
    assert 'password="it\'\'s-a-secret";\'' in options  # the quote doubled inside a SQL string
    assert "'properties.bootstrap.servers' = 'pkc-abc12.europe-west1.gcp.confluent.cloud:9092'" in options


def test_the_driver_gets_the_secure_connect_bundle_and_the_token(cloud):
    assert astra_options(cloud) == {"cloud": {"secure_connect_bundle": "/nowhere/secure-connect-iotlab.zip"}}
    assert "cloud" in inspect.signature(Cluster.__init__).parameters  # cassandra-driver's documented option
    assert (cloud.cassandra_username, cloud.cassandra_password) == ("token", "AstraCS:abc:def")


def test_secrets_are_hidden_and_the_rest_is_shown(cloud):
    shown = without_secrets({**cloud.kafka_client_config(), **cloud.flink_kafka_properties()})
    assert shown["sasl.password"] == "***" and shown["sasl.username"] == "ABCDEFGHIJKLMNOP"
    assert shown["sasl.jaas.config"].endswith('username="ABCDEFGHIJKLMNOP" password="***";')


def test_the_dry_run_shows_every_client_setting_and_no_secret(tmp_path):
    env = {key: value for key, value in CLOUD.items() if key != "IOTLAB_PROFILE"}
    run = subprocess.run([IOTLAB, "doctor", "--profile", "cloud", "--dry-run"], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env}, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    for expected in ("profile: cloud", "security.protocol = SASL_SSL", "sasl.jaas.config = org.apache.flink.kafka",
                     "secure_connect_bundle", "PlainTextAuthProvider(username='token', password=***)",
                     "does not exist"):
        assert expected in run.stdout, (expected, run.stdout)
    assert "it's-a-secret" not in run.stdout and "AstraCS" not in run.stdout
    missing = subprocess.run([IOTLAB, "doctor", "--profile", "cloud", "--dry-run"], capture_output=True, text=True,
                             env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, cwd=tmp_path)
    assert missing.returncode == 1 and "cloud.env.example" in missing.stderr
