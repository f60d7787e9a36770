"""Several publishers at once, on files and on PostgreSQL (docs/scaling.md).

Entries delivered per second when 1, 2 and 4 ``publish`` processes start together on one project
whose entries are all due, against a loopback channel server (``tests/servers/testchannel.py``, each
post taking ``--latency`` seconds as a platform's API would): whole processes, as CI or ``serve``
machines run them, from their start until the last one exits. The baseline is one process on the
files backend, measured in the same run; every figure is printed with its ratio to it. Then the
report over ``--report-entries`` × 30 snapshots (``bench/report.py``'s corpus) as the user runs it,
``publish report`` in a fresh process, on files and, after ``publish state import``, on PostgreSQL
(where the database merges the rows: ``StateStore.period_metrics``), with its ratio to files and the
check that both printed the same report. The machine's load average is printed beside the figures.
``--processes 0`` measures the report only.

PostgreSQL: the server at ``$DATABASE_URL`` (a fresh database is made in it for each measurement),
or else a throwaway cluster started here with Debian's binaries (as the tests do).

    python bench/scaling.py [--entries 400] [--latency 0.02] [--processes 1,2,4] [--report-entries 10000]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

T = "2026-11-20T09:00:00Z"
SETTINGS = """\
site:
  title: Bench
  url: https://bench.test
timezone: UTC
dependencies:
  live_check: false
calendar:
  severity:  # every entry is due at once on purpose: the calendar's rules would hold them back
    conflict: warning
    max_per_day: warning
