"""The ``iotlab`` command line: the lab, the doctor, the course tooling and the benchmarks.

Every failure a user can fix ends in one line that says what is wrong and how to fix it, and a
non-zero exit code. Run ``iotlab --help`` or ``iotlab COMMAND --help``.
"""

from __future__ import annotations

import sys
from functools import wraps
from pathlib import Path

import click

from iotlab.lab import RUNTIMES, LabError, get_runtime


def _fail_cleanly(command):
    """Turn the lab's errors (and bad settings) into one clear line and exit code 1."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except LabError as error:
            if error.details:
                click.echo(error.details, err=True)
            click.secho(f"error: {error}", fg="red", err=True)
            sys.exit(1)
        except ValueError as error:  # settings problems (bad .env values)
            click.secho(f"error: {error}", fg="red", err=True)
            sys.exit(1)

    return wrapper


@click.group()
@click.version_option(package_name="iotlab")
def main() -> None:
    """IoT Streaming Lab: Kafka, Flink and Cassandra on your machine."""


# ----------------------------------------------------------------------------- lab

@main.group()
def lab() -> None:
    """Start, inspect and stop the lab's services."""


runtime_option = click.option(
    "--runtime", type=click.Choice(RUNTIMES), default="native", show_default=True,
    help="native: local processes, no Docker. docker: lab_env/docker-compose.yml.",
)


@lab.command()
@runtime_option
@click.option("--no-progress", is_flag=True, help="Do not draw the progress bar (for logs and CI).")
@_fail_cleanly
def up(runtime: str, no_progress: bool) -> None:
    """Resolve what is missing, start Kafka, Cassandra and Flink, and wait until each works."""
    get_runtime(runtime).up(say=click.echo, progress=not no_progress)


@lab.command()
@runtime_option
@_fail_cleanly
def down(runtime: str) -> None:
    """Stop the services this lab started (and nothing else)."""
    get_runtime(runtime).down(say=click.echo)


@lab.command()
@runtime_option
@click.confirmation_option(prompt="This deletes every topic, table and log of the lab. Continue?")
@_fail_cleanly
def reset(runtime: str) -> None:
    """Stop the lab and wipe its data and logs."""
    get_runtime(runtime).reset(say=click.echo)


@lab.command()
@runtime_option
@_fail_cleanly
def status(runtime: str) -> None:
    """A table: service, address, version, healthy, pid, resident memory. Exit 1 if any is unhealthy."""
    rows = get_runtime(runtime).status()
    header = f"{'service':<10} {'address':<24} {'version':<9} {'healthy':<8} {'pid':<14} {'RSS MiB':>8}  detail"
    click.echo(header)
    click.echo("-" * len(header))
    for row in rows:
        pids = ",".join(map(str, row.pids)) or "-"
        # Pad before colouring: ANSI codes would otherwise count as width.
        healthy = click.style(f"{'yes' if row.healthy else 'no':<8}", fg="green" if row.healthy else "red")
        click.echo(f"{row.service:<10} {row.address:<24} {row.version:<9} {healthy} {pids:<14} "
                   f"{row.rss_mb:>8.0f}  {row.detail}")
    click.echo(f"{'total':<10} {'':<24} {'':<9} {'':<8} {'':<14} {sum(r.rss_mb for r in rows):>8.0f}")
    if not all(row.healthy for row in rows):
        sys.exit(1)


@lab.command()
@runtime_option
@click.argument("service", type=click.Choice(["kafka", "cassandra", "flink"]))
@click.option("-n", "--lines", default=40, show_default=True, help="How many lines to show.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines (Ctrl-C to stop).")
@_fail_cleanly
def logs(runtime: str, service: str, lines: int, follow: bool) -> None:
    """Show the end of a service's log."""
    runtime_obj = get_runtime(runtime)
    click.echo(runtime_obj.log_tail(service, lines))
    if follow:
        runtime_obj.follow_log(service)


# ----------------------------------------------------------------------------- doctor

@main.command()
@_fail_cleanly
def doctor() -> None:
    """Check Python, Java, Maven, ports, the services and the connector; print the fix for each problem."""
    from iotlab.doctor import print_report, run_checks

    checks = run_checks()
    print_report(checks, echo=click.echo)
    if not all(check.ok for check in checks):
        sys.exit(1)


# ----------------------------------------------------------------------------- course

@main.group()
def course() -> None:
    """Tools for course authors."""


@course.command()
@click.option("--check", is_flag=True, help="Only check that notebooks/ is up to date; exit 1 if not.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Project root (default: this repository).")
@_fail_cleanly
def build(check: bool, root: Path | None) -> None:
    """Write the learner notebooks/ from solutions/ (solutions become stubs, outputs are dropped)."""
    from iotlab.course import build_all

    stale = build_all(root=root, check_only=check, say=click.echo)
    if check and stale:
        click.secho(
            f"error: notebooks/ is stale for {', '.join(stale)}: run `iotlab course build` and commit the result",
            fg="red", err=True,
        )
        sys.exit(1)


# ----------------------------------------------------------------------------- bench

@main.group()
def bench() -> None:
    """Benchmarks that print their numbers and the machine they ran on."""


@bench.command("lab")
@click.option("--runs", default=1, show_default=True, help="How many cold starts to time.")
@click.option("--idle-seconds", default=20, show_default=True,
              help="How long to let the lab settle before measuring memory.")
@_fail_cleanly
def bench_lab(runs: int, idle_seconds: int) -> None:
    """Cold start (from `up` to all healthy, artifacts cached) and idle resident memory per service."""
    from iotlab.bench import bench_lab as run

    run(runs=runs, idle_seconds=idle_seconds, echo=click.echo)


if __name__ == "__main__":
    main()
