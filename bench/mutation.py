"""Mutation testing of one module that decides what goes out and when: the score and the survivors.

    python bench/mutation.py scheduler/due.py [--jobs 1] [--json]
    python bench/mutation.py --list

Two kinds of mutants, both run against the tests listed for the module under ``[tool.mutation.modules]``
in pyproject.toml (a targeted subset, so one module takes minutes, not an hour):

- mutmut's, inside functions and methods (operators, comparisons, numbers, strings, arguments);
  mutmut 3 does not mutate code outside functions.
- this script's own, for what mutmut leaves alone and the rules live in: module- and class-level
  constants (numbers, strings, tuples such as X's weight ranges) and the regular expressions compiled
  from them (a quantifier or anchor dropped, a digit moved by one, ``\\d`` turned into ``\\D``).

Everything runs in a scratch copy under ``.cache/mutation/``; the working tree is never touched.
Survivors named under ``[[tool.mutation.excluded]]`` (by a ``change`` the mutant's new line contains,
or a ``pattern`` it matches) are listed apart with the reason and left out of the score: a message
nobody reads, or a mutant that cannot change behaviour.
Not part of CI: run it before calling a change to one of these modules done (docs/testing.md).
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# mutmut's own reading of a mutant's exit code (mutmut/stats.py status_by_exit_code)
KILLED = {1: "killed", 3: "killed", 0: "survived", 36: "timeout", 24: "timeout", -24: "timeout",
          152: "timeout", 255: "timeout", 37: "killed"}


@dataclass
class Mutant:
    name: str
    status: str  # killed, survived, timeout, excluded, no tests, ...
    change: str = ""  # the changed line(s), for people
    why: str = ""  # for excluded mutants


@dataclass
class Report:
    module: str
    tests: list[str]
    seconds: float = 0.0
    mutants: list[Mutant] = field(default_factory=list)
    stale: list[dict] = field(default_factory=list)  # exclusions that matched no survivor

    def count(self, *statuses: str) -> int:
        return sum(m.status in statuses for m in self.mutants)

    @property
    def score(self) -> float:
        counted = len(self.mutants) - self.count("excluded")
        return 100.0 * self.count("killed", "timeout") / counted if counted else 100.0


def config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]


def module_config(module: str) -> dict:
    modules = config()["mutation"]["modules"]
    if module not in modules:
        raise SystemExit(f"error: {module} has no [tool.mutation.modules] entry; one of: {', '.join(modules)}")
    return modules[module]


# -- the scratch copy -------------------------------------------------------------------------------
def scratch_copy(module: str) -> Path:
    where = ROOT / ".cache" / "mutation" / module.replace("/", "-").removesuffix(".py")
    if where.exists():
        shutil.rmtree(where)
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           check=True, capture_output=True).stdout.decode().split("\0")
    for name in files:
        src = ROOT / name
        if name and src.is_file():
            (where / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, where / name)
    return where


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    return "[" + ", ".join(toml_value(v) for v in value) + "]"


def write_mutmut_config(where: Path, module: str, tests: list[str]) -> None:
    """The scratch pyproject's [tool.mutmut]: this module only, its tests only."""
    settings = dict(config().get("mutmut", {}))
    settings["only_mutate"] = [module]
    settings["pytest_add_cli_args_test_selection"] = tests
    block = "[tool.mutmut]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in settings.items())
    text = (where / "pyproject.toml").read_text("utf-8")
    text = re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[|\Z)", lambda m: block + "\n", text)
    (where / "pyproject.toml").write_text(text, "utf-8")


# -- mutmut's mutants -------------------------------------------------------------------------------
def patterns(module: str, functions: list[str] | None) -> list[str]:
    """mutmut names a mutant ``pkg.mod.x_func__mutmut_3`` or ``pkg.mod.xǁClassǁmethod__mutmut_3``."""
    dotted = module.removesuffix(".py").replace("/", ".")
    if not functions:
        return [f"{dotted}.*"]
    out = []
    for f in functions:
        cls, _, name = f.rpartition(".")
        out.append(f"{dotted}.xǁ{cls}ǁ{name}__mutmut_*" if cls else f"{dotted}.x_{name}__mutmut_*")
    return out


