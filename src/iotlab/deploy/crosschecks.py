"""What schemas cannot see: the manifests agree with the rest of the course.

- versions: every image and version field is the one ``lab_env/versions.env`` pins (Flink, Kafka, Cassandra,
  Prometheus), so a version bump that forgets Kubernetes fails here;
- ports: Kafka's listener and Flink's Prometheus reporter use the lab's ports;
- the job: the FlinkDeployment runs ``iotlab.jobs.pipeline.application`` with arguments its parser accepts, each
  one an option of ``iotlab pipeline start`` (the caller passes that command's option names);
- topics: the KafkaTopics are exactly the pipeline's topic and the topics it writes next to it (the alerts on
  one partition, in order);
- scale: no topic or keyspace asks for more replicas than there are nodes, and ``min.insync.replicas`` leaves one
  broker free to fail."""

from __future__ import annotations

from typing import Any, Iterable, Optional

from iotlab.core.topics import OutputTopics
from iotlab.core.versions import pinned
from iotlab.deploy.validation import Problem, name_of
from iotlab.jobs.pipeline.application import arguments_parser
from iotlab.lab.monitoring import FLINK_REPORTER_PORTS

APPLICATION_MODULE = "iotlab.jobs.pipeline.application"
KAFKA_PORT = 9092


