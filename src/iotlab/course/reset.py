"""Reset one notebook's state, so that a learner (or a class) can run it again from the top: the jobs it left on
the session cluster cancelled, its topics deleted, its keyspaces dropped. Everything else is left alone: other
notebooks' work, the lab's services, the course's data files.

Each notebook names what it makes after itself (the course's convention, held by its notebooks): topics
``nbNN`` and ``nbNN.<name>`` (``nbNN-<name>``), those of its checks ``check.nbNN.<name>``; keyspaces
``iotlab_nbNN[_<name>]`` and ``iotlab_check_nbNN[_<name>]``; jobs named after their topics."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from iotlab.cassandra import closing_session
from iotlab.core.errors import OptionError
from iotlab.core.settings import Settings, load_settings
from iotlab.flink import rest
from iotlab.kafka.clients import admin_client


def notebook_number(text: str) -> str:
    """``"7"``, ``"07"`` or ``"07_cassandra_data_modeling"`` -> ``"07"``; a clear error for anything else."""
    match = re.fullmatch(r"(\d{1,2})(_\w+)?(\.ipynb)?", text.strip())
    if match is None or not 0 <= int(match.group(1)) <= 99:
        raise OptionError(f"{text!r} is not a notebook number", "give its two digits, e.g. `iotlab course reset 07`")
    return f"{int(match.group(1)):02d}"


def owns_topic(number: str, topic: str) -> bool:
    return re.fullmatch(rf"(check\.)?nb{number}([.\-].*)?", topic) is not None


def owns_keyspace(number: str, keyspace: str) -> bool:
    return re.fullmatch(rf"iotlab_(check_)?nb{number}(_\w*)?", keyspace) is not None


def owns_job(number: str, job_name: str) -> bool:
    return re.search(rf"(^|[\s:])(check\.)?nb{number}([.\-\s]|$)", job_name) is not None


@dataclass
class ResetReport:
    """What a reset ended: job ids, topics and keyspaces."""
    jobs: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    keyspaces: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"cancelled {len(self.jobs)} job(s)" + (f": {', '.join(self.jobs)}" if self.jobs else ""),
                f"deleted {len(self.topics)} topic(s)" + (f": {', '.join(self.topics)}" if self.topics else ""),
                f"dropped {len(self.keyspaces)} keyspace(s)" + (f": {', '.join(self.keyspaces)}" if self.keyspaces
                                                                 else "")]


def reset_notebook(number: str, settings: Optional[Settings] = None) -> ResetReport:
    """Cancel notebook ``number``'s running jobs, delete its topics, drop its keyspaces; say what went."""
    settings = settings or load_settings()
    report = ResetReport()
    for job in rest.jobs_overview():
        if job["state"] not in rest.TERMINAL_STATES and owns_job(number, job["name"]):
            rest.cancel(job["jid"])
            report.jobs.append(f"{job['name']} ({job['jid'][:8]})")
    admin = admin_client(settings)
    topics = sorted(topic for topic in admin.list_topics(timeout=10).topics if owns_topic(number, topic))
    if topics:
        for future in admin.delete_topics(topics, operation_timeout=60).values():
            future.result(timeout=90)
    report.topics = topics
    with closing_session(settings) as session:
        rows = session.execute("SELECT keyspace_name FROM system_schema.keyspaces")
        keyspaces = sorted(row.keyspace_name for row in rows if owns_keyspace(number, row.keyspace_name))
        for keyspace in keyspaces:
            session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)
    report.keyspaces = keyspaces
    return report
