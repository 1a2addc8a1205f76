"""The `lstmkit` command line: parse, call the library, print. No logic of its own.

One module per family of commands: forecast.py (forecast, predict), classify.py, deploy.py
(export, serve), tools.py (cells,
bench, experiment, datasets); app.py holds the group and what they share.

Bad input ends in one line on stderr and exit code 2, never a traceback.
"""

# The commands register themselves on `main` when their modules load.
from . import classify, deploy, explain, forecast, tools  # noqa: F401
from .app import main

__all__ = ["main"]
