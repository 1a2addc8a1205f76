"""Plots and the HTML report of a run. Renders what the task computed; computes nothing itself.

forecast.py, classify.py and explain.py render their task's part; experiments.py the learning
curves. render.py holds what they share.

Files: <run>/plots/*.png and <run>/report.html (self-contained but for the PNGs beside it).
"""

from __future__ import annotations

from .classify import classify_report
from .experiments import experiment_plot
from .explain import explain_section
from .forecast import forecast_report

__all__ = ["classify_report", "experiment_plot", "explain_section", "forecast_report"]
