"""Work spread over forked worker processes, when there is enough of it to pay for them.

Rendering thousands of posts (a cold ``publish`` delivering them, a cold ``check`` looking for
their problems) is most of what those commands cost, and each post is independent. Forked workers
share the loaded project (no second load) and hand back their results pickled.

Workers are used only where ``fork`` is (Linux; not macOS's or Windows' default) and the process
has no other thread (``serve`` and ``studio`` run their work in threads: forking there is not
safe), for at least ``MIN_JOBS`` jobs, as many as there are cores (at most ``MAX_WORKERS``), and
only when the jobs are many for the memory the process holds (``pays``): forking write-protects
every page of it, and the process then takes a fault on each page it writes again, for as long as
it goes on. At 10,000 items of the benchmark's corpus (1,455 posts, 240 MB) two workers took
0.3-0.45 s more CPU and gave no wall time back over six interleaved pairs; at 5,000 items of the
same corpus with every item approved (1,930 posts, 164 MB), they gave back 0.2 s of 2.7.
``NEWSROOM_RENDER_WORKERS=1`` turns them off; another number asks for that many whenever there are
at least as many jobs.
"""
from __future__ import annotations

import gc
import os
import threading
from typing import Callable, Mapping, Sequence

from .gcpause import is_one_shot

#: below this many jobs, forking and pickling cost more than they save
MIN_JOBS = 200
MAX_WORKERS = 8
#: jobs done in the other processes it takes to pay for each MB this process holds (``pays``)
JOBS_A_MB = 4.0

_WORK: tuple | None = None  # (function, jobs) for the forked workers, set only while a pool lives


def workers(count: int, env: Mapping[str, str], resident_mb: float | None = None) -> int:
    """How many worker processes to do ``count`` jobs with (1: in this process). ``resident_mb``: the
    memory this process holds (default: read from the system), which forking makes costly."""
    setting = str(env.get("NEWSROOM_RENDER_WORKERS") or "").strip()
    explicit = setting.isdigit()
    if explicit:
        wanted, least = int(setting), int(setting)
    else:
        wanted, least = min(os.cpu_count() or 1, MAX_WORKERS), MIN_JOBS
    if wanted <= 1 or count < max(least, 2) or threading.active_count() > 1:
        return 1
    import multiprocessing  # here: most commands do a few jobs, or none, in this process

    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    n = min(wanted, count)
    if not explicit and not pays(count, n, resident() if resident_mb is None else resident_mb):
        return 1
    return n


def pays(count: int, n: int, resident_mb: float) -> bool:
    """Whether doing ``count`` jobs in ``n`` processes gives back more time than forking costs: the
    jobs the others take off this one, ``count * (1 - 1/n)``, against ``JOBS_A_MB`` for each MB this
    process holds, every page of which it then writes again at a fault each (see the module's notes)."""
    return count * (1 - 1 / n) >= JOBS_A_MB * resident_mb


def resident() -> float:
    """This process's resident memory in MB (Linux's /proc; elsewhere its peak, as the system keeps it)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1 << 20)
    except (OSError, ValueError, IndexError):
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux, bytes on macOS
        return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def fork_map(function: Callable, jobs: Sequence, n: int, *,
             progress: Callable[[int], None] | None = None) -> list:
    """``[function(job) for job in jobs]``, in ``n`` forked processes (``workers`` says how many) that
    share this process's memory; ``function`` and the jobs are not pickled, only what it returns.
    ``progress(done)`` hears how many jobs are done, as chunks of them come back in order."""
    global _WORK
    _WORK = (function, jobs)
    # What this process holds, out of the collector's sight while the workers live: a collection in a
    # worker would otherwise walk (and so copy, page by page) every object it shares with this process.
    # A one-shot process (the command line) keeps it frozen, as it keeps what it loads frozen anyway
    # (newsroom/gcpause.py); another gives the collector back what it froze here.
    gc.freeze()
    try:
        size = -(-len(jobs) // (n * 4))  # a few chunks per worker, so a slow one does not hold the rest
        chunks = [range(i, min(i + size, len(jobs))) for i in range(0, len(jobs), size)]
        import multiprocessing

        pool = multiprocessing.get_context("fork").Pool(n)
        try:
            parts, done = [], 0
            for part in pool.imap(_chunk, chunks):
                parts.append(part)
                done += len(part)
                if progress is not None:
                    progress(done)
        finally:
            pool.close()
            pool.join()
    finally:
        if not is_one_shot():
            gc.unfreeze()
        _WORK = None
    return [result for part in parts for result in part]


def _chunk(indices: range) -> list:
    function, jobs = _WORK
    return [function(jobs[i]) for i in indices]
