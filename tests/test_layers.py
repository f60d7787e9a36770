"""Layers import downward only: publish.py → scheduler/ → reports/ → channels/ → newsroom/.

(scheduler/ sits above reports/: the service runs the engagement pull, and scheduler/project.py
assembles every layer's schemas and checks.)"""
import ast

import pytest

from conftest import ROOT

FORBIDDEN = {
    "newsroom": {"channels", "scheduler", "reports", "publish"},
    "channels": {"scheduler", "reports", "publish"},
    "scheduler": {"publish"},
    "reports": {"scheduler", "publish"},
}


def imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_upward_imports(package):
    wrong = [f"{path.relative_to(ROOT)}:{line}: imports {name}"
             for path in sorted((ROOT / package).rglob("*.py"))
             for line, name in imports(path) if name in FORBIDDEN[package]]
    assert wrong == []
