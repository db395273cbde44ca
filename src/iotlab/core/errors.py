"""The course's errors: one root, and every error says what is wrong **and** how to fix it.

The command line prints any ``IotlabError`` as one line (``error: <problem>: <fix>``) and exits with 1;
anything else is a bug and keeps its traceback. Raise the subclass that names the room the problem is in.
"""

from __future__ import annotations


class IotlabError(Exception):
    """A problem the user can fix. ``details`` holds extra lines worth showing, such as a log tail."""

    def __init__(self, problem: str, fix: str, details: str = "") -> None:
        super().__init__(f"{problem}: {fix}")
        self.problem = problem
        self.fix = fix
        self.details = details


class SettingsError(IotlabError):
    """A bad value in the environment or in ``.env``."""


class LabError(IotlabError):
    """The lab cannot start, stop or be reached (missing Java, a port taken, a service down...)."""


class ConnectorMissing(IotlabError):
    """The Flink Kafka connector jar has not been resolved yet."""


class CassandraUnavailable(IotlabError):
    """Cassandra did not answer in time."""


class TopicNotFound(IotlabError):
    """A job or a reader was pointed at a Kafka topic that does not exist."""


class ServiceTimeout(IotlabError, TimeoutError):
    """Kafka or Flink did not do what was asked within the time allowed."""


class JobFailed(IotlabError, RuntimeError):
    """A Flink job ended in a state other than the one waited for."""


class OptionError(IotlabError):
    """Options that cannot work together, or a value a command cannot use."""


class CourseBuildError(IotlabError):
    """A solution notebook cannot be turned into a learner notebook (unbalanced markers...)."""


class StoreOutdated(IotlabError):
    """A keyspace holds the course's tables as an older version of ``schema.cql`` made them."""
