"""A one-line description of the hardware a run used."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch


def cpu_model() -> str:
    """The CPU model name (from /proc/cpuinfo where available)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def describe_hardware(device: str) -> str:
    """E.g. ``'CPU: 2 cores (torch threads 2), AMD EPYC …'`` or ``'CUDA: NVIDIA H200'``."""
    if device.startswith("cuda") and torch.cuda.is_available():
        return f"CUDA: {torch.cuda.get_device_name(torch.device(device))}"
    return f"CPU: {os.cpu_count()} cores (torch threads {torch.get_num_threads()}), {cpu_model()}"