def run_mutmut(where: Path, module: str, functions: list[str] | None, jobs: int, log) -> list[Mutant]:
    import fnmatch

    wanted = patterns(module, functions)
    cmd = [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs), *(wanted if functions else [])]
    proc = subprocess.run(cmd, cwd=where, stdout=log, stderr=subprocess.STDOUT)
    meta = where / "mutants" / (module + ".meta")
    if proc.returncode != 0 or not meta.exists():
        raise SystemExit(f"error: mutmut failed (exit {proc.returncode}); see {log.name}")
    codes = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
    out = []
    for name, code in sorted(codes.items(), key=lambda kv: natural(kv[0])):
        if not any(fnmatch.fnmatch(name, p) for p in wanted):
            continue
        status = KILLED.get(code, "not checked" if code is None else "suspicious")
        change = ""
        if status != "killed":
            shown = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=where,
                                   capture_output=True, text=True).stdout
            change = "\n".join(line for line in shown.splitlines()
                               if line[:1] in "+-" and not line.startswith(("+++", "---")))
        out.append(Mutant(name, status, change))
    return out


def import_time_functions(where: Path, module: str) -> set[str]:
    """Qualified names of the module's functions that run while it is imported (tables built once)."""
    probe = (
        "import json, sys\n"
        f"target = {str((where / module).resolve())!r}\n"
        "names = set()\n"
        "def profile(frame, event, arg):\n"
        "    if event == 'call' and frame.f_code.co_filename == target:\n"
        "        names.add(frame.f_code.co_qualname)\n"
        "sys.setprofile(profile)\n"
        f"import {module.removesuffix('.py').replace('/', '.')}\n"
        "sys.setprofile(None)\n"
        "print(json.dumps(sorted(names)))\n")
    got = subprocess.run([sys.executable, "-c", probe], cwd=where, capture_output=True, text=True, check=True)
    return set(json.loads(got.stdout.strip().splitlines()[-1]))


def qualname(mutant: str) -> str:
    """``pkg.mod.x_func__mutmut_3`` -> ``func``; ``pkg.mod.xǁClassǁmethod__mutmut_3`` -> ``Class.method``."""
    head = mutant.rsplit("__mutmut_", 1)[0].rsplit(".", 1)[-1]
    if head.startswith("xǁ"):
        return ".".join(head[2:].split("ǁ"))
    return head[2:]


def recheck_fresh(where: Path, module: str, tests: list[str], mutants: list[Mutant], log) -> None:
    """mutmut forks each mutant's test run from a process that imported the module already, so a
    function that runs at import time (a table of rules built once) keeps its original result there.
    Its survivors are applied to the source and run again in a fresh process."""
    at_import = import_time_functions(where, module)
    path = where / module
    source = path.read_text("utf-8")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        for m in mutants:
            if m.status != "survived" or qualname(m.name) not in at_import:
                continue
            subprocess.run([sys.executable, "-m", "mutmut", "apply", m.name], cwd=where, check=True,
                           stdout=log, stderr=subprocess.STDOUT)
            code = subprocess.run(pytest_cmd(tests), cwd=where, stdout=log, stderr=subprocess.STDOUT,
                                  env=env).returncode
            if code != 0:
                m.status, m.why = "killed", "in a fresh process (the function runs at import time)"
            path.write_text(source, "utf-8")
    finally:
        path.write_text(source, "utf-8")


def natural(name: str):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


