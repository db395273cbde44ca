"""Where the project's files live.

The package is installed in editable mode from the repository, so the repository root is found
from this file; ``IOTLAB_HOME`` overrides it (for example inside the Docker image).
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The repository root: the folder that holds ``lab_env/``."""
    override = os.environ.get("IOTLAB_HOME")
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parents[3]


def lab_env_dir() -> Path:
    """Configs, the pom and the compose file that start the services."""
    return project_root() / "lab_env"


def state_dir() -> Path:
    """The one git-ignored folder holding the native lab's data, logs, pid files and jars."""
    override = os.environ.get("IOTLAB_STATE_DIR")
    return Path(override).resolve() if override else project_root() / ".lab"
