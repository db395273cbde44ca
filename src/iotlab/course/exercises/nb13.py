"""Notebook 13 (deployment): the KafkaTopic of the pipeline's alerts and the FlinkDeployment of the pipeline, each
checked as an operator would take it (its CRD's schema) and against the course (topic names, versions, the
pipeline's options); what changes from the laptop overlay to the cluster one; and the Flink Kafka connector's
properties for Confluent Cloud.

Nothing here needs a Kubernetes cluster: the manifests are rendered with kustomize and validated offline
(``iotlab.deploy``). The custom resources are checked against the operators' CRD files when the course finds them
(``crd_folder``); without them a check says so and checks the rest."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Optional

from iotlab.core.paths import project_root
from iotlab.core.settings import Settings
from iotlab.core.topics import OutputTopics
from iotlab.course.checks import CheckResult, error_reason, failed, is_skipped, passed, skipped
from iotlab.deploy.crds import CustomKind, load_custom_kinds
from iotlab.deploy.crosschecks import job_problems, topic_of_job, version_problems
from iotlab.deploy.validation import problems
from iotlab.jobs.pipeline.application import arguments_parser

KAFKA_CLUSTER = "iotlab"  # the Kafka resource's name in lab_env/k8s/base: KafkaTopics name it in a label
FLINK_IMAGE_REPOSITORY = "iotlab-flink"


def crd_folder() -> Optional[Path]:
    """The operators' CRD files beside the project (``../shared/crds``, as the course's CI has them), or None."""
    folder = project_root().parent / "shared" / "crds"
    return folder if folder.is_dir() else None


def custom_kinds() -> dict[tuple[str, str], CustomKind]:
    """The custom kinds the CRD folder serves ({} without one: then only the course's own rules are checked)."""
    folder = crd_folder()
    return _custom_kinds_in(folder) if folder else {}


@lru_cache(maxsize=2)
def _custom_kinds_in(folder: Path) -> dict[tuple[str, str], CustomKind]:
    """Read once per process: the CRD files are large (seconds of YAML parsing) and do not change."""
    return load_custom_kinds(folder)


def application_options() -> set[str]:
    """The options the pipeline's application takes (each one an option of `iotlab pipeline start` too)."""
    return {option for action in arguments_parser()._actions for option in action.option_strings
            if option.startswith("--")}


def _manifest(name: str, function: Callable, args: tuple) -> tuple[Optional[dict], Optional[CheckResult]]:
    """The learner's manifest for ``args``, or the failed check that says why there is none."""
    try:
        manifest = function(*args)
    except Exception as error:
        return None, failed(name, f"raised {type(error).__name__}: {error_reason(error)}")
    if not isinstance(manifest, dict):
        return None, failed(name, f"return the manifest as a dict, not {type(manifest).__name__}")
    return manifest, None


def _schema_failure(name: str, manifest: dict, kinds: dict) -> Optional[CheckResult]:
    """A failed check naming the first problem the operator's CRD finds (None when it finds none, or no CRDs)."""
    if not kinds:
        return None
    found = problems([manifest], kinds)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        return failed(name, f"the operator's CRD refuses it: {found[0]}{more}")
    return None


def _schema_note(kinds: dict) -> str:
    return "valid against the operator's CRD" if kinds else "CRD not checked (no CRD folder found)"


# ----------------------------------------------------------------------------- 13.1 the KafkaTopic of the alerts

def alerts_topic(source_topic: str, replicas: int) -> dict[str, Any]:
    """Reference for 13.1: the Strimzi KafkaTopic of the alerts the pipeline reading ``source_topic`` writes: the
    pipeline's own name for it, one partition (alerts in order), ``replicas`` copies, and the label that tells
    the Topic Operator which Kafka cluster it belongs to."""
    name = OutputTopics(source_topic).alerts
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaTopic",
        "metadata": {"name": name.replace(".", "-").replace("_", "-").lower(),
                     "labels": {"strimzi.io/cluster": KAFKA_CLUSTER}},
        "spec": {"topicName": name, "partitions": 1, "replicas": replicas},
    }


def check_alerts_topic(function: Callable[[str, int], dict]) -> CheckResult:
    """Check 13.1: for two source topics and replication factors, a KafkaTopic the CRD accepts, in the cluster
    iotlab, with the pipeline's alerts topic name, one partition and the replicas asked for."""
    name = "alerts_topic"
    if is_skipped(function, ("iot.readings", 1)):
        return skipped(name)
    kinds = custom_kinds()
    for source, replicas in (("iot.readings", 1), ("plant.sensors", 3)):
        manifest, error = _manifest(name, function, (source, replicas))
        if error is not None:
            return error
        refused = _schema_failure(name, manifest, kinds)
        if refused is not None:
            return refused
        if (manifest.get("apiVersion"), manifest.get("kind")) != ("kafka.strimzi.io/v1", "KafkaTopic"):
            return failed(name, f"a {manifest.get('kind')} of {manifest.get('apiVersion')}; expected a KafkaTopic of "
                                "kafka.strimzi.io/v1")
        labels = (manifest.get("metadata") or {}).get("labels") or {}
        if labels.get("strimzi.io/cluster") != KAFKA_CLUSTER:
            return failed(name, "no label strimzi.io/cluster: iotlab. Hint: the Topic Operator manages only the "
                                "KafkaTopics labelled with its Kafka cluster's name")
        spec = manifest.get("spec") or {}
        topic = spec.get("topicName") or manifest["metadata"].get("name")
        if topic != OutputTopics(source).alerts:
            return failed(name, f"for {source!r} the topic is {topic!r}; the pipeline writes its alerts to "
                                f"{OutputTopics(source).alerts!r}. Hint: a resource name cannot hold every topic "
                                "name: spec.topicName can")
        if spec.get("partitions") != 1:
            return failed(name, f"{spec.get('partitions')} partitions. Hint: the alerts are read in the order they "
                                "were written, which Kafka keeps within one partition only")
        if spec.get("replicas") != replicas:
            return failed(name, f"replicas {spec.get('replicas')}, asked for {replicas}")
    return passed(name, f"the alerts topic, one partition, the replicas asked for; {_schema_note(kinds)}")