# -- constant mutants (outside functions) -----------------------------------------------------------
def regex_variants(pattern: str) -> list[str]:
    """A regular expression with one small change each: a quantifier, anchor or class negation dropped,
    a digit moved by one, a shorthand class turned into its complement."""
    out, in_class, i = [], False, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            nxt = pattern[i + 1:i + 2]
            if nxt and nxt in "dswDSW":
                out.append(pattern[:i + 1] + nxt.swapcase() + pattern[i + 2:])
            i += 2
            continue
        drop = (not in_class and (c in "*+$" or c == "^" or (c == "?" and pattern[i - 1:i] != "(")))
        drop = drop or (in_class and c == "^" and pattern[i - 1:i] == "[")
        if drop:
            out.append(pattern[:i] + pattern[i + 1:])
        if c.isdigit():
            for d in {(int(c) + 1) % 10, (int(c) - 1) % 10}:
                out.append(pattern[:i] + str(d) + pattern[i + 1:])
        if c == "[" and not in_class:
            in_class = True
        elif c == "]" and in_class and pattern[i - 1:i] != "[":
            in_class = False
        i += 1
    return list(dict.fromkeys(v for v in out if v != pattern))


def _compiles(pattern: str) -> bool:
    import regex

    try:
        regex.compile(pattern)
        return True
    except Exception:  # noqa: BLE001 - an invalid variant is no mutant
        return False


class _Constants(ast.NodeVisitor):
    """Constants outside function bodies, with the name of the assignment they belong to."""

    def __init__(self, names: list[str] | None):
        self.names, self.found, self.owner, self.regex = names, [], None, set()

    def visit_FunctionDef(self, node):  # mutmut's ground
        return

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        for stmt in node.body:
            self.visit_stmt(stmt, node.name + ".")

    def visit_Module(self, node):
        for stmt in node.body:
            self.visit_stmt(stmt, "")

    def visit_stmt(self, stmt, prefix):
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            return  # a docstring
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            return
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            owner = prefix + (names[0] if names else "?")
            if self.names is not None and owner not in self.names:
                return
            self.owner = owner
            if stmt.value is not None:
                self.visit(stmt.value)
            return
        self.visit(stmt)

    def visit_Call(self, node):
        if isinstance(node.func, ast.Attribute) and node.func.attr == "compile" and node.args:
            if isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                self.regex.add(id(node.args[0]))
        self.generic_visit(node)

    def visit_Constant(self, node):
        if self.owner is not None and node.value is not None and node.value is not Ellipsis:
            self.found.append((self.owner, node))


def constant_mutants(source: str, names: list[str] | None):
    """(label, mutated source) for every constant mutant of ``source``."""
    tree = ast.parse(source)
    finder = _Constants(names)
    finder.visit(tree)
    for owner, node in finder.found:
        original = node.value
        if isinstance(original, bool):
            variants = [not original]
        elif isinstance(original, (int, float)):
            variants = [original + 1, original - 1]
        elif isinstance(original, str) and id(node) in finder.regex:
            variants = [v for v in regex_variants(original) if _compiles(v)]
        elif isinstance(original, str):
            variants = ["XX" + original + "XX"]
        else:
            continue
        for variant in variants:
            node.value = variant
            yield f"{owner}: {original!r} -> {variant!r} (line {node.lineno})", ast.unparse(tree)
        node.value = original


def pytest_cmd(tests: list[str]) -> list[str]:
    return [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
            "-p", "no:randomly", *tests]


def run_constants(where: Path, module: str, tests: list[str], names: list[str] | None, log) -> list[Mutant]:
    path = where / module
    source = path.read_text("utf-8")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    out = []
    try:
        # the unparsed module, unchanged, must pass: otherwise every constant mutant would look killed
        path.write_text(ast.unparse(ast.parse(source)), "utf-8")
        if subprocess.run(pytest_cmd(tests), cwd=where, stdout=log, stderr=subprocess.STDOUT, env=env).returncode:
            raise SystemExit(f"error: the tests fail on {module} as it is; see {log.name}")
        for i, (label, mutated) in enumerate(constant_mutants(source, names), 1):
            path.write_text(mutated, "utf-8")
            try:
                code = subprocess.run(pytest_cmd(tests), cwd=where, stdout=log, stderr=subprocess.STDOUT,
                                      env=env, timeout=300).returncode
                status = "survived" if code == 0 else "killed"
            except subprocess.TimeoutExpired:
                status = "timeout"
            out.append(Mutant(f"constant_{i}", status, label))
    finally:
        path.write_text(source, "utf-8")
    return out