def of_kind(manifests: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The manifests of one kind."""
    return [manifest for manifest in manifests if manifest.get("kind") == kind]


def version_problems(manifests: list[dict[str, Any]]) -> list[Problem]:
    """Images and version fields against ``lab_env/versions.env``."""
    versions = pinned()
    flink, kafka = versions["FLINK_VERSION"], versions["KAFKA_VERSION"]
    found = []
    expected_image = f"iotlab-flink:{flink}"  # what lab_env/docker-compose.yml builds from the Flink Dockerfile
    for manifest in manifests:
        for container in containers_of(manifest):
            image = container.get("image", "")
            if image.startswith("iotlab-flink:") and image != expected_image:
                found.append(Problem(name_of(manifest), f"image {image}, but versions.env pins {expected_image}"))
            if image.startswith("prom/prometheus:") and image != f"prom/prometheus:v{versions['PROMETHEUS_VERSION']}":
                found.append(Problem(name_of(manifest), f"image {image}, but versions.env pins Prometheus "
                                                        f"{versions['PROMETHEUS_VERSION']}"))
    for deployment in of_kind(manifests, "FlinkDeployment"):
        spec = deployment["spec"]
        major_minor = "v" + "_".join(flink.split(".")[:2])
        if spec.get("image") != expected_image:
            found.append(Problem(name_of(deployment), f"image {spec.get('image')}, expected {expected_image}"))
        if spec.get("flinkVersion") != major_minor:
            found.append(Problem(name_of(deployment), f"flinkVersion {spec.get('flinkVersion')}, expected "
                                                      f"{major_minor} (Flink {flink})"))
        jar = (spec.get("job") or {}).get("jarURI", "")
        if jar and not jar.endswith(f"flink-python-{flink}.jar"):
            found.append(Problem(name_of(deployment), f"jarURI {jar} is not flink-python-{flink}.jar"))
    for cluster in of_kind(manifests, "Kafka"):
        version = cluster["spec"]["kafka"].get("version")
        metadata = cluster["spec"]["kafka"].get("metadataVersion", "")
        if version != kafka:
            found.append(Problem(name_of(cluster), f"Kafka {version}, but versions.env pins {kafka}"))
        if metadata and not metadata.startswith(".".join(kafka.split(".")[:2]) + "-"):
            found.append(Problem(name_of(cluster), f"metadataVersion {metadata} is not Kafka {kafka}'s"))
    for datacenter in of_kind(manifests, "CassandraDatacenter"):
        if datacenter["spec"].get("serverVersion") != versions["CASSANDRA_VERSION"]:
            found.append(Problem(name_of(datacenter), f"serverVersion {datacenter['spec'].get('serverVersion')}, "
                                                      f"but versions.env pins {versions['CASSANDRA_VERSION']}"))
    return found


def containers_of(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The containers of a Deployment, Job or a FlinkDeployment's pod template."""
    spec = manifest.get("spec") or {}
    template = spec.get("template") or spec.get("podTemplate") or {}
    return list((template.get("spec") or {}).get("containers") or [])


def port_problems(manifests: list[dict[str, Any]]) -> list[Problem]:
    """Kafka's listener and Flink's reporter on the lab's ports."""
    found = []
    for cluster in of_kind(manifests, "Kafka"):
        ports = [listener["port"] for listener in cluster["spec"]["kafka"]["listeners"]]
        if KAFKA_PORT not in ports:
            found.append(Problem(name_of(cluster), f"no listener on {KAFKA_PORT}, the lab's Kafka port"))
    for deployment in of_kind(manifests, "FlinkDeployment"):
        port = str((deployment["spec"].get("flinkConfiguration") or {}).get("metrics.reporter.prom.port", ""))
        if port != str(FLINK_REPORTER_PORTS[0]):
            found.append(Problem(name_of(deployment), f"metrics.reporter.prom.port {port or 'unset'}, the lab's is "
                                                      f"{FLINK_REPORTER_PORTS[0]}"))
    return found


def job_arguments(deployment: dict[str, Any]) -> list[str]:
    """The application's own arguments: the FlinkDeployment's job args after ``-pym MODULE``."""
    args = list((deployment["spec"].get("job") or {}).get("args") or [])
    return args[2:] if args[:2] == ["-pym", APPLICATION_MODULE] else args


def job_problems(manifests: list[dict[str, Any]], start_options: Iterable[str]) -> list[Problem]:
    """The job's module and arguments: parsed by the application, each an option of `iotlab pipeline start`."""
    found = []
    start_options = set(start_options)
    for deployment in of_kind(manifests, "FlinkDeployment"):
        job = deployment["spec"].get("job") or {}
        if job.get("entryClass") != "org.apache.flink.client.python.PythonDriver":
            found.append(Problem(name_of(deployment), "entryClass is not Flink's PythonDriver"))
        if list(job.get("args") or [])[:2] != ["-pym", APPLICATION_MODULE]:
            found.append(Problem(name_of(deployment), f"args do not start with -pym {APPLICATION_MODULE}"))
            continue
        arguments = job_arguments(deployment)
        try:
            arguments_parser().parse_args(arguments)
        except SystemExit:
            found.append(Problem(name_of(deployment), f"the application refuses its arguments {arguments}"))
        unknown = [word for word in arguments if word.startswith("--") and word not in start_options]
        if unknown:
            found.append(Problem(name_of(deployment), f"{', '.join(unknown)}: not options of `iotlab pipeline start`"))
    return found


def topic_of_job(manifests: list[dict[str, Any]]) -> Optional[str]:
    """The topic the FlinkDeployment's job reads (its --topic argument)."""
    for deployment in of_kind(manifests, "FlinkDeployment"):
        arguments = job_arguments(deployment)
        if "--topic" in arguments[:-1]:
            return arguments[arguments.index("--topic") + 1]
    return None


def topic_problems(manifests: list[dict[str, Any]]) -> list[Problem]:
    """The KafkaTopics: the job's topic and what the pipeline writes next to it, the alerts on one partition."""
    source = topic_of_job(manifests)
    if source is None:
        return []
    outputs = OutputTopics(source)
    expected = {source, outputs.dead_letter, outputs.late, outputs.alerts, outputs.sink_dead_letter}
    topics = {(topic["spec"].get("topicName") or topic["metadata"]["name"]): topic
              for topic in of_kind(manifests, "KafkaTopic")}
    found = []
    if set(topics) != expected:
        missing, extra = sorted(expected - set(topics)), sorted(set(topics) - expected)
        found.append(Problem("KafkaTopics", f"missing {missing or 'none'}, not the pipeline's {extra or 'none'}"))
    alerts = topics.get(outputs.alerts)
    if alerts is not None and alerts["spec"].get("partitions") != 1:
        found.append(Problem(name_of(alerts), "the alerts topic needs one partition (alerts in order)"))
    return found


def scale_problems(manifests: list[dict[str, Any]]) -> list[Problem]:
    """Replicas against nodes: topics and the keyspace no more than the nodes, min.insync.replicas below them."""
    found = []
    brokers = sum(pool["spec"]["replicas"] for pool in of_kind(manifests, "KafkaNodePool")
                  if "broker" in pool["spec"].get("roles", []))
    for topic in of_kind(manifests, "KafkaTopic"):
        if topic["spec"].get("replicas", 1) > brokers:
            found.append(Problem(name_of(topic), f"{topic['spec']['replicas']} replicas on {brokers} broker(s)"))
    for cluster in of_kind(manifests, "Kafka"):
        config = cluster["spec"]["kafka"].get("config") or {}
        insync = int(config.get("min.insync.replicas", 1))
        replication = int(config.get("default.replication.factor", 1))
        if replication > brokers or (replication > 1 and insync >= replication):
            found.append(Problem(name_of(cluster), f"replication {replication} with min.insync.replicas {insync} on "
                                                   f"{brokers} broker(s): one broker down must not stop writes"))
    nodes = sum(datacenter["spec"]["size"] for datacenter in of_kind(manifests, "CassandraDatacenter"))
    for job in of_kind(manifests, "Job"):
        for container in containers_of(job):
            command = container.get("command") or []
            if "--replication-factor" in command[:-1]:
                factor = int(command[command.index("--replication-factor") + 1])
                if factor > nodes:
                    found.append(Problem(name_of(job), f"replication factor {factor} on {nodes} Cassandra node(s)"))
    return found


def cross_problems(manifests: list[dict[str, Any]], start_options: Iterable[str]) -> list[Problem]:
    """Every cross-check above."""
    return (version_problems(manifests) + port_problems(manifests) + job_problems(manifests, start_options)
            + topic_problems(manifests) + scale_problems(manifests))