channels:
  social:
    type: testchannel
    url: {url}/social
    token: env:TC_TOKEN
    timeout: "10"
{state}"""
POSTGRES = "state:\n  backend: postgres\n  url: env:DATABASE_URL\n"


class Databases:
    """Fresh databases on the server at $DATABASE_URL, or on a throwaway cluster."""

    def __init__(self):
        self.cluster = None
        self.base = os.environ.get("DATABASE_URL")
        self.n = 0
        if not self.base:
            from pgserver import Cluster, find_binaries

            binaries = find_binaries()
            if binaries is None:
                raise SystemExit("no PostgreSQL: set DATABASE_URL or apt-get install postgresql")
            folder = Path(tempfile.mkdtemp(prefix="bench-pg-"))
            self.cluster = Cluster(binaries, folder)
            self.cluster.init()
            self.cluster.start()
            self.base = self.cluster.url()

    def fresh(self) -> str:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        self.n += 1
        name = f"bench_{os.getpid()}_{self.n}"
        with psycopg.connect(self.base, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return make_conninfo(**{**conninfo_to_dict(self.base), "dbname": name})

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.stop("immediate")
            shutil.rmtree(self.cluster.base, ignore_errors=True)


def project(folder: Path, server_url: str, entries: int, postgres: bool) -> None:
    folder.mkdir(parents=True)
    (folder / "publish.yml").write_text(SETTINGS.format(url=server_url, state=POSTGRES if postgres else ""))
    (folder / "templates" / "testchannel").mkdir(parents=True)
    (folder / "templates" / "testchannel" / "post.j2").write_text("{{ title }}\n\n{{ link }}\n")
    (folder / "content").mkdir()
    for k in range(entries):
        (folder / "content" / f"e{k:05d}.md").write_text(
            f"---\ntitle: Entry {k}\nstatus: approved\napproved_by: editor\nauthor: writer\n"
            f"publish_at: 2026-11-20T09:00\nchannels: [social]\n---\nBody {k}.\n")


def publishers(folder: Path, processes: int, env: dict) -> float:
    """Seconds from starting ``processes`` publish processes together until the last one exits."""
    argv = [sys.executable, "-m", "tests.servers.testchannel", "--root", str(folder), "publish", "--now", T]
    start = time.perf_counter()
    procs = [subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(processes)]
    errors = [(lambda out, err: out[-300:] + err)(*p.communicate()) for p in procs]
    took = time.perf_counter() - start
    if any(p.returncode for p in procs):
        raise SystemExit(f"a publisher failed: {[e[-500:] for e in errors]}")
    return took


def report_seconds(folder: Path, env: dict) -> tuple[float, bytes]:
    """Seconds of one ``publish report`` process from its start to its exit, and what it printed."""
    argv = [sys.executable, str(ROOT / "publish.py"), "--root", str(folder), "report", "--since", "2026-10-02",
            "--until", "2026-12-31", "--format", "md"]
    start = time.perf_counter()
    out = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, check=True).stdout
    return time.perf_counter() - start, out


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def main(argv=None) -> dict:
    from servers.testchannel import TOKEN, ChannelServer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=400)
    ap.add_argument("--latency", type=float, default=0.02, help="seconds the server takes per post")
    ap.add_argument("--processes", default="1,2,4")
    ap.add_argument("--report-entries", type=int, default=10_000, help="0: skip the report")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    counts = [int(n) for n in args.processes.split(",") if int(n)]
    dbs = Databases()
    work = Path(tempfile.mkdtemp(prefix="bench-scaling-"))
    env = {**os.environ, "TC_TOKEN": TOKEN, "PYTHONPATH": str(ROOT), "GITHUB_STEP_SUMMARY": "",
           "NEWSROOM_NO_CACHE": ""}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed tool imports its compiled modules, not the sources
    print(f"machine: {load()}")
    results: dict = {"entries": args.entries, "latency": args.latency, "rates": {}}
    try:
        if counts:
            with ChannelServer() as server:
                print(f"publish: {args.entries} due entries, {args.latency * 1000:.0f} ms per post on a loopback "
                      "server, N processes started together (whole processes; best of "
                      f"{args.repeat})")
                baseline = None
                for backend in ("files", "postgres"):
                    for n in counts:
                        best = None
                        for r in range(args.repeat):
                            folder = work / f"{backend}-{n}-{r}"
                            project(folder, server.url, args.entries, backend == "postgres")
                            run_env = dict(env)
                            if backend == "postgres":
                                run_env["DATABASE_URL"] = dbs.fresh()
                                subprocess.run([sys.executable, str(ROOT / "publish.py"), "--root", str(folder),
                                                "state", "migrate"], env=run_env, check=True, stdout=subprocess.DEVNULL)
                            before = len(server.posts)
                            for k in ("social",):
                                server.script(k, *[f"slow:{args.latency}"] * args.entries)
                            took = publishers(folder, n, run_env)
                            sent = len(server.posts) - before
                            if sent != args.entries:
                                raise SystemExit(f"{backend} × {n}: {sent} posts for {args.entries} entries")
                            best = took if best is None else min(best, took)
                        rate = args.entries / best
                        baseline = baseline or rate
                        results["rates"][f"{backend}-{n}"] = round(rate, 1)
                        print(f"  {backend:<8} {n} process{'es' if n > 1 else '  '}  {rate:7.1f} entries/s  "
                              f"({best:.2f} s)   ratio to files × 1: {rate / baseline:.2f}")
        if args.report_entries:
            from bench.report import ensure

            root = HERE / ".corpus" / f"report-{args.report_entries}"
            rows = ensure(root, args.report_entries, 30)
            report_seconds(root, env)  # the item cache and compiled modules, as after any first command
            files_runs = [report_seconds(root, env) for _ in range(args.repeat)]
            files_s = min(t for t, _ in files_runs)
            pg_root = work / "report-pg"
            shutil.copytree(root, pg_root, ignore=shutil.ignore_patterns("state", ".cache"))
            (pg_root / "publish.yml").write_text((pg_root / "publish.yml").read_text() + "\n" + POSTGRES)
            pg_env = {**env, "DATABASE_URL": dbs.fresh()}
            for cmd in (["state", "migrate"], ["state", "import", str(root / "state")]):
                subprocess.run([sys.executable, str(ROOT / "publish.py"), "--root", str(pg_root), *cmd], env=pg_env,
                               check=True, stdout=subprocess.DEVNULL)
            report_seconds(pg_root, pg_env)  # the item cache, as for files
            pg_runs = [report_seconds(pg_root, pg_env) for _ in range(args.repeat)]
            pg_s = min(t for t, _ in pg_runs)
            if pg_runs[0][1] != files_runs[0][1]:
                raise SystemExit("the report on PostgreSQL differs from the report on files")
            results["report"] = {"rows": rows, "files": round(files_s, 3), "postgres": round(pg_s, 3)}
            print(f"report over {args.report_entries:,} entries × 30 snapshots ({rows:,} rows), whole process, "
                  f"best of {args.repeat}")
            print(f"  files     {files_s:.2f} s   (goal 2 s)")
            print(f"  postgres  {pg_s:.2f} s   ratio to files: {pg_s / files_s:.2f}   (the same report, byte for byte)")
            print(f"machine: {load()}")
    finally:
        dbs.close()
        shutil.rmtree(work, ignore_errors=True)
    return results


if __name__ == "__main__":
    main()
