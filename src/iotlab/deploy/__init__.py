"""The course's pipeline on Kubernetes: render the kustomize overlays under ``lab_env/k8s/`` and validate every
manifest offline, built-in kinds against the Kubernetes API's schemas and the operators' custom resources against
their own CRDs (``crds``, ``validation``, ``rendering``), and check the manifests against the lab's pinned versions
and the pipeline's command line (``crosschecks``)."""
