"""The course's pipeline on Kubernetes: render the kustomize overlays under ``lab_env/k8s/`` and validate every
manifest offline, built-in kinds against the Kubernetes API's schemas and the operators' custom resources against
their own CRDs (``crds``, ``validation``, ``rendering``), and check the manifests against the lab's pinned versions
and the pipeline's command line (``crosschecks``)."""

from iotlab.deploy.crds import load_custom_kinds
from iotlab.deploy.crosschecks import cross_problems
from iotlab.deploy.rendering import OVERLAYS, overlay_dir, render, render_text
from iotlab.deploy.validation import Problem, is_builtin, problems

__all__ = ["load_custom_kinds", "cross_problems", "OVERLAYS", "overlay_dir", "render", "render_text", "Problem",
           "is_builtin", "problems"]
