"""The package's layers import only downward, and the two math files never meet."""

from __future__ import annotations

import ast
import pathlib

import pytest

SRC = pathlib.Path(__file__).resolve().parent.parent / "src" / "lstmkit"
# DESIGN.md, Layout: each level imports only levels below it. linear/ sits above evaluate (its
# logistic and ridge solvers) and runs (its files); explain.py reads runs of both tasks.
LEVEL = {
    "_version": 0,
    "config": 0,
    "distributed": 1,
    "reference": 1,
    "cells": 1,
    "data": 1,
    "layers": 2,
    "models": 3,
    "runs": 3,
    "rundir": 3,
    "evaluate": 3,
    "optim": 3,
    "statistical": 3,
    "linear": 4,
    "checkpoint": 4,
    "train": 5,
    "bench": 5,
    "attribution": 5,
    "export": 5,
    "report": 6,
    "forecast": 7,
    "classify": 7,
    "experiments": 7,
    "explanation": 8,
    "serve": 8,
    "cli": 9,
}
# Inside a sub-package the same rule: a module imports only modules of a lower inner level. A new
# module must be placed here, so that the seams stay visible.
INNER = {
    "forecast": {
        "config": 0,
        "schemes": 1,
        "inputs": 1,
        "intervals": 1,
        "correction": 1,
        "base": 2,
        "scoring": 2,
        "state": 3,
        "predict": 3,
        "graphs": 3,
        "stream": 4,
        "onnx": 5,
        "fitted": 5,
        "estimator": 6,
        "explain": 7,
        "__init__": 8,
    },
    "classify": {
        "config": 0,
        "baselines": 1,
        "examples": 1,
        "inputs": 1,
        "networks": 1,
        "select": 1,
        "state": 2,
        "onnx": 2,
        "estimator": 3,
        "explain": 4,
        "__init__": 5,
    },
    "layers": {"checks": 0, "loop": 0, "recurrent": 1, "step": 1, "interop": 2, "__init__": 3},
    "linear": {"autoregression": 0, "minirocket": 0, "paths": 1, "__init__": 2},
    "report": {
        "render": 0,
        "forecast": 1,
        "classify": 1,
        "explain": 1,
        "experiments": 1,
        "__init__": 2,
    },
    "cli": {
        "options": 0,
        "app": 1,
        "launch": 1,
        "forecast": 2,
        "classify": 2,
        "explain": 2,
        "tools": 2,
        "deploy": 2,
        "__init__": 3,
        "__main__": 4,
    },
}


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


MODULES = sorted(
    p for p in SRC.rglob("*.py") if p.parent != SRC or p.name not in ("__init__.py", "__main__.py")
)


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
        assert LEVEL[name] < level or name == top, (
            f"{where} imports {name} (level {LEVEL[name]} >= {level})"
        )


def test_reference_and_cells_are_independent():
    assert "cells" not in lstmkit_imports(SRC / "reference.py")
    assert "reference" not in lstmkit_imports(SRC / "cells.py")
    tree = ast.parse((SRC / "reference.py").read_text())
    modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "torch" not in modules  # the reference is NumPy only


def sibling_imports(path: pathlib.Path) -> set[str]:
    """Modules of its own sub-package that `path` imports (`from .x import` or `from . import
    x`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found.update(
                [node.module.split(".")[0]] if node.module else [a.name for a in node.names]
            )
    return found


@pytest.mark.parametrize("package", sorted(INNER))
def test_sub_packages_import_only_down_inside(package):
    levels = INNER[package]
    for path in sorted((SRC / package).glob("*.py")):
        name = path.stem
        assert name in levels, (
            f"{package}/{path.name} has no inner level in tests/test_layering.py INNER"
        )
        for sibling in sibling_imports(path):
            if sibling not in levels:
                continue  # a name from __init__ (`from . import main`) is checked by its own module
            where = f"{package}/{path.name}"
            assert levels[sibling] < levels[name], (
                f"{where} imports {sibling} (inner level {levels[sibling]})"
            )
