"""The machine a benchmark ran on: printed with every table, since numbers mean nothing without it."""

from __future__ import annotations

import os
import platform

import psutil


def machine_description() -> str:
    memory_gib = psutil.virtual_memory().total / 2**30
    return (f"{platform.node()}: {os.cpu_count()} cores, {memory_gib:.1f} GiB RAM, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}")
