"""The core every other room builds on: settings, paths, pinned versions, errors, the data contract,
time and window helpers, topic names and dead-letter headers. It imports no other part of ``iotlab``."""

from iotlab.core.contract import READING_SCHEMA, validate_reading
from iotlab.core.errors import (
    CassandraUnavailable,
    ConnectorMissing,
    CourseBuildError,
    IotlabError,
    JobFailed,
    LabError,
    ServiceTimeout,
    SettingsError,
    TopicNotFound,
)
from iotlab.core.paths import lab_env_dir, project_root, state_dir
from iotlab.core.settings import Settings, load_settings
from iotlab.core.timestamps import (
    MINUTE_MS,
    epoch_ms,
    format_epoch_ms,
    format_timestamp,
    parse_timestamp,
    timestamp_ms,
)
from iotlab.core.topics import (
    OutputTopics,
    alerts_topic,
    dead_letter_headers,
    dead_letter_topic,
    late_topic,
    windows_topic,
)
from iotlab.core.versions import pinned
from iotlab.core.windows import WINDOW_MINUTES, WINDOW_MS, is_late_for_device, window_end_ms, window_start_ms

__all__ = [
    "CassandraUnavailable", "ConnectorMissing", "CourseBuildError", "IotlabError", "JobFailed", "LabError",
    "MINUTE_MS", "OutputTopics", "READING_SCHEMA", "ServiceTimeout", "Settings", "SettingsError", "TopicNotFound",
    "WINDOW_MINUTES", "WINDOW_MS", "alerts_topic", "dead_letter_headers", "dead_letter_topic", "epoch_ms",
    "format_epoch_ms", "format_timestamp", "is_late_for_device", "lab_env_dir", "late_topic", "load_settings",
    "parse_timestamp", "pinned", "project_root", "state_dir", "timestamp_ms", "validate_reading",
    "window_end_ms", "window_start_ms", "windows_topic",
]
