"""``check`` on 1,000 and 10,000 generated items beside its floor, whole processes: the floor is a
fresh interpreter reading every item and parsing its front matter with PyYAML's C loader, nothing
else; ``check`` is ``python publish.py check``, the command a user runs, cold (no ``.cache/``) and
warm (caches filled). Goals (issue 21): cold at most 2x and warm at most 1.5x the floor's CPU, and at
most 250 MB of peak memory on 10,000 items.

    python bench/check.py [--sizes 1000,10000] [--repeat 3]

Figures are each child's CPU seconds (user + system, from ``wait4``), wall seconds and peak resident
memory, the best of the interleaved repetitions (floor, cold, warm, floor, …); ratios compare
figures measured in the same run (the bests, then the range pair by pair: ``bench/peers.py``'s
``pairwise``), and the machine's load average is printed with them.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

from bench.corpus import discard, generate, settle_note  # noqa: E402


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


def main(argv=None) -> list[dict]:
    from bench.peers import child_env, compile_code, load, measure, pairwise

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--corpus", default=str(HERE / ".corpus"))
    args = ap.parse_args(argv)
    compile_code()
    if note := settle_note():
        print(note, flush=True)
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        root = Path(args.corpus) / str(n)
        if not (root / "publish.yml").exists() or sum(1 for _ in (root / "content").rglob("*.md")) != n:
            generate(root, n)
        floor_cmd = [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); from pathlib import Path; "
                                           f"from bench.check import floor; floor(Path({str(root)!r}))"]
        check_cmd = [sys.executable, str(ROOT / "publish.py"), "--root", str(root), "check"]
        measure(check_cmd, env=child_env())  # the page cache warm, and the caches filled
        runs: dict[str, list] = {}
        for _ in range(args.repeat):
            runs.setdefault("floor (read + C YAML)", []).append(measure(floor_cmd, env=child_env()))
            discard(root / ".cache")
            runs.setdefault("check, cold (no .cache)", []).append(measure(check_cmd, env=child_env()))
            runs.setdefault("check, warm (caches filled)", []).append(measure(check_cmd, env=child_env()))
        best = {name: min(figs, key=lambda f: f.cpu) for name, figs in runs.items()}
        print(f"\n== check, {n} items (three channels each) — {load()}")
        for name, fig in best.items():
            print(f"  {name:<28} {fig}")
        base = best["floor (read + C YAML)"].cpu
        cold, warm = best["check, cold (no .cache)"], best["check, warm (caches filled)"]
        floors = runs["floor (read + C YAML)"]
        noise_cold = pairwise(runs["check, cold (no .cache)"], floors)
        noise_warm = pairwise(runs["check, warm (caches filled)"], floors)
        print(f"  check cold ÷ floor: {cold.cpu / base:5.2f}x CPU{noise_cold} (goal <= 2x)")
        print(f"  check warm ÷ floor: {warm.cpu / base:5.2f}x CPU{noise_warm} (goal <= 1.5x)")
        peak = max(cold.peak_mb, warm.peak_mb)
        print(f"  check peak memory: {peak:.0f} MB (goal < 250 MB)", flush=True)
        results.append({"items": n, "floor_cpu_s": round(base, 3), "cold_cpu_s": round(cold.cpu, 3),
                        "warm_cpu_s": round(warm.cpu, 3), "peak_mb": round(peak, 1)})
    return results


if __name__ == "__main__":
    main()
