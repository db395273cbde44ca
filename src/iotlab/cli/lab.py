"""`iotlab lab ...` and `iotlab doctor`: start, inspect and stop the lab; check what a machine lacks."""

from __future__ import annotations

import sys
from typing import Optional

import click

from iotlab.cli.errors import fail_cleanly
from iotlab.core.errors import OptionError
from iotlab.core.settings import PROFILES
from iotlab.lab import RUNTIMES, get_runtime


@click.group()
def lab() -> None:
    """Start, inspect and stop the lab's services."""


runtime_option = click.option(
    "--runtime", type=click.Choice(RUNTIMES), default="native", show_default=True,
    help="native: local processes, no Docker. docker: lab_env/docker-compose.yml.",
)


@lab.command()
@runtime_option
@click.option("--nodes", type=click.Choice(["1", "3"]), default=None,
              help="Kafka brokers and Cassandra nodes: 1 (the default) or 3 (on 127.0.0.1-3; replication factor 3). "
                   "Default: the node count of the lab that runs, or 1.")
@click.option("--with", "profiles", type=click.Choice(["monitoring"]), multiple=True,
              help="monitoring: Prometheus on 127.0.0.1:9090, scraping Flink's reporter and Kafka's and Cassandra's "
                   "JMX exporters (notebook 12). Default: as the lab that runs.")
@click.option("--no-progress", is_flag=True, help="Do not draw the progress bar (for logs and CI).")
@fail_cleanly
def up(runtime: str, nodes: str | None, profiles: tuple[str, ...], no_progress: bool) -> None:
    """Resolve what is missing, start Kafka, Cassandra and Flink, and wait until each works.

    On a lab that runs in part (a fault killed a node), start what is missing."""
    monitoring = True if "monitoring" in profiles else None
    get_runtime(runtime, nodes=int(nodes) if nodes else None, monitoring=monitoring).up(
        say=click.echo, progress=not no_progress)


@lab.command()
@runtime_option
@fail_cleanly
def down(runtime: str) -> None:
    """Stop the services this lab started (and nothing else)."""
    get_runtime(runtime).down(say=click.echo)


@lab.command()
@runtime_option
@click.confirmation_option(prompt="This deletes every topic, table and log of the lab. Continue?")
@fail_cleanly
def reset(runtime: str) -> None:
    """Stop the lab and wipe its data and logs."""
    get_runtime(runtime).reset(say=click.echo)


@lab.command()
@runtime_option
@fail_cleanly
def status(runtime: str) -> None:
    """A table: service, address, version, healthy, pid, resident memory. Exit 1 if any is unhealthy."""
    rows = get_runtime(runtime).status()
    header = f"{'service':<12} {'address':<24} {'version':<9} {'healthy':<8} {'pid':<14} {'RSS MiB':>8}  detail"
    click.echo(header)
    click.echo("-" * len(header))
    for row in rows:
        pids = ",".join(map(str, row.pids)) or "-"
        # Pad before colouring: ANSI codes would otherwise count as width.
        healthy = click.style(f"{'yes' if row.healthy else 'no':<8}", fg="green" if row.healthy else "red")
        click.echo(f"{row.name:<12} {row.address:<24} {row.version:<9} {healthy} {pids:<14} "
                   f"{row.rss_mb:>8.0f}  {row.detail}")
    click.echo(f"{'total':<12} {'':<24} {'':<9} {'':<8} {'':<14} {sum(r.rss_mb for r in rows):>8.0f}")
    if not all(row.healthy for row in rows):
        sys.exit(1)


@lab.command()
@runtime_option
@click.argument("service", type=click.Choice(["kafka", "cassandra", "flink", "prometheus", "lag-exporter"]))
@click.option("-n", "--lines", default=40, show_default=True, help="How many lines to show.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines (Ctrl-C to stop).")
@fail_cleanly
def logs(runtime: str, service: str, lines: int, follow: bool) -> None:
    """Show the end of a service's log."""
    runtime_obj = get_runtime(runtime)
    click.echo(runtime_obj.log_tail(service, lines))
    if follow:
        runtime_obj.follow_log(service)


@click.command()
@click.option("--profile", type=click.Choice(PROFILES), default=None,
              help="The profile to use instead of IOTLAB_PROFILE (.env or the environment).")
@click.option("--dry-run", is_flag=True,
              help="Connect to nothing: print the client settings the profile would use, secrets hidden.")
@fail_cleanly
def doctor(profile: Optional[str], dry_run: bool) -> None:
    """Check Python, Java, Maven, ports, the services and the connector; print the fix for each problem."""
    from iotlab.lab.doctor import print_report, run_checks

    if dry_run:
        print_client_settings(profile)
        return
    if profile not in (None, "local"):
        raise OptionError(f"the checks run against the local lab, not the {profile} profile",
                          f"see what it would use: `iotlab doctor --profile {profile} --dry-run`")

    checks = run_checks()
    print_report(checks, echo=click.echo)
    if not all(check.ok for check in checks):
        sys.exit(1)


def print_client_settings(profile: Optional[str]) -> None:
    """What each client would be given under ``profile``, secrets hidden: confluent-kafka's configuration, the
    Flink Kafka connector's properties and cassandra-driver's options."""
    from iotlab.cassandra.session import astra_options
    from iotlab.core.settings import load_settings, without_secrets

    settings = load_settings(profile=profile)
    click.echo(f"profile: {settings.profile}")
    click.echo("confluent-kafka (Python producers, consumers, admin):")
    for key, value in without_secrets(settings.kafka_client_config()).items():
        click.echo(f"  {key} = {value}")
    click.echo("Flink's Kafka connector (properties.* of every Kafka table, KafkaSource):")
    for key, value in without_secrets(settings.flink_kafka_properties()).items():
        click.echo(f"  {key} = {value}")
    click.echo("cassandra-driver:")
    driver = astra_options(settings) if settings.astra_bundle else {
        "contact_points": list(settings.cassandra_hosts), "port": settings.cassandra_port}
    if settings.cassandra_username:
        driver["auth_provider"] = f"PlainTextAuthProvider(username={settings.cassandra_username!r}, password=***)"
    for key, value in driver.items():
        click.echo(f"  {key} = {value}")
    if settings.astra_bundle and not settings.astra_bundle.is_file():
        click.echo(f"  note: {settings.astra_bundle} does not exist: download the secure connect bundle from Astra's "
                   "console and set IOTLAB_ASTRA_BUNDLE to its path")
    click.echo(f"  keyspace = {settings.keyspace}")
    click.echo(f"Flink REST: {settings.flink_rest_url}")