# ----------------------------------------------------------------------------- 13.2 the FlinkDeployment

def pipeline_deployment(topic: str, keyspace: str) -> dict[str, Any]:
    """Reference for 13.2: the smallest FlinkDeployment that runs the pipeline as the course's image's PyFlink
    application, on Flink 2.2, checkpointing every 2 s into a folder, resuming from its last checkpoint when the
    operator upgrades it. (The course's manifest, lab_env/k8s/base/flink.yaml, also mounts a volume on that folder,
    so that checkpoints outlive the pods, and gives the job Kafka's and Cassandra's addresses.)"""
    from iotlab.core.versions import pinned

    flink = pinned()["FLINK_VERSION"]
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": "pipeline"},
        "spec": {
            "image": f"{FLINK_IMAGE_REPOSITORY}:{flink}",
            "flinkVersion": "v" + "_".join(flink.split(".")[:2]),
            "serviceAccount": "flink",
            "flinkConfiguration": {
                "taskmanager.numberOfTaskSlots": "2",
                "execution.checkpointing.interval": "2s",
                "execution.checkpointing.dir": "file:///flink-data/checkpoints",
            },
            "jobManager": {"resource": {"cpu": 0.5, "memory": "1600m"}},
            "taskManager": {"resource": {"cpu": 1, "memory": "2048m"}},
            "job": {
                "jarURI": f"local:///opt/flink/opt/flink-python-{flink}.jar",
                "entryClass": "org.apache.flink.client.python.PythonDriver",
                "args": ["-pym", "iotlab.jobs.pipeline.application", "--topic", topic, "--keyspace", keyspace],
                "parallelism": 1,
                "upgradeMode": "last-state",
            },
        },
    }


def check_pipeline_deployment(function: Callable[[str, str], dict]) -> CheckResult:
    """Check 13.2: a FlinkDeployment the CRD accepts, with the course's image and Flink version, the pipeline's
    application reading the topic and keyspace given, checkpoints on and kept across an upgrade."""
    name = "pipeline_deployment"
    if is_skipped(function, ("iot.readings", "iotlab")):
        return skipped(name)
    kinds = custom_kinds()
    manifest, error = _manifest(name, function, ("plant.sensors", "plant"))
    if error is not None:
        return error
    refused = _schema_failure(name, manifest, kinds)
    if refused is not None:
        return refused
    if manifest.get("kind") != "FlinkDeployment":
        return failed(name, f"a {manifest.get('kind')}; expected a FlinkDeployment")
    course = version_problems([manifest]) + job_problems([manifest], application_options())
    if course:
        return failed(name, f"{course[0].message}. Hint: the course's image runs Flink's PythonDriver with "
                            "-pym iotlab.jobs.pipeline.application and that module's options")
    arguments = list(manifest["spec"]["job"]["args"])
    if topic_of_job([manifest]) != "plant.sensors" or \
            arguments[arguments.index("--keyspace") + 1 if "--keyspace" in arguments[:-1] else 0] != "plant":
        return failed(name, "asked for topic 'plant.sensors' and keyspace 'plant', the job reads another. Hint: "
                            "pass the function's arguments to --topic and --keyspace")
    configuration = manifest["spec"].get("flinkConfiguration") or {}
    if "execution.checkpointing.interval" not in configuration:
        return failed(name, "no checkpoints: the pipeline's exactly-once alerts and its restarts need them. Hint: "
                            "execution.checkpointing.interval in flinkConfiguration")
    if "execution.checkpointing.dir" not in configuration:
        return failed(name, "checkpoints with no folder: they would live in the JobManager's memory and die with it. "
                            "Hint: execution.checkpointing.dir, on a volume")
    if manifest["spec"]["job"].get("upgradeMode", "stateless") == "stateless":
        return failed(name, "upgradeMode stateless: an upgrade would start the job from nothing (windows lost, "
                            "topics read again). Hint: last-state or savepoint")
    return passed(name, f"the pipeline's application on the course's image, checkpointed; {_schema_note(kinds)}")


# ----------------------------------------------------------------------------- 13.3 laptop -> cluster

