"""The package's layers import only downward, and the two math files never meet."""

from __future__ import annotations

import ast
import pathlib

import pytest

SRC = pathlib.Path(__file__).resolve().parent.parent / "src" / "lstmkit"
# DESIGN.md: config < {reference, cells, data} < layers < {models, runs, evaluate} < train
#            < {attribution (explain.py in DESIGN.md), export} < report < {tasks, experiments} < cli
LEVEL = {"config": 0, "reference": 1, "cells": 1, "data": 1, "layers": 2, "models": 3, "runs": 3, "evaluate": 3,
         "optim": 3, "statistical": 3, "train": 4, "bench": 5, "attribution": 5, "export": 5, "report": 6,
         "tasks": 7, "experiments": 7, "cli": 8}  # fmt: skip


def lstmkit_imports(path: pathlib.Path) -> set[str]:
    """Top-level lstmkit modules (or subpackages) that `path` imports; a subpackage's imports of
    its own siblings do not count."""
    depth = len(path.relative_to(SRC).parts) - 1  # 0 for lstmkit/x.py, 1 for lstmkit/data/x.py
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level >= 1:
            if node.level <= depth:
                continue  # a sibling inside the same subpackage
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lstmkit."):
            found.add(node.module.split(".")[1])
    return found


MODULES = sorted(p for p in SRC.rglob("*.py") if p.name != "__init__.py" or p.parent != SRC)


def level_of(path: pathlib.Path) -> tuple[str, int]:
    top = path.relative_to(SRC).parts[0].removesuffix(".py")
    return top, LEVEL[top]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_only_go_down(path):
    top, level = level_of(path)
    for name in lstmkit_imports(path):
        if name == "__version__":
            continue
        where = path.relative_to(SRC)
        assert LEVEL[name] < level or name == top, f"{where} imports {name} (level {LEVEL[name]} >= {level})"


def test_reference_and_cells_are_independent():
    assert "cells" not in lstmkit_imports(SRC / "reference.py")
    assert "reference" not in lstmkit_imports(SRC / "cells.py")
    tree = ast.parse((SRC / "reference.py").read_text())
    modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "torch" not in modules  # the reference is NumPy only
