"""The Kubernetes manifests (lab_env/k8s/): both overlays render and pass strict validation, built-in kinds against
the Kubernetes API's schemas and custom resources against the operators' CRDs (../shared/crds); the validation
fails on a wrong field, a wrong type and a missing required field of each custom kind; the cross-checks catch a
manifest that disagrees with the lab's versions, the pipeline's topics and options, or its own scale."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from iotlab.core.paths import project_root
from iotlab.core.versions import pinned
from iotlab.deploy.crds import load_custom_kinds
from iotlab.deploy.crosschecks import cross_problems
from iotlab.deploy.rendering import OVERLAYS, overlay_dir, render
from iotlab.deploy.validation import is_builtin, problems
from iotlab.jobs.pipeline.application import arguments_parser

CRDS = project_root().parent / "shared" / "crds"
IOTLAB = str(Path(sys.executable).with_name("iotlab"))
needs_crds = pytest.mark.skipif(not CRDS.is_dir(), reason=f"no CRD folder at {CRDS} (the operators' CRDs)")


@pytest.fixture(scope="module")
def custom_kinds():
    if not CRDS.is_dir():
        pytest.skip(f"no CRD folder at {CRDS} (the operators' CRDs)")
    return load_custom_kinds(CRDS)


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    return {overlay: render(overlay_dir(overlay)) for overlay in OVERLAYS}


def one(manifests: list[dict], kind: str) -> dict:
    return copy.deepcopy(next(manifest for manifest in manifests if manifest["kind"] == kind))


def start_options() -> set[str]:
    from iotlab.cli.deploy import start_options as options
    return options()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_renders_every_part_and_is_valid(overlay, rendered, custom_kinds):
    manifests = rendered[overlay]
    kinds = {manifest["kind"] for manifest in manifests}
    assert {"Kafka", "KafkaNodePool", "KafkaTopic", "CassandraDatacenter", "FlinkDeployment", "Job",
            "Deployment", "ConfigMap", "Secret"} <= kinds
    assert all(manifest["metadata"].get("namespace") == "iotlab" for manifest in manifests
               if manifest["kind"] != "Namespace")
    assert problems(manifests, custom_kinds) == []
    assert cross_problems(manifests, start_options()) == []


def test_the_cluster_overlay_has_three_of_each_and_replication_three(rendered):
    laptop, cluster = rendered["laptop"], rendered["cluster"]
    assert [one(overlay, "KafkaNodePool")["spec"]["replicas"] for overlay in (laptop, cluster)] == [1, 3]
    assert [one(overlay, "CassandraDatacenter")["spec"]["size"] for overlay in (laptop, cluster)] == [1, 3]
    assert one(cluster, "FlinkDeployment")["spec"]["taskManager"]["replicas"] == 2
    assert {topic["spec"]["replicas"] for topic in cluster if topic["kind"] == "KafkaTopic"} == {3}
    assert one(cluster, "Kafka")["spec"]["kafka"]["config"]["min.insync.replicas"] == 2
    schema_command = one(cluster, "Job")["spec"]["template"]["spec"]["containers"][0]["command"]
    assert schema_command[-2:] == ["--replication-factor", "3"]


# A wrong field name, a wrong type and a missing required field, for each custom kind: (kind, change, words the
# problem must contain).
def misspelled(path: list, field: str):
    def change(manifest: dict) -> None:
        target = manifest
        for key in path:
            target = target[key]
        target[field + "s"] = target.pop(field)
    return change


def set_value(path: list, value):
    def change(manifest: dict) -> None:
        target = manifest
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def removed(path: list):
    def change(manifest: dict) -> None:
        target = manifest
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return change


BROKEN = {
    "Kafka": [(misspelled(["spec", "kafka"], "listeners"), "listenerss"),
              (set_value(["spec", "kafka", "listeners", 0, "port"], "9092"), "is not of type 'integer'"),
              (removed(["spec", "kafka", "listeners", 0, "tls"]), "'tls' is a required property")],
    "KafkaNodePool": [(misspelled(["spec"], "roles"), "roless"),
                      (set_value(["spec", "replicas"], "three"), "is not of type 'integer'"),
                      (removed(["spec", "storage"]), "'storage' is a required property")],
    "KafkaTopic": [(misspelled(["spec"], "partitions"), "partitionss"),
                   (set_value(["spec", "partitions"], "3"), "is not of type 'integer'"),
                   (removed(["metadata", "name"]), "'name' is a required property")],
    # (the CRD keeps unknown fields directly under a CassandraDatacenter's spec: the API server would too)
    "CassandraDatacenter": [(misspelled(["spec", "storageConfig", "cassandraDataVolumeClaimSpec"], "accessModes"),
                             "accessModess"),
                            (set_value(["spec", "size"], "1"), "is not of type 'integer'"),
                            (removed(["spec", "serverVersion"]), "'serverVersion' is a required property")],
    "FlinkDeployment": [(misspelled(["spec"], "flinkVersion"), "flinkVersions"),
                        (set_value(["spec", "taskManager", "replicas"], "two"), "is not of type 'integer'"),
                        (set_value(["spec", "flinkVersion"], "v9_9"), "is not one of")],
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_a_wrong_field_a_wrong_type_and_a_missing_field_of_each_custom_kind_are_found(kind, rendered, custom_kinds):
    for change, expected in BROKEN[kind]:
        manifest = one(rendered["laptop"], kind)
        change(manifest)
        found = problems([manifest], custom_kinds)
        assert found and any(expected in str(problem) for problem in found), (kind, expected, found)


def test_built_in_kinds_are_checked_strictly_and_an_unknown_kind_is_a_problem(rendered, custom_kinds):
    deployment = one(rendered["laptop"], "Deployment")
    deployment["spec"]["replica"] = 1
    assert any("replica" in str(problem) for problem in problems([deployment], custom_kinds))
    job = one(rendered["laptop"], "Job")
    job["spec"]["backoffLimit"] = "twenty"
    assert problems([job], custom_kinds)
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert problems([unknown], custom_kinds) and not is_builtin(unknown)
    not_served = {"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaUser", "metadata": {"name": "u"}}
    assert any("serve no KafkaUser" in str(problem) for problem in problems([not_served], custom_kinds))
    assert is_builtin({"apiVersion": "rbac.authorization.k8s.io/v1"}) and is_builtin({"apiVersion": "v1"})


def test_the_cross_checks_catch_versions_topics_job_options_and_scale(rendered):
    manifests = copy.deepcopy(rendered["laptop"])
    assert cross_problems(manifests, start_options()) == []
    flink = one(manifests, "FlinkDeployment")
    flink_version = pinned()["FLINK_VERSION"]
    stale = copy.deepcopy(manifests)
    one_flink = next(m for m in stale if m["kind"] == "FlinkDeployment")
    one_flink["spec"]["image"] = "iotlab-flink:2.1.0"
    assert any("expected iotlab-flink" in str(p) for p in cross_problems(stale, start_options()))
    kafka_bump = copy.deepcopy(manifests)
    next(m for m in kafka_bump if m["kind"] == "Kafka")["spec"]["kafka"]["version"] = "4.0.0"
    assert any("Kafka 4.0.0" in str(p) for p in cross_problems(kafka_bump, start_options()))
    renamed = copy.deepcopy(manifests)
    next(m for m in renamed if m["kind"] == "KafkaTopic" and m["spec"]["topicName"].endswith(".alerts"))[
        "spec"]["topicName"] = "iot.alerts"
    assert any("missing" in str(p) for p in cross_problems(renamed, start_options()))
    unknown_option = copy.deepcopy(manifests)
    next(m for m in unknown_option if m["kind"] == "FlinkDeployment")["spec"]["job"]["args"] += ["--fresh"]
    assert any("--fresh" in str(p) for p in cross_problems(unknown_option, start_options()))
    too_many = copy.deepcopy(manifests)
    for manifest in too_many:
        if manifest["kind"] == "KafkaTopic":
            manifest["spec"]["replicas"] = 3
    assert any("3 replicas on 1 broker" in str(p) for p in cross_problems(too_many, start_options()))
    assert flink["spec"]["flinkVersion"] == "v" + "_".join(flink_version.split(".")[:2])


def test_the_job_arguments_are_options_of_pipeline_start_and_parse_in_the_application(rendered):
    from iotlab.cli.pipeline import start

    args = one(rendered["laptop"], "FlinkDeployment")["spec"]["job"]["args"]
    assert args[:2] == ["-pym", "iotlab.jobs.pipeline.application"]
    parsed = arguments_parser().parse_args(args[2:])
    context = start.make_context("start", list(args[2:]))
    assert (parsed.topic, parsed.keyspace, parsed.out_of_orderness) == \
        (context.params["topic"], context.params["keyspace"], context.params["out_of_orderness"])


@needs_crds
def test_the_command_validates_both_overlays_and_names_each_problem_of_a_broken_file(tmp_path):
    run = subprocess.run([IOTLAB, "deploy", "validate", "--crds", str(CRDS)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "laptop: 23 manifest(s)" in run.stdout and "cluster: 23 manifest(s)" in run.stdout
    topic = one(render(overlay_dir("laptop")), "KafkaTopic")
    topic["spec"]["partitons"] = topic["spec"].pop("partitions")
    broken = tmp_path / "topic.yaml"
    broken.write_text(yaml.safe_dump(topic))
    run = subprocess.run([IOTLAB, "deploy", "validate", "--crds", str(CRDS), "--file", str(broken)],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "partitons" in run.stdout, run.stdout + run.stderr


def test_without_a_crd_folder_the_command_says_so_in_one_line_and_checks_the_built_in_kinds():
    run = subprocess.run([IOTLAB, "deploy", "validate", "--overlay", "laptop"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("custom resources") and "--crds DIR" in lines[0]
    assert "14 checked" in lines[1]
    run = subprocess.run([IOTLAB, "deploy", "validate", "--crds", "/nonexistent"], capture_output=True, text=True)
    assert run.returncode == 1 and run.stderr.strip().startswith("error: no CRD folder at /nonexistent")
