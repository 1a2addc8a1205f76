"""Plots and the HTML report of a run. Renders what the task computed; computes nothing itself.

forecast.py, classify.py and explain.py render their task's part; experiments.py the learning
curves. This file holds what they share.

Files: <run>/plots/*.png and <run>/report.html (self-contained but for the PNGs beside it).
"""

from __future__ import annotations

import html
import pathlib

import matplotlib

matplotlib.use("Agg")  # no screen: render to files
import matplotlib.pyplot as plt

from ..runs import atomic_write


def _save(fig, path: pathlib.Path, tight: bool = True) -> str:
    """tight=False for figures laid out by hand: the tight bounding box draws the figure twice."""
    path.parent.mkdir(parents=True, exist_ok=True)
    box = "tight" if tight else None
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches=box, format="png"))
    plt.close(fig)
    return f"plots/{path.name}"


def _page(title: str, body: str) -> str:
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}
img{{max-width:100%}} code{{font-size:90%}}</style></head><body>
<h1>{html.escape(title)}</h1>{body}</body></html>"""


# The renderers, one module per task; imported last, as they use the helpers above.
from .classify import classify_report  # noqa: E402
from .experiments import experiment_plot  # noqa: E402
from .explain import explain_section  # noqa: E402
from .forecast import forecast_report  # noqa: E402

__all__ = ["classify_report", "experiment_plot", "explain_section", "forecast_report"]
