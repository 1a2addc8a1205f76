"""Keep the line links in docs/math.md pointing at their equations.

A link looks like  [L122](../src/lstmkit/reference.py#L122 "lstm_step (5)"): the title names
the function or class and the equation tag. This tool finds, inside that symbol, the first line
whose comment carries the tag, and rewrites the number.

    python tools/mathlinks.py          # rewrite docs/math.md in place
    python tools/mathlinks.py --check  # exit 1 if any link is stale (run by the tests)
"""

from __future__ import annotations

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "math.md"
LINK = re.compile(r'\[L(\d+)\]\(\.\./src/lstmkit/(\w+)\.py#L(\d+) "(\w+) \(([^)]+)\)"\)')


def locate(module: str, symbol: str, tag: str) -> int:
    lines = (ROOT / "src" / "lstmkit" / f"{module}.py").read_text().splitlines()
    start = next(
        (k for k, line in enumerate(lines) if re.match(rf"(def|class) {symbol}\b", line.strip())),
        None,
    )
    if start is None:
        raise SystemExit(f"mathlinks: {module}.py has no def/class {symbol}")
    for k in range(start + 1, len(lines)):
        if re.match(r"(def|class) ", lines[k]):  # the next top-level symbol: not found
            break
        if f"# ({tag})" in lines[k] or f"# ({tag}," in lines[k]:
            return k + 1
    raise SystemExit(f"mathlinks: no line tagged ({tag}) in {module}.py:{symbol}")


def fix(text: str) -> str:
    def repl(m):
        module, symbol, tag = m.group(2), m.group(4), m.group(5)
        n = locate(module, symbol, tag)
        return f'[L{n}](../src/lstmkit/{module}.py#L{n} "{symbol} ({tag})")'

    return LINK.sub(repl, text)


def main(argv: list[str]) -> int:
    text = DOC.read_text()
    fixed = fix(text)
    if "--check" in argv:
        if fixed != text:
            print(
                "docs/math.md: stale line links; run `python tools/mathlinks.py`", file=sys.stderr
            )
            return 1
        return 0
    DOC.write_text(fixed)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
