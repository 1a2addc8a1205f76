"""What every part of the report shares: a figure saved as a PNG beside report.html, and the page
composed of sections.

A report is a list of named sections, kept in report.json beside report.html: a task writes its
own (write_report); a later command adds or replaces one by name (add_section: `lstmkit explain`'s
"explain", placed before "settings"), and the page is rendered again from the list."""

from __future__ import annotations

import html
import json
import pathlib

import matplotlib

matplotlib.use("Agg")  # no screen: render to files
import matplotlib.pyplot as plt

from ..runs import atomic_write


def save_figure(fig, path: pathlib.Path, tight: bool = True) -> str:
    """tight=False for figures laid out by hand: the tight bounding box draws the figure twice."""
    path.parent.mkdir(parents=True, exist_ok=True)
    box = "tight" if tight else None
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches=box, format="png"))
    plt.close(fig)
    return f"plots/{path.name}"


def page(title: str, body: str) -> str:
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}
img{{max-width:100%}} code{{font-size:90%}}</style></head><body>
<h1>{html.escape(title)}</h1>{body}</body></html>"""


def write_report(folder, title: str, sections: list[tuple[str, str]]) -> pathlib.Path:
    """report.html from (id, HTML) sections in order; report.json keeps them for add_section."""
    folder = pathlib.Path(folder)
    saved = {"title": title, "sections": [list(s) for s in sections]}
    atomic_write(
        folder / "report.json", lambda tmp: pathlib.Path(tmp).write_text(json.dumps(saved))
    )
    body = "".join(f"<section id='{name}'>{content}</section>" for name, content in sections)
    path = folder / "report.html"
    atomic_write(path, lambda tmp: pathlib.Path(tmp).write_text(page(title, body)))
    return path


def add_section(folder, name: str, content: str, before: str = "settings") -> pathlib.Path:
    """The section `name` of a run's report, replaced where it is, else added before `before` (at
    the end where there is none). A report written before report.json existed becomes one section,
    "earlier", holding its old body."""
    folder = pathlib.Path(folder)
    saved = _saved(folder)
    sections = [s for s in saved["sections"] if s[0] != name]
    at = next((k for k, s in enumerate(saved["sections"]) if s[0] == name), None)
    if at is None:
        at = next((k for k, s in enumerate(sections) if s[0] == before), len(sections))
    sections.insert(at, [name, content])
    return write_report(folder, saved["title"], [tuple(s) for s in sections])


def _saved(folder: pathlib.Path) -> dict:
    if (folder / "report.json").is_file():
        return json.loads((folder / "report.json").read_text())
    old = (folder / "report.html").read_text() if (folder / "report.html").is_file() else ""
    if not old:
        return {"title": "lstmkit explain", "sections": []}
    # a page from before report.json: its title and body as they were rendered
    title = (
        html.unescape(old.split("<title>", 1)[1].split("</title>", 1)[0])
        if "<title>" in old
        else ""
    )
    body = old.split("</h1>", 1)[-1].rsplit("</body>", 1)[0]
    return {"title": title, "sections": [["earlier", body]]}
