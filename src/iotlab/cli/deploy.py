"""``iotlab deploy render/validate``: the course's Kubernetes manifests (``lab_env/k8s/``), rendered and checked
offline: built-in kinds against the Kubernetes API's schemas, the operators' custom resources against their CRDs
(a folder of CRD files: ``--crds``), and everything against the lab's versions and the pipeline's options."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click
import yaml

from iotlab.cli.errors import fail_cleanly
from iotlab.cli.pipeline import start as pipeline_start
from iotlab.core.errors import OptionError
from iotlab.deploy.rendering import OVERLAYS

# Where the course's CI keeps the CRDs of Strimzi 1.0.1, cass-operator 1.32 and the Flink operator 1.15, beside
# the project (an operator's release ships the same files; installing the operator installs them).
CRDS_HINT = "../shared/crds"


@click.group()
def deploy() -> None:
    """The pipeline on Kubernetes (lab_env/k8s/): render and validate the overlays."""


@deploy.command("render")
@click.argument("overlay", type=click.Choice(OVERLAYS))
@fail_cleanly
def render(overlay: str) -> None:
    """Print the manifests of OVERLAY (laptop or cluster), as `kubectl apply -f -` would take them."""
    from iotlab.deploy.rendering import overlay_dir, render_text

    click.echo(render_text(overlay_dir(overlay)), nl=False)


def start_options() -> set[str]:
    """The long option names of `iotlab pipeline start` (the Kubernetes job's arguments must be among them)."""
    return {name for parameter in pipeline_start.params for name in parameter.opts if name.startswith("--")}


@deploy.command("validate")
@click.option("--overlay", "overlays", multiple=True, type=click.Choice(OVERLAYS),
              help="An overlay to check (repeat for more); default: every overlay.")
@click.option("--file", "files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Check this manifest file instead of the overlays (repeat for more).")
@click.option("--crds", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=f"A folder of the operators' CRD files (the course's CI: {CRDS_HINT}).")
@fail_cleanly
def validate(overlays: tuple[str, ...], files: tuple[Path, ...], crds: Optional[Path]) -> None:
    """Check the manifests strictly: print each problem, and exit 1 if there is any."""
    from iotlab.deploy.crds import load_custom_kinds
    from iotlab.deploy.crosschecks import cross_problems
    from iotlab.deploy.rendering import overlay_dir
    from iotlab.deploy.rendering import render as render_overlay
    from iotlab.deploy.validation import KUBERNETES_VERSION, Problem, is_builtin, problems

    if files and overlays:
        raise OptionError("--file and --overlay both given", "check either manifest files or overlays")
    custom = {}
    if crds is None:
        click.echo("custom resources (Kafka, KafkaTopic, FlinkDeployment, CassandraDatacenter) not checked: no CRD "
                   f"folder given (--crds DIR; the course's CI uses {CRDS_HINT})")
    else:
        try:
            custom = load_custom_kinds(crds)
        except FileNotFoundError as error:
            raise OptionError(str(error), f"give the folder of the operators' CRD files (the course's: {CRDS_HINT})") \
                from None
    sources = {str(path): [doc for doc in yaml.safe_load_all(path.read_text()) if doc] for path in files} or \
        {overlay: render_overlay(overlay_dir(overlay)) for overlay in overlays or OVERLAYS}
    total = 0
    for source, manifests in sources.items():
        checked = manifests if custom else [manifest for manifest in manifests if is_builtin(manifest)]
        found: list[Problem] = problems(checked, custom)
        if not files:
            found += cross_problems(manifests, start_options())
        total += len(found)
        verdict = "valid" if not found else f"{len(found)} problem(s)"
        click.echo(f"{source}: {len(manifests)} manifest(s), {len(checked)} checked against Kubernetes "
                   f"{KUBERNETES_VERSION}{' and the CRDs' if custom else ''}: {verdict}")
        for problem in found:
            click.echo(f"  {problem}")
    if total:
        raise SystemExit(1)

