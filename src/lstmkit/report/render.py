"""What every part of the report shares: a figure saved as a PNG beside report.html, and the page
around the sections."""

from __future__ import annotations

import html
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
