"""`lstmkit serve`: saved forecast runs behind HTTP (FastAPI on uvicorn; extra `lstmkit[serve]`).

    POST /{run}/predict   {"rows": [...]}: forecasts from these rows as the whole history (what
                          `lstmkit predict --data` gives); no rows: from the stored state
    POST /{run}/update    {"rows": [...]}: advance the stored state by new rows, then forecast
                          the series they moved (what `lstmkit predict --state S --data NEW`
                          gives for them)
    GET  /{run}/model     the run's settings, what fit resolved and its test metrics
    GET  /health          ok, and the runs served
    GET  /docs, /openapi.json

With one run, /predict, /update and /model answer for it as well. A row names the run's own
columns (time, target, series, covariates); each bad field is its own entry of an HTTP 422
answer (FastAPI's format: loc, msg), as is a row an update cannot take (older than the series'
last observation, say), with its message. Updates of one run are serialised by a lock, and the
state file is rewritten atomically after each: a killed server loses no acknowledged update.
"""

import math
import pathlib
import re
import threading
from typing import Any

import numpy as np
import pandas as pd

from .config import LstmkitError

# a time without a UTC offset, as NumPy reads it exactly as pandas does
_PLAIN_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?$")

__all__ = ["INLINE_ROWS", "Served", "app_of"]

INLINE_ROWS = 16  # an update of at most this many rows runs on the event loop (below)


class Served:
    """One run being served: the forecaster, its stream, where the stream is kept, and a lock."""

    def __init__(self, run_dir, state_dir):
        from .forecast.estimator import Forecaster
        from .forecast.stream import Stream
        from .runs import read_run_config

        self.run_dir = pathlib.Path(run_dir)
        if read_run_config(self.run_dir)["task"] != "forecast":
            raise LstmkitError(f"--run: {run_dir} is not a forecast run; serve takes forecasts")
        self.name = self.run_dir.resolve().name
        self.fc = Forecaster.load(self.run_dir)
        self.state_path = pathlib.Path(state_dir) / f"{self.name}.safetensors"
        if self.state_path.exists():
            self.fc.stream = Stream.load(self.state_path, self.fc)
        elif self.fc.stream is None:
            raise LstmkitError(f"--run: {run_dir}: cannot stream ({self.fc.stream_refused})")
        self.lock = threading.Lock()
        d = self.fc.config.data
        self.columns = {"time": d.time, "target": d.target, "series": d.series}
        self.covariates = list(self.fc.state.past_covariates)

    def frame(self, rows: list[dict]) -> pd.DataFrame:
        """The rows as a table; plain ISO times (no UTC offset) parsed here by NumPy (pandas'
        guessing of a format was a tenth of a one-row update), anything else left to
        data.io.read_times, which converts offsets to UTC and says so."""
        columns = {c: [r[c] for r in rows] for c in rows[0]} if rows else {}
        time = self.columns["time"]
        values = columns.get(time, [])
        if values and all(isinstance(v, str) and _PLAIN_ISO.match(v) for v in values):
            columns[time] = np.array(values, dtype="datetime64[ns]")
        return pd.DataFrame(columns)

    def predict(self, rows: list[dict]) -> dict:
        if not rows:
            with self.lock:
                return {"forecasts": self.fc.stream.records(self.fc), "report": {}}
        fc = self.fc
        out = fc.predict(self.frame(rows))
        return _answer(out, fc.predict_report)

    def update(self, rows: list[dict]) -> dict:
        with self.lock:
            stream = self.fc.stream
            # all or nothing (stream.py), the file included: an update the file does not hold
            # is not acknowledged, so not kept, and memory stays what the file holds
            report = stream.update(
                self.fc, self.frame(rows), keep=lambda: stream.save(self.state_path, self.fc)
            )
            return {  # the series this update moved (POST /predict {} gives every series)
                "forecasts": stream.records(self.fc, report["series"]),
                "report": {k: _plain(v) for k, v in report.items()},
            }

    def card(self) -> dict:
        from .runs import read_json

        config = read_json(self.run_dir / "config.json")
        metrics = self.fc.metrics or {}
        return {
            "name": self.name,
            "config": config.get("config"),
            "lstmkit": config.get("lstmkit"),
            "columns": self.columns | {"past_covariates": self.covariates},
            "freq": self.fc.state.freq,
            "horizon": self.fc.config.model.horizon,
            "quantiles": self.fc.config.model.levels,
            "series": len(self.fc.stream.series),
            "metrics": {"test": metrics.get("test"), "chosen": metrics.get("chosen")},
        }