# -- exclusions and the report ----------------------------------------------------------------------
def apply_exclusions(module: str, mutants: list[Mutant]) -> list[dict]:
    """Mark excluded survivors; the rules that matched none are returned (stale: remove them)."""
    rules = [r for r in config()["mutation"].get("excluded", []) if r["module"] == module]
    used = set()
    for m in mutants:
        if m.status in ("killed", "timeout"):
            continue
        added = " ".join(line[1:] for line in m.change.splitlines() if line.startswith("+")) or m.change
        for rule in rules:
            if ("change" in rule and rule["change"] in added) or ("pattern" in rule and re.search(rule["pattern"], added)):
                m.status, m.why = "excluded", rule["why"]
                used.add(id(rule))
                break
    return [r for r in rules if id(r) not in used]


def measure(module: str, jobs: int, constants: bool, keep: bool) -> Report:
    cfg = module_config(module)
    report = Report(module, cfg["tests"])
    started = time.monotonic()
    where = scratch_copy(module)
    write_mutmut_config(where, module, cfg["tests"])
    with open(where / "mutation.log", "w") as log:
        print(f"{module}: mutmut against {' '.join(cfg['tests'])} ...", file=sys.stderr, flush=True)
        report.mutants += run_mutmut(where, module, cfg.get("functions"), jobs, log)
        recheck_fresh(where, module, cfg["tests"], report.mutants, log)
        if constants:
            print(f"{module}: constants outside functions ...", file=sys.stderr, flush=True)
            report.mutants += run_constants(where, module, cfg["tests"], cfg.get("constants"), log)
    report.stale = apply_exclusions(module, report.mutants)
    report.seconds = time.monotonic() - started
    if not keep:
        shutil.rmtree(where, ignore_errors=True)
    return report


def show(report: Report) -> None:
    kinds = {"mutmut": [m for m in report.mutants if not m.name.startswith("constant_")],
             "constants": [m for m in report.mutants if m.name.startswith("constant_")]}
    print(f"{report.module}  (tests: {' '.join(report.tests)}; {report.seconds:.0f} s)")
    for kind, ms in kinds.items():
        if ms:
            tally = {s: sum(m.status == s for m in ms) for s in dict.fromkeys(m.status for m in ms)}
            print(f"  {kind:<9} {len(ms):>4} mutants: " + ", ".join(f"{n} {s}" for s, n in tally.items()))
    counted = len(report.mutants) - report.count("excluded")
    print(f"  score     {report.count('killed', 'timeout')}/{counted} killed = {report.score:.1f} %"
          f"  ({report.count('excluded')} excluded)")
    for title, status in (("surviving", None), ("excluded", "excluded")):
        chosen = [m for m in report.mutants if (m.status == status if status else
                                               m.status not in ("killed", "timeout", "excluded"))]
        if chosen:
            print(f"  {title}:")
        for m in chosen:
            print(f"    {m.name} [{m.status}]" + (f"  ({m.why})" if m.why else ""))
            for line in m.change.splitlines():
                print(f"        {line.strip()}")
    for rule in report.stale:
        print(f"  stale exclusion (matched no survivor): {rule.get('change') or rule.get('pattern')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module", nargs="?", help="e.g. scheduler/due.py")
    parser.add_argument("--list", action="store_true", help="the modules configured, with their tests")
    parser.add_argument("--jobs", type=int, default=1, help="mutmut's worker processes (default 1)")
    parser.add_argument("--no-constants", action="store_true", help="mutmut's mutants only")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy and its log")
    parser.add_argument("--json", action="store_true", help="the report as JSON")
    args = parser.parse_args(argv)
    if args.list or not args.module:
        for module, cfg in config()["mutation"]["modules"].items():
            print(f"{module}: {' '.join(cfg['tests'])}")
        return 0
    report = measure(args.module, args.jobs, not args.no_constants, args.keep)
    if args.json:
        print(json.dumps({**asdict(report), "score": round(report.score, 1)}, indent=2, ensure_ascii=False))
    else:
        show(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
