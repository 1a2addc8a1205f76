"""Code lines per module; fails when one passes the hard budget (STYLE.md, principle 15).

    python tools/sz.py
Counts lines that hold code (not blank, not a comment). Soft limit 400, hard limit 600.
"""

from __future__ import annotations

import pathlib
import sys

SOFT, HARD = 400, 600
ROOT = pathlib.Path(__file__).resolve().parent.parent / "src" / "lstmkit"


def code_lines(path: pathlib.Path) -> int:
    return sum(
        1
        for line in path.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    )


def main() -> int:
    rows = sorted(
        ((code_lines(p), p.relative_to(ROOT.parent)) for p in ROOT.rglob("*.py")), reverse=True
    )
    over = [(n, p) for n, p in rows if n > HARD]
    for n, p in rows:
        flag = "  OVER HARD LIMIT" if n > HARD else "  over soft limit" if n > SOFT else ""
        print(f"{n:6d}  {p}{flag}")
    print(f"{sum(n for n, _ in rows):6d}  total")
    if over:
        print(
            f"sz: {len(over)} module(s) over {HARD} code lines; split along a seam", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
