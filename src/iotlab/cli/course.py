"""`iotlab course build`: the learner notebooks from the solutions."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import click

from iotlab.cli.errors import fail_cleanly


@click.group()
def course() -> None:
    """Tools for course authors."""


@course.command()
@click.option("--check", is_flag=True, help="Only check that notebooks/ is up to date; exit 1 if not.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Project root (default: this repository).")
@fail_cleanly
def build(check: bool, root: Optional[Path]) -> None:
    """Write the learner notebooks/ from solutions/ (solutions become stubs, outputs are dropped)."""
    from iotlab.course.builder import build_all

    stale = build_all(root=root, check_only=check, say=click.echo)
    if check and stale:
        click.secho(
            f"error: notebooks/ is stale for {', '.join(stale)}: run `iotlab course build` and commit the result",
            fg="red", err=True,
        )
        sys.exit(1)


@click.command()
@click.argument("folder", required=False, default="notebooks",
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--notebook", "only", default=None, metavar="NN", help="Only this notebook (its two digits).")
@click.option("--run", "execute", is_flag=True,
              help="Run a copy of each notebook first (needs the lab); by default the saved outputs are read.")
@fail_cleanly
def progress(folder: Path, only: Optional[str], execute: bool) -> None:
    """A learner's exercises in FOLDER (default: notebooks/): passed, failed, skipped or not run, as the
    notebooks' saved outputs say (the verdict each check printed the last time it ran)."""
    from iotlab.course.progress import progress as read_progress
    from iotlab.course.progress import summary_table

    statuses = read_progress(folder, execute=execute, only=only, say=click.echo)
    if not statuses:
        click.echo(f"no exercise checks in {folder} (notebooks named NN_*.ipynb)")
        return
    click.echo(summary_table(statuses))


@course.command("reset")
@click.argument("notebook")
@fail_cleanly
def reset(notebook: str) -> None:
    """Reset NOTEBOOK (its number, e.g. 07): cancel its jobs, delete its topics, drop its keyspaces, so that it
    runs again from the top. Other notebooks' work is left alone."""
    from iotlab.course.reset import notebook_number, reset_notebook

    number = notebook_number(notebook)
    for line in reset_notebook(number).lines():
        click.echo(f"notebook {number}: {line}")
