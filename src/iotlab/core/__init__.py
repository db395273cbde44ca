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
    OptionError,
    ServiceTimeout,
    SettingsError,
    TopicNotFound,
)
from iotlab.core.offline import END_OF_INPUT, OFFLINE_GAP_MINUTES, OFFLINE_GAP_MS, ends_silence, silence_is_raised
from iotlab.core.paths import lab_env_dir, project_root, state_dir
from iotlab.core.settings import Settings, load_settings
from iotlab.core.timestamps import (
    MINUTE_MS,
    Moment,
    as_utc,
    epoch_micros,
    epoch_ms,
    format_epoch_ms,
    format_timestamp,
    parse_timestamp,
    timestamp_ms,
    timestamp_text,
    utc_day,
    utc_days,
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
from iotlab.core.windows import (
    OUT_OF_ORDERNESS_MINUTES,
    WINDOW_MINUTES,
    WINDOW_MS,
    OnEventWatermark,
    window_end_ms,
    window_has_fired,
    window_start_ms,
)

__all__ = [
    # contract
    "READING_SCHEMA", "validate_reading",
    # errors
    "CassandraUnavailable", "ConnectorMissing", "CourseBuildError", "IotlabError", "JobFailed", "LabError",
    "OptionError", "ServiceTimeout", "SettingsError", "TopicNotFound",
    # offline
    "END_OF_INPUT", "OFFLINE_GAP_MINUTES", "OFFLINE_GAP_MS", "ends_silence", "silence_is_raised",
    # paths, settings and versions
    "lab_env_dir", "project_root", "state_dir", "Settings", "load_settings", "pinned",
    # timestamps
    "MINUTE_MS", "Moment", "as_utc", "epoch_micros", "epoch_ms", "format_epoch_ms", "format_timestamp",
    "parse_timestamp", "timestamp_ms", "timestamp_text", "utc_day", "utc_days",
    # topics
    "OutputTopics", "alerts_topic", "dead_letter_headers", "dead_letter_topic", "late_topic", "windows_topic",
    # windows
    "OUT_OF_ORDERNESS_MINUTES", "WINDOW_MINUTES", "WINDOW_MS", "OnEventWatermark", "window_end_ms",
    "window_has_fired", "window_start_ms",
]
