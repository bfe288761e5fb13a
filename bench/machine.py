"""What else the machine was doing during a benchmark: figures from a shared 2-core machine
mean little without the load they were measured under."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_STAT = Path("/proc/stat")


@dataclass(frozen=True)
class CpuTimes:
    """Aggregate CPU jiffies from /proc/stat's first line (zeros where it does not exist)."""

    busy: int = 0
    idle: int = 0
    steal: int = 0
    load: float = float("nan")  # 1-minute load average when sampled

    @classmethod
    def now(cls) -> CpuTimes:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        try:
            fields = [int(v) for v in _STAT.read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError):
            return cls(load=load)
        # user nice system idle iowait irq softirq steal guest guest_nice; guest time is
        # already counted in user.
        idle = fields[3] + fields[4]
        steal = fields[7] if len(fields) > 7 else 0
        return cls(busy=sum(fields[:8]) - idle - steal, idle=idle, steal=steal, load=load)


def describe(before: CpuTimes, after: CpuTimes) -> str:
    """One line: cores, load average, and how busy the CPUs were between two samples."""
    cores = os.cpu_count() or 1
    loads = f"load average {before.load:.2f} before, {after.load:.2f} after"
    busy, idle, steal = (after.busy - before.busy, after.idle - before.idle,
                         after.steal - before.steal)
    total = busy + idle + steal
    if total <= 0:
        return f"machine: {cores} cores, {loads}"
    return (f"machine: {cores} cores, {loads}; during the run the CPUs were "
            f"{100 * busy / total:.0f}% busy, {100 * steal / total:.0f}% stolen by the host")


def peak_rss_mb(pid: int | str = "self") -> float:
    """VmHWM of a process: its own peak resident memory. Unlike the ru_maxrss that wait4
    reports for a child, it does not start from the parent's size at the fork (Linux keeps
    the larger of the two across exec)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes `pids` have used so far (those still running;
    their children's time is not counted)."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is field 3
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _CLOCK_TICKS


def postgres_pids() -> list[int]:
    """The local PostgreSQL server's processes (postmaster, backends, background workers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids
