"""Settings come from the environment or a .env file, per profile; bad values are refused clearly."""

import pytest

from iotlab.core import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    import os

    for key in list(os.environ):
        if key.startswith("IOTLAB_"):
            monkeypatch.delenv(key)
    # a state folder of its own: the defaults must not follow the node count of a lab running in this checkout
    monkeypatch.setenv("IOTLAB_STATE_DIR", str(tmp_path / "state"))


def test_local_defaults(tmp_path):
    settings = load_settings(tmp_path / "missing.env")
    assert settings.profile == "local"
    assert settings.kafka_client_config() == {"bootstrap.servers": "127.0.0.1:9092"}
    assert settings.cassandra_hosts == ("127.0.0.1",) and settings.cassandra_port == 9042
    assert settings.flink_rest_url == "http://127.0.0.1:8081"


def test_docker_profile_points_flink_jobs_at_the_compose_network(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("IOTLAB_PROFILE=docker\n")
    settings = load_settings(env_file)
    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert settings.kafka_bootstrap_for_jobs == "kafka:19092"


def test_cloud_profile_adds_sasl_settings(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("IOTLAB_PROFILE=cloud\nIOTLAB_KAFKA_BOOTSTRAP=pkc.example:9092\n"
                        "IOTLAB_KAFKA_SASL_USERNAME=key\nIOTLAB_KAFKA_SASL_PASSWORD=secret\n"
                        "IOTLAB_ASTRA_BUNDLE=/tmp/bundle.zip\nIOTLAB_CASSANDRA_USERNAME=token\n")
    config = load_settings(env_file).kafka_client_config()
    assert config["security.protocol"] == "SASL_SSL" and config["sasl.username"] == "key"


def test_cloud_profile_without_credentials_says_how_to_fix(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("IOTLAB_PROFILE=cloud\n")
    with pytest.raises(SettingsError, match="cloud.env.example"):
        load_settings(env_file)


def test_exported_variables_win_over_the_env_file(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("IOTLAB_KAFKA_BOOTSTRAP=from-file:9092\n")
    monkeypatch.setenv("IOTLAB_KAFKA_BOOTSTRAP", "from-env:9092")
    assert load_settings(env_file).kafka_bootstrap_servers == "from-env:9092"


@pytest.mark.parametrize("line,message", [("IOTLAB_PROFILE=kubernetes", "not one of"),
                                          ("IOTLAB_CASSANDRA_PORT=ninety", "not a port")])
def test_bad_values_are_refused_with_the_fix(tmp_path, line, message):
    env_file = tmp_path / ".env"
    env_file.write_text(line + "\n")
    with pytest.raises(SettingsError, match=message):
        load_settings(env_file)
