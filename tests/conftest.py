"""Shared fixtures. Integration tests need the running lab: `iotlab lab up` (or `make test`)."""

from __future__ import annotations

import pytest

from iotlab.core.settings import load_settings
from iotlab.lab.health import PROBES


@pytest.fixture(scope="session")
def lab_settings():
    """Settings for the running lab; fail (never skip) when a service is down, with the fix."""
    settings = load_settings()
    down = [name for name, probe in PROBES.items() if not probe(settings).healthy]
    if down:
        pytest.fail(f"the lab is not healthy ({', '.join(down)} down): run `iotlab lab up` first")
    return settings
