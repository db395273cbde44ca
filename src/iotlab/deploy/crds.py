"""JSON Schemas from CustomResourceDefinitions: what an operator accepts, read from the CRD files it installs.

A CRD's ``openAPIV3Schema`` is OpenAPI 3.0's dialect of JSON Schema with Kubernetes extensions. The API server
drops (or, with strict field validation, refuses) any field the schema does not declare, so the JSON Schema made
here refuses them too: every object with ``properties`` gets ``additionalProperties: false``, unless it says
``x-kubernetes-preserve-unknown-fields`` (free-form maps such as Flink's ``flinkConfiguration`` or Kafka's
``config`` keep any key). ``nullable`` and ``x-kubernetes-int-or-string`` become JSON Schema types."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# What every custom resource's metadata may hold here (the API server accepts more; manifests need no more).
METADATA_SCHEMA = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", "maxLength": 253},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": False,
}


@dataclass(frozen=True)
class CustomKind:
    """One served version of a custom resource: ``api_version`` (group/version), ``kind``, its JSON Schema."""
    api_version: str
    kind: str
    schema: dict[str, Any]
    source: Path


def json_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema for one node of a CRD's ``openAPIV3Schema`` (recursively), strict about unknown fields."""
    schema: dict[str, Any] = {}
    for key, value in openapi.items():
        if key.startswith("x-kubernetes-") or key in ("nullable", "description"):
            continue
        if key == "properties":  # field name -> schema (a field may be called "description")
            schema[key] = {name: json_schema(child) for name, child in value.items()}
        elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, dict)):
            schema[key] = json_schema(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            schema[key] = [json_schema(child) for child in value]
        else:
            schema[key] = value
    if openapi.get("x-kubernetes-int-or-string"):
        schema.pop("type", None)
        schema["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if openapi.get("nullable") and "type" in schema:
        schema["type"] = [schema["type"], "null"]
    keeps_unknown = openapi.get("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in openapi and "additionalProperties" not in openapi and not keeps_unknown:
        schema["additionalProperties"] = False
    return schema


def custom_kinds(crd_file: Path) -> list[CustomKind]:
    """Every served version of every CRD in one YAML file."""
    kinds = []
    for document in yaml.safe_load_all(crd_file.read_text()):
        if not document or document.get("kind") != "CustomResourceDefinition":
            continue
        spec = document["spec"]
        for version in spec["versions"]:
            if not version.get("served", True):
                continue
            api_version = f"{spec['group']}/{version['name']}"
            schema = json_schema(version["schema"]["openAPIV3Schema"])
            properties = schema.setdefault("properties", {})
            properties["apiVersion"] = {"const": api_version}
            properties["kind"] = {"const": spec["names"]["kind"]}
            properties["metadata"] = METADATA_SCHEMA
            schema["required"] = sorted({"apiVersion", "kind", "metadata", *schema.get("required", [])})
            kinds.append(CustomKind(api_version, spec["names"]["kind"], schema, crd_file))
    return kinds


def load_custom_kinds(folder: Path) -> dict[tuple[str, str], CustomKind]:
    """{(apiVersion, kind): CustomKind} for every CRD under ``folder`` (searched recursively, *.yaml and *.yml)."""
    if not folder.is_dir():
        raise FileNotFoundError(f"no CRD folder at {folder}")
    kinds: dict[tuple[str, str], CustomKind] = {}
    for path in sorted([*folder.rglob("*.yaml"), *folder.rglob("*.yml")]):
        for kind in custom_kinds(path):
            kinds[(kind.api_version, kind.kind)] = kind
    if not kinds:
        raise FileNotFoundError(f"no CustomResourceDefinition in {folder}")
    return kinds
