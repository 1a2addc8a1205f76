"""docs/math.md points at the lines that compute each equation, and the README's promises hold."""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_math_links_point_at_their_equations():
    tool = ROOT / "tools" / "mathlinks.py"
    result = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_math_doc_covers_every_cell():
    text = (ROOT / "docs" / "math.md").read_text()
    from lstmkit import CELLS

    for name, cls in CELLS.items():
        assert f"`{name}`" in text or cls.__name__ in text, name
    assert text.count("](../src/lstmkit/") > 60


def test_readme_quickstart_is_two_commands():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quickstart")[1].split("```")[1]
    commands = [line.split("#")[0].strip() for line in block.splitlines()[1:] if line.strip()]
    assert commands == ["make demo", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()
