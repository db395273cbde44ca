"""Notebook 13's checks: each passes its reference and fails the wrong answers a learner writes first, with the
hint that fixes them (no cluster needed: the manifests are checked offline)."""

from __future__ import annotations

import copy

import pytest

from iotlab.course.exercises import nb13
from iotlab.deploy.rendering import overlay_dir, render


def changed(reference, change):
    def function(*args):
        manifest = copy.deepcopy(reference(*args))
        change(manifest)
        return manifest
    return function


def test_the_alerts_topic_check():
    assert nb13.check_alerts_topic(nb13.alerts_topic).passed
    three = nb13.check_alerts_topic(changed(nb13.alerts_topic, lambda m: m["spec"].update(partitions=3)))
    assert not three.passed and "one partition" in three.message
    unlabelled = nb13.check_alerts_topic(changed(nb13.alerts_topic, lambda m: m["metadata"].pop("labels")))
    assert not unlabelled.passed and "strimzi.io/cluster" in unlabelled.message
    fixed_name = nb13.check_alerts_topic(
        changed(nb13.alerts_topic, lambda m: m["spec"].update(topicName="iot.readings.alerts")))
    assert not fixed_name.passed and "plant.sensors.alerts" in fixed_name.message
    assert nb13.check_alerts_topic(lambda source, replicas: (_ for _ in ()).throw(NotImplementedError)).skipped


def test_the_alerts_topic_check_finds_what_the_crd_refuses():
    if nb13.crd_folder() is None:
        pytest.skip("no CRD folder beside the project (../shared/crds)")
    typo = nb13.check_alerts_topic(changed(nb13.alerts_topic, lambda m: m["spec"].update(partitons=1)))
    assert not typo.passed and "CRD refuses" in typo.message and "partitons" in typo.message
    as_text = nb13.check_alerts_topic(changed(nb13.alerts_topic, lambda m: m["spec"].update(replicas="1")))
    assert not as_text.passed and "is not of type 'integer'" in as_text.message


def test_the_pipeline_deployment_check():
    assert nb13.check_pipeline_deployment(nb13.pipeline_deployment).passed
    stateless = nb13.check_pipeline_deployment(
        changed(nb13.pipeline_deployment, lambda m: m["spec"]["job"].update(upgradeMode="stateless")))
    assert not stateless.passed and "last-state or savepoint" in stateless.message
    old_image = nb13.check_pipeline_deployment(
        changed(nb13.pipeline_deployment, lambda m: m["spec"].update(image="iotlab-flink:1.20.0")))
    assert not old_image.passed and "expected iotlab-flink:" in old_image.message
    fixed_topic = nb13.check_pipeline_deployment(
        lambda topic, keyspace: nb13.pipeline_deployment("iot.readings", keyspace))
    assert not fixed_topic.passed and "plant.sensors" in fixed_topic.message
    no_folder = nb13.check_pipeline_deployment(changed(
        nb13.pipeline_deployment, lambda m: m["spec"]["flinkConfiguration"].pop("execution.checkpointing.dir")))
    assert not no_folder.passed and "execution.checkpointing.dir" in no_folder.message
    unknown_option = nb13.check_pipeline_deployment(
        changed(nb13.pipeline_deployment, lambda m: m["spec"]["job"]["args"].extend(["--fresh"])))
    assert not unknown_option.passed


def test_the_changed_fields_check():
    laptop, cluster = render(overlay_dir("laptop")), render(overlay_dir("cluster"))
    assert nb13.check_changed_fields(nb13.changed_fields, laptop, cluster).passed

    def top_level_only(before, after):  # compares specs whole, not their leaves
        old = {f"{m['kind']}/{m['metadata']['name']}": m.get("spec") for m in before}
        new = {f"{m['kind']}/{m['metadata']['name']}": m.get("spec") for m in after}
        return {key: (old.get(key), new.get(key)) for key in old.keys() | new.keys() if old.get(key) != new.get(key)}
    assert not nb13.check_changed_fields(top_level_only, laptop, cluster).passed

    def without_removals(before, after):
        return {key: pair for key, pair in nb13.changed_fields(before, after).items() if pair[1] is not None}
    result = nb13.check_changed_fields(without_removals, laptop, cluster)
    assert not result.passed and "Job/j spec.a" in result.message


def test_the_cloud_properties_check():
    assert nb13.check_cloud_kafka_properties(nb13.cloud_kafka_properties).passed

    def librdkafka_names(bootstrap, key, secret):
        return {"bootstrap.servers": bootstrap, "security.protocol": "SASL_SSL", "sasl.mechanisms": "PLAIN",
                "sasl.username": key, "sasl.password": secret}
    assert "librdkafka" in nb13.check_cloud_kafka_properties(librdkafka_names).message

    def unshaded(bootstrap, key, secret):
        properties = nb13.cloud_kafka_properties(bootstrap, key, secret)
        properties["sasl.jaas.config"] = properties["sasl.jaas.config"].replace("org.apache.flink.kafka.shaded.", "")
        return properties
    assert "shaded" in nb13.check_cloud_kafka_properties(unshaded).message
