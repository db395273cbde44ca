"""Validate Kubernetes manifests offline, strictly: what the API server (or an operator) would refuse is a problem.

- Built-in kinds (Deployment, Service, Job, ...) against the Kubernetes API's own schemas, bundled by
  ``kubernetes-validate`` for each Kubernetes release, in its strict mode (an unknown field is an error).
- Custom kinds (Kafka, KafkaTopic, FlinkDeployment, CassandraDatacenter, ...) against the JSON Schemas made from
  their operators' CRDs (``iotlab.deploy.crds``).
- A kind neither knows is a problem too: a validator that lets unknown kinds through would pass anything."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import jsonschema
import kubernetes_validate

from iotlab.deploy.crds import CustomKind

KUBERNETES_VERSION = "1.33.0"  # the API the manifests are checked against (the operators' releases support it)


@dataclass(frozen=True)
class Problem:
    """What is wrong with one manifest: ``where`` (kind/name and the field's path) and what."""
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def name_of(manifest: dict[str, Any]) -> str:
    """``Kind/name`` of a manifest, for messages."""
    return f"{manifest.get('kind', '?')}/{(manifest.get('metadata') or {}).get('name', '?')}"


def field_path(path) -> str:
    """A JSON path such as ``spec.kafka.listeners[0].port``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


def is_builtin(manifest: dict[str, Any]) -> bool:
    """Whether a manifest is of a kind Kubernetes itself serves: its API group is the core one (``v1``), has no dot
    (``apps``, ``batch``, ``policy``, ...) or ends in ``.k8s.io`` (``rbac.authorization.k8s.io``, ...). Operators'
    groups are domains of their own (``kafka.strimzi.io``)."""
    api_version = manifest.get("apiVersion", "")
    group = api_version.split("/")[0] if "/" in api_version else ""
    return "." not in group or group.endswith(".k8s.io")


def custom_problems(manifest: dict[str, Any], kind: CustomKind) -> list[Problem]:
    """Every way ``manifest`` breaks its CRD's schema (all of them, not only the first)."""
    validator = jsonschema.Draft7Validator(kind.schema)
    problems = []
    for error in sorted(validator.iter_errors(manifest), key=lambda error: list(error.absolute_path)):
        where = name_of(manifest) + (f" {field_path(error.absolute_path)}" if error.absolute_path else "")
        problems.append(Problem(where, error.message))
    return problems


def builtin_problems(manifest: dict[str, Any], kubernetes_version: str = KUBERNETES_VERSION) -> list[Problem]:
    """What the Kubernetes API (``kubernetes_version``) refuses in a built-in kind, strictly."""
    try:
        kubernetes_validate.validate(manifest, kubernetes_version, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = name_of(manifest) + (f" {field_path(error.path)}" if error.path else "")
        return [Problem(where, error.message)]
    except kubernetes_validate.SchemaNotFoundError:
        return [Problem(name_of(manifest), f"no kind {manifest.get('kind')!r} in apiVersion "
                                           f"{manifest.get('apiVersion')!r}: neither Kubernetes {kubernetes_version} "
                                           "nor a CRD given knows it")]
    return []


def problems(manifests: list[dict[str, Any]], custom: dict[tuple[str, str], CustomKind],
             kubernetes_version: str = KUBERNETES_VERSION) -> list[Problem]:
    """Every problem of every manifest: custom kinds against ``custom`` (from ``load_custom_kinds``), the rest
    against the Kubernetes API. A custom kind missing from ``custom`` (its group is one of theirs) is a problem."""
    custom_groups = {api_version.split("/")[0] for api_version, _ in custom}
    found: list[Problem] = []
    for manifest in manifests:
        api_version, kind_name = manifest.get("apiVersion", ""), manifest.get("kind", "")
        kind: Optional[CustomKind] = custom.get((api_version, kind_name))
        if kind is not None:
            found += custom_problems(manifest, kind)
        elif api_version.split("/")[0] in custom_groups:
            found.append(Problem(name_of(manifest), f"the CRDs given serve no {kind_name} in {api_version}"))
        else:
            found += builtin_problems(manifest, kubernetes_version)
    return found
