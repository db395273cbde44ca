"""Render a kustomize folder (``lab_env/k8s/overlays/laptop``, ...) into the manifests it stands for, with
``kubectl kustomize`` (kustomize is built into kubectl) or a standalone ``kustomize build``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from iotlab.core.errors import LabError
from iotlab.core.paths import lab_env_dir

OVERLAYS = ("laptop", "cluster")  # lab_env/k8s/overlays/<name>
# The base reads the JMX exporter's rules from lab_env/native/ (one copy for every runtime), outside its own folder:
# kustomize refuses that unless told.
LOAD_ANY_FILE = "--load-restrictor=LoadRestrictionsNone"


def k8s_dir() -> Path:
    """The kustomize base and overlays of the course's Kubernetes deployment."""
    return lab_env_dir() / "k8s"


def overlay_dir(name: str) -> Path:
    """The folder of an overlay: ``laptop`` (one node of each) or ``cluster`` (three of each, replication 3)."""
    if name not in OVERLAYS:
        raise LabError(f"no overlay {name!r}", f"choose one of: {', '.join(OVERLAYS)}")
    return k8s_dir() / "overlays" / name


def kustomize_command(folder: Path) -> list[str]:
    """The command that renders ``folder``: kubectl's built-in kustomize, else a standalone kustomize."""
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize", LOAD_ANY_FILE, str(folder)]
    if shutil.which("kustomize"):
        return ["kustomize", "build", LOAD_ANY_FILE, str(folder)]
    raise LabError("neither kubectl nor kustomize is installed (rendering the manifests needs one)",
                   "install kubectl, or run `go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0` and put "
                   "$(go env GOPATH)/bin on PATH")


def render_text(folder: Path) -> str:
    """The rendered manifests of a kustomize folder, as YAML text (what `kubectl apply -k` would send)."""
    result = subprocess.run(kustomize_command(folder), capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise LabError(f"kustomize could not render {folder}: {result.stderr.strip().splitlines()[-1:]}",
                       "fix the kustomization.yaml it names")
    return result.stdout


def render(folder: Path) -> list[dict[str, Any]]:
    """The rendered manifests of a kustomize folder, one dict per Kubernetes object."""
    return [document for document in yaml.safe_load_all(render_text(folder)) if document]
