"""The peak memory of the current process, for the benchmarks' child processes.

``resource.getrusage(RUSAGE_SELF).ru_maxrss`` is not it on Linux: a process started by fork and exec
keeps the resident size its parent had at the fork as its own maximum (the kernel carries the old
memory's high-water mark across exec), so a child of a benchmark holding 10,000 items in memory
reports the parent's size. ``VmHWM`` in ``/proc/self/status`` belongs to the process's memory as it
is now; ``ru_maxrss`` is the fallback where there is no /proc.
"""
from __future__ import annotations

import resource


def peak_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
