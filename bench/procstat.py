"""Memory and CPU time of a process, read from /proc (Linux, as the benchmarks' machine)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Memory(BaseModel):
    rss_bytes: int
    peak_rss_bytes: int


def process_memory(pid: int) -> Memory:
    """Resident set size now and at its peak (VmRSS and VmHWM)."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in {"VmRSS", "VmHWM"}:
            fields[name] = int(value.split()[0]) * 1024  # reported in kB
    return Memory(rss_bytes=fields["VmRSS"], peak_rss_bytes=fields["VmHWM"])


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far (its threads included)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name may hold spaces; the fields after its closing parenthesis do not.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class CpuMeter:
    """CPU seconds each named process uses between `start` and `stop`."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self._start: dict[str, float] = {}

    def start(self) -> CpuMeter:
        self._start = {name: cpu_seconds(pid) for name, pid in self._pids.items()}
        return self

    def stop(self) -> dict[str, float]:
        return {
            name: round(cpu_seconds(pid) - self._start[name], 2) for name, pid in self._pids.items()
        }


def mib(value: int) -> float:
    return round(value / 2**20, 1)
