"""``check`` on 1,000 and 10,000 generated items beside its floor: reading the files and parsing
their front matter with PyYAML's C loader, nothing else. Goals: at most 1.5x the floor, and at most
250 MB of peak memory on 10,000 items.

    python bench/check.py [--sizes 1000,10000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import generate  # noqa: E402


def floor(root: Path) -> int:
    """Read every item and parse its front matter with the C loader: the least any check must do."""
    import yaml

    loader = yaml.CSafeLoader
    n = 0
    for dirpath, _, names in os.walk(root / "content"):
        for name in names:
            if name.endswith(".md"):
                text = open(os.path.join(dirpath, name), "rb").read().decode("utf-8")
                end = text.find("\n---", 3)
                yaml.load(text[4:end], Loader=loader)
                n += 1
    return n


def check(root: Path) -> int:
    """What ``publish.py check`` does, in process: load, validate, calendar rules, rendering limits."""
    from scheduler.project import check as check_project, load_project

    project = load_project(root)
    check_project(project)
    return len(project.items)


def check_cold(root: Path) -> int:
    """``check`` with no cache at all (items, rendering): what a fresh CI checkout pays."""
    shutil.rmtree(root / ".cache", ignore_errors=True)
    return check(root)


def load_only(root: Path) -> int:
    """Loading and validating items and settings, nothing cached: the foundation's share of check."""
    from scheduler.project import load_project

    shutil.rmtree(root / ".cache", ignore_errors=True)
    return len(load_project(root).items)


def best(fn, root: Path, repeat: int) -> tuple[float, float]:
    """Best (wall, CPU) seconds of ``repeat`` runs. Ratios use CPU time: it is what the code costs,
    and it holds still when other work shares the machine."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn(root)
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return min(walls), min(cpus)


def peak_memory_mb(root: Path) -> float:
    """Peak RSS of a fresh process that runs check on ``root``."""
    code = ("import sys; sys.path.insert(0, %r); from bench.check import check; from bench.memory import peak_mb; "
            "check(__import__('pathlib').Path(%r)); print(peak_mb())") % (str(ROOT), str(root))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--corpus", default=str(HERE / ".corpus"))
    args = ap.parse_args(argv)
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        root = Path(args.corpus) / str(n)
        if not (root / "publish.yml").exists() or len(list((root / "content").rglob("*.md"))) != n:
            generate(root, n)
        check(root)  # warm the page cache and imports
        w_floor, t_floor = best(floor, root, args.repeat)
        print(f"{n:>6} items: floor (read + C-loader YAML) {t_floor:7.3f} s CPU ({w_floor:.3f} s wall)")
        figures = {}
        for label, fn in (("load + validate, cold", load_only), ("check, cold (no .cache)", check_cold),
                          ("check, caches filled", check)):
            wall, cpu = best(fn, root, args.repeat)
            figures[label] = cpu
            print(f"{n:>6} items: {label:27s} {cpu:7.3f} s CPU ({wall:.3f} s wall)   "
                  f"ratio {cpu / t_floor:4.2f}x (goal <= 1.5x)")
        mem = peak_memory_mb(root)
        print(f"{n:>6} items: peak memory of check {mem:6.1f} MB (goal <= 250 MB)")
        results.append({"items": n, "floor_cpu_s": round(t_floor, 3), "peak_mb": round(mem, 1),
                        **{label: round(cpu, 3) for label, cpu in figures.items()}})
    return results


if __name__ == "__main__":
    main()
