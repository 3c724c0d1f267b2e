"""One line describing the machine and library versions, for benchmark pages."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

import numpy as np
import scipy
import sklearn


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = found.group(1).strip() if found else cpu
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        found = re.search(r"MemTotal:\s+(\d+) kB", meminfo.read_text())
        memory = f", {int(found.group(1)) / 2**20:.0f} GiB RAM" if found else ""
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, "
        f"NumPy {np.__version__}, SciPy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}"
    )