def _answer(frame, report: dict) -> dict:
    """Forecast rows as JSON: times as ISO text, numbers as numbers."""
    columns = {}
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_datetime64_any_dtype(values):
            columns[name] = [t.isoformat() for t in values]
        elif pd.api.types.is_float_dtype(values):
            columns[name] = [v if math.isfinite(v) else None for v in values.tolist()]
        else:
            columns[name] = values.tolist()
    records = [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]
    return {"forecasts": records, "report": {k: _plain(v) for k, v in report.items()}}


def _plain(v):
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _row_model(served: Served):
    """The pydantic model of one row of this run: its own column names, typed."""
    from pydantic import ConfigDict, Field, create_model

    fields: dict[str, Any] = {
        served.columns["time"]: (str | float, Field(description="ISO time or Unix epoch number")),
        served.columns["target"]: (float, Field(allow_inf_nan=False)),
    }
    if served.columns["series"]:
        fields[served.columns["series"]] = (str, Field(min_length=1, max_length=200))
    for c in served.covariates:
        fields[c] = (float, Field(allow_inf_nan=False))
    name = "".join(ch for ch in served.name.title() if ch.isalnum()) or "Run"
    return create_model(f"{name}Row", __config__=ConfigDict(extra="forbid"), **fields)


def app_of(served: list[Served]):
    """The FastAPI application over these runs."""
    from fastapi import FastAPI, HTTPException
    from fastapi.concurrency import run_in_threadpool
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel, Field, create_model

    from ._version import __version__

    app = FastAPI(
        title="lstmkit serve",
        version=__version__,
        description="Forecasts of saved lstmkit runs: predict from rows, advance a stored state.",
    )
    names = [s.name for s in served]

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc):
        # each bad field once, without the input it held: a NaN there cannot be written as JSON
        # (FastAPI's own answer then fails with a 500), and a large body should not come back
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return JSONResponse(status_code=422, content={"detail": detail})

    class Health(BaseModel):
        status: str
        runs: list[str]

    @app.get("/health", response_model=Health)
    def health():
        return {"status": "ok", "runs": names}

    def routes(s: Served, prefix: str) -> None:
        Row = _row_model(s)
        Body = create_model(
            f"{Row.__name__}s", rows=(list[Row], Field(default_factory=list, max_length=1_000_000))
        )

        def rows_of(body) -> list[dict]:
            return [r.model_dump() for r in body.rows]

        async def call(method, body):
            rows = rows_of(body)
            try:
                quick = 0 < len(rows) <= INLINE_ROWS if method == s.update else not rows
                if quick:
                    # a few rows (a live feed) or the stored forecast: a millisecond or two of
                    # work, done here; handing it to a thread cost more than it took
                    return method(rows)
                return await run_in_threadpool(method, rows)
            except LstmkitError as err:  # a row the forecaster cannot take: which, and why
                raise HTTPException(422, [{"loc": ["body", "rows"], "msg": str(err)}]) from None
            except OSError as err:  # the state file could not be written: the update is undone
                where = f"{err.filename}: " if err.filename else ""
                raise HTTPException(503, f"{where}{err.strerror or err}") from None

        @app.post(f"{prefix}/predict", name=f"predict {s.name}" + " (default)" * (not prefix))
        async def predict(body: Body):  # type: ignore[valid-type]
            return await call(s.predict, body)

        @app.post(f"{prefix}/update", name=f"update {s.name}" + " (default)" * (not prefix))
        async def update(body: Body):  # type: ignore[valid-type]
            return await call(s.update, body)

        @app.get(f"{prefix}/model", name=f"model {s.name}" + " (default)" * (not prefix))
        def model():
            return s.card()

    for s in served:
        routes(s, f"/{s.name}")
    if len(served) == 1:
        routes(served[0], "")
    return app
