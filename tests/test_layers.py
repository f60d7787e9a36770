"""Layers import downward only: publish.py → scheduler/ → reports/ → channels/ → newsroom/.

(scheduler/ sits above reports/: the service runs the engagement pull, and scheduler/project.py
assembles every layer's schemas and checks.) Imports inside functions count like any other, and
no modules import each other in a loop, not even through an import hidden in a function."""
import ast
from pathlib import Path

import pytest

from conftest import ROOT

FORBIDDEN = {
    "newsroom": {"channels", "scheduler", "reports", "publish"},
    "channels": {"scheduler", "reports", "publish"},
    "scheduler": {"publish"},
    "reports": {"scheduler", "publish"},
}
PACKAGES = sorted(FORBIDDEN)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path):
    """(line, absolute module name) of every import in the file, relative ones resolved; a name
    imported from a package counts as its submodule when there is one."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    type_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                 and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING") for n in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            for alias in node.names:  # a submodule when there is one (from . import due), else the module
                sub = f"{module}.{alias.name}"
                yield node.lineno, sub if (ROOT / sub.replace(".", "/")).with_suffix(".py").exists() \
                    or (ROOT / sub.replace(".", "/") / "__init__.py").exists() else module


def sources():
    return [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))] + [ROOT / "publish.py"]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_upward_imports(package):
    wrong = [f"{path.relative_to(ROOT)}:{line}: imports {name}"
             for path in sorted((ROOT / package).rglob("*.py"))
             for line, name in imported(path) if name.split(".")[0] in FORBIDDEN[package]]
    assert wrong == []


def test_no_modules_import_each_other_in_a_loop():
    modules = {module_name(p): p for p in sources()}
    graph = {m: sorted({n for _, n in imported(p) if n in modules and n != m}) for m, p in modules.items()}
    # Tarjan's strongly connected components: any with more than one module is a loop.
    index, low, stack, on, loops, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                loops.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert loops == []


def test_benchmarks_run_commands_as_processes_and_import_no_command_line_code():
    wrong = [f"{path.relative_to(ROOT)}:{line}: imports {name}"
             for path in sorted((ROOT / "bench").glob("*.py"))
             for line, name in imported(path) if name.split(".")[0] == "publish"]
    assert wrong == []