def flattened(value: Any, path: str = "") -> dict[str, Any]:
    """Every leaf of a manifest under its path (``spec.kafka.listeners[0].port``)."""
    if isinstance(value, dict):
        leaves: dict[str, Any] = {}
        for key, child in value.items():
            leaves.update(flattened(child, f"{path}.{key}" if path else str(key)))
        return leaves
    if isinstance(value, list):
        leaves = {}
        for index, child in enumerate(value):
            leaves.update(flattened(child, f"{path}[{index}]"))
        return leaves
    return {path: value}


def changed_fields(before: list[dict], after: list[dict]) -> dict[str, tuple[Any, Any]]:
    """Reference for 13.3: each field that differs between two renderings, as ``"Kind/name path": (before, after)``
    (None on the side where the field, or the whole manifest, is absent)."""
    def leaves(manifests: list[dict]) -> dict[str, Any]:
        found = {}
        for manifest in manifests:
            owner = f"{manifest.get('kind')}/{(manifest.get('metadata') or {}).get('name')}"
            found.update({f"{owner} {path}": value for path, value in flattened(manifest).items()})
        return found
    old, new = leaves(before), leaves(after)
    return {key: (old.get(key), new.get(key)) for key in sorted(old.keys() | new.keys())
            if old.get(key) != new.get(key)}


def check_changed_fields(function: Callable[[list, list], dict], laptop: list[dict],
                         cluster: list[dict]) -> CheckResult:
    """Check 13.3: the reference's changes from ``laptop`` to ``cluster``, and on two small manifests with a field
    added, one removed and one inside a list changed."""
    name = "changed_fields"
    if is_skipped(function, ([], [])):
        return skipped(name)
    small_before = [{"kind": "Job", "metadata": {"name": "j"}, "spec": {"a": 1, "b": [1, 2]}}]
    small_after = [{"kind": "Job", "metadata": {"name": "j"}, "spec": {"b": [1, 3], "c": True}}]
    for before, after, what in ((small_before, small_after, "two small manifests"),
                                (laptop, cluster, "laptop -> cluster")):
        try:
            answer = dict(function(before, after))
        except Exception as error:
            return failed(name, f"raised {type(error).__name__}: {error_reason(error)}")
        expected = changed_fields(before, after)
        if answer != expected:
            missing = sorted(set(expected) - set(answer))[:2]
            extra = sorted(set(answer) - set(expected))[:2]
            wrong = sorted(key for key in set(answer) & set(expected) if answer[key] != expected[key])[:2]
            return failed(name, f"{what}: missing {missing or 'none'}, not changes {extra or 'none'}, wrong values "
                                f"{wrong or 'none'}. Hint: compare every leaf (lists by index), None where absent")
    return passed(name, f"{len(changed_fields(laptop, cluster))} fields change from laptop to cluster")


# ----------------------------------------------------------------------------- 13.4 Kafka in the cloud, for Flink

def cloud_kafka_properties(bootstrap: str, api_key: str, api_secret: str) -> dict[str, str]:
    """Reference for 13.4: the Kafka client properties Flink's Kafka connector needs for Confluent Cloud (SASL over
    TLS, PLAIN with the API key and secret, the login module in the connector's shaded package)."""
    settings = Settings(profile="cloud", kafka_bootstrap_servers=bootstrap, kafka_bootstrap_for_jobs=bootstrap,
                        kafka_sasl_username=api_key, kafka_sasl_password=api_secret)
    return settings.flink_kafka_properties()


def check_cloud_kafka_properties(function: Callable[[str, str, str], dict]) -> CheckResult:
    """Check 13.4: the reference's properties, with a hint for each usual slip (librdkafka's names, the login
    module outside the shaded package, a missing semicolon)."""
    name = "cloud_kafka_properties"
    case = ("pkc-abc12.europe-west1.gcp.confluent.cloud:9092", "KEY", "SECRET")
    if is_skipped(function, case):
        return skipped(name)
    try:
        answer = dict(function(*case))
    except Exception as error:
        return failed(name, f"raised {type(error).__name__}: {error_reason(error)}")
    expected = cloud_kafka_properties(*case)
    if "sasl.mechanisms" in answer or "sasl.username" in answer:
        return failed(name, "sasl.mechanisms / sasl.username are librdkafka's names (Python's client); the Java "
                            "client in Flink's connector takes sasl.mechanism and the credentials in sasl.jaas.config")
    jaas = str(answer.get("sasl.jaas.config", ""))
    if jaas.startswith("org.apache.kafka."):
        return failed(name, "the login module's unshaded name: the connector's jar relocates Kafka's classes under "
                            "org.apache.flink.kafka.shaded., and cannot load org.apache.kafka....PlainLoginModule")
    if jaas and not jaas.rstrip().endswith(";"):
        return failed(name, "a JAAS line ends with a semicolon")
    if answer != expected:
        wrong = sorted(key for key in expected.keys() | answer.keys() if answer.get(key) != expected.get(key))
        return failed(name, f"these differ from what the connector needs: {wrong}")
    return passed(name, "SASL_SSL with PLAIN, the key and secret in the shaded login module's JAAS line")
