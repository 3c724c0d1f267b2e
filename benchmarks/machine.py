"""The machine and library versions a measurement ran on, for benchmark pages."""

from __future__ import annotations

import datetime
import os
import platform
import re
import subprocess
from pathlib import Path

import numpy as np
import scipy
import sklearn

import sk_adagrad
from benchmarks import REPO_DIR


def _cpu_name() -> str:
    """The CPU's model name, or what ``platform`` knows of it."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = found.group(1).strip() if found else cpu
    return cpu


def _memory_gib() -> float | None:
    """Total RAM in GiB, or None where ``/proc/meminfo`` does not say."""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        found = re.search(r"MemTotal:\s+(\d+) kB", meminfo.read_text())
        if found:
            return int(found.group(1)) / 2**20
    return None


def machine_description() -> str:
    """CPU, cores, RAM, system and library versions, on one line."""
    gib = _memory_gib()
    memory = "" if gib is None else f", {gib:.0f} GiB RAM"
    return (
        f"{_cpu_name()}, {os.cpu_count()} cores{memory}, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, "
        f"NumPy {np.__version__}, SciPy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}"
    )


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as text."""
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_info() -> dict[str, str]:
    """CPU, cores, RAM, library versions, commit, date and load, by field."""
    gib = _memory_gib()
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{_cpu_name()}, {os.cpu_count()} logical cores",
        "ram": "unknown" if gib is None else f"{gib:.1f} GiB",
        "python": platform.python_version(),
        "versions": (
            f"numpy {np.__version__}, scipy {scipy.__version__}, "
            f"scikit-learn {sklearn.__version__}, sk_adagrad "
            f"{sk_adagrad.__version__} (commit {_commit()})"
        ),
        "load": f"load average (1, 5, 15 min) at start: {load_average()}",
    }


def format_header(info: dict[str, str]) -> str:
    """The machine header printed above a table, from :func:`machine_info`."""
    return "\n".join(
        [
            f"Date: {info['date']}",
            f"CPU: {info['cpu']}; RAM: {info['ram']}",
            f"Python {info['python']}; {info['versions']}",
            info["load"].capitalize(),
        ]
    )
