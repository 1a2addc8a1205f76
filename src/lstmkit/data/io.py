"""Tables in, validated regular series out: every check a one-line error naming the column.

`prepare` turns a long table (time, target, [series], covariates...) into `Segment`s on a
regular time grid. Short gaps are interpolated and counted; a gap longer than `max_gap` splits
the series into segments (each forecast on its own history), so nothing is silently invented.
"""

from __future__ import annotations

import math
import os
import pathlib
import stat
import warnings
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..config import LstmkitError, SettingError, cut

__all__ = [
    "Prepared",
    "Segment",
    "column_span",
    "default_season",
    "infer_freq",
    "prepare",
    "read_table",
]

# The largest magnitude a value may have: its square stays finite in float32 (3.4e38), so the
# scaler's variance, the network (float32) and the squared loss never overflow.
MAX_ABS = 1e18

CALENDAR_COLUMNS = {"year", "month", "day", "hour", "minute", "weekday", "dayofweek"}


@dataclass
class Segment:
    series: str  # the series id, "#k" appended where a long gap split it
    times: pd.DatetimeIndex  # regular, no gaps
    target: np.ndarray  # (T,)
    past: np.ndarray  # (T, P) past covariates
    filled: int = 0  # target values interpolated


def series_id(segment_name: str) -> str:
    """The series a segment belongs to: its name without the "#k" a long gap appended."""
    head, sep, tail = segment_name.rpartition("#")
    return head if sep and tail.isdigit() else segment_name


@dataclass
class Prepared:
    segments: list[Segment]
    freq: str
    past_covariates: list[str]
    report: dict = field(default_factory=dict)  # what was filled, split, dropped, and why


def column_span(names: list) -> str:
    """Column names in a line: all of a few, the first three and the last of many."""
    names = [cut(c, 40) for c in names]
    return (
        ", ".join(names)
        if len(names) <= 6
        else f"{', '.join(names[:3])}, ..., {names[-1]} ({len(names)} columns)"
    )


def text_options(name: str) -> dict | None:
    """pandas.read_csv's options for a delimited text file by its name (.csv, .txt, .tsv, each
    optionally .gz: values exactly as written); None for any other name."""
    name = name.lower()
    if name.endswith((".csv", ".csv.gz", ".txt", ".txt.gz")):
        return {"float_precision": "round_trip"}
    if name.endswith((".tsv", ".tsv.gz")):
        return {"sep": "\t", "float_precision": "round_trip"}
    return None


def read_table(source, read_options: dict | None = None, where: str = "--data") -> pd.DataFrame:
    """A DataFrame from a DataFrame, a CSV (optionally .gz), a TSV or a Parquet file."""
    if isinstance(source, pd.DataFrame):
        if source.empty:
            raise LstmkitError(f"{where}: the DataFrame has no rows")
        return source.copy()
    path = data_file(source, where)
    name = path.name.lower()
    df = None
    try:
        if name.endswith((".parquet", ".pq")):
            df = pd.read_parquet(path)
        elif text_options(name) is not None:
            df = pd.read_csv(path, **{**text_options(name), **(read_options or {})})
    except pd.errors.EmptyDataError:  # not even a header
        raise LstmkitError(f"{where}: {path} is empty") from None
    except (ValueError, OSError, EOFError, zlib.error, pd.errors.ParserError) as err:
        # EOFError: a truncated .gz (click would print only "Aborted!")
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise LstmkitError(f"{where}: could not read {path}: {first}") from None
    if df is None:
        raise LstmkitError(f"{where}: {path} is not .csv, .csv.gz, .tsv or .parquet")
    if df.empty:  # a header alone: every later step would fail somewhere less clear
        raise LstmkitError(
            f"{where}: {path} has no rows (columns: {column_span(list(df.columns)) or 'none'})"
        )
    return df


def data_file(source, where: str = "--data") -> pathlib.Path:
    """`source` as the path of a regular file, else a one-line error: a FIFO would block the
    reader forever, /dev/zero never ends, and a folder is no table."""
    path = pathlib.Path(source)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise LstmkitError(f"{where}: file not found: {cut(str(path))}") from None
    except OSError as err:
        raise LstmkitError(f"{where}: {cut(str(path))}: cannot be read ({err.strerror})") from None
    if not stat.S_ISREG(mode):
        what = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise LstmkitError(f"{where}: {cut(str(path))} is {what}; expected a data file")
    return path


def _need(df: pd.DataFrame, column: str | None, setting: str) -> None:
    """The column a setting names must be there (SettingError: the command line says its option)."""
    if column is not None and column not in df.columns:
        available = column_span(list(df.columns))
        raise SettingError(setting, f"no column {cut(column)!r}; available: {available}")


def infer_freq(times: pd.DatetimeIndex) -> str:
    """pandas' own inference on a clean stretch, else the most common step."""
    unique = times.unique().sort_values()
    if len(unique) < 3:
        raise SettingError(
            "time", f"need at least 3 distinct times to infer a frequency, got {len(unique)}"
        )
    with warnings.catch_warnings():  # pandas 3 announces a return-type change; we normalise below
        warnings.simplefilter("ignore")
        guess = pd.infer_freq(unique[: min(len(unique), 500)])
    if guess:
        return pd.tseries.frequencies.to_offset(guess).freqstr
    # np.diff of datetime64 keeps the unit (pandas 3 stores microseconds, not nanoseconds).
    steps = pd.Series(np.diff(unique.values)).mode()
    return pd.tseries.frequencies.to_offset(pd.Timedelta(steps.iloc[0])).freqstr


def default_season(freq: str) -> int:
    """24 for hourly, 7 for daily, 5 for business days, 12 for monthly, ...: one natural cycle in
    steps."""
    offset = pd.tseries.frequencies.to_offset(freq)
    o = pd.offsets
    if isinstance(offset, o.MonthBegin | o.MonthEnd | o.BusinessMonthBegin | o.BusinessMonthEnd):
        return 12
    if isinstance(offset, o.QuarterBegin | o.QuarterEnd | o.BQuarterBegin | o.BQuarterEnd):
        return 4
    if isinstance(offset, o.Week):
        return 52
    if isinstance(offset, o.BusinessDay | o.CustomBusinessDay):
        return 5  # a trading or working week
    try:
        step = pd.Timedelta(offset)
    except ValueError:
        return 1
    if step < pd.Timedelta("1D"):
        return max(1, int(pd.Timedelta("1D") / step))
    return 7 if step == pd.Timedelta("1D") else 1


def default_max_gap(freq: str) -> int:
    """Interpolate up to six hours of sub-daily data, or three steps of anything coarser."""
    try:
        step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    except ValueError:
        return 3
    return max(1, int(pd.Timedelta("6h") / step)) if step < pd.Timedelta("6h") else 3


def _fixed_step(freq: str):
    try:
        return pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    except ValueError:  # months, quarters, years: no fixed length
        return None


def _numeric(df: pd.DataFrame, column: str, setting: str) -> pd.Series:
    values = pd.to_numeric(df[column], errors="coerce")
    bad = values.isna() & df[column].notna()
    if bad.any():
        row = bad.idxmax()
        raise SettingError(
            setting, f"column {column!r} must be numeric; row {row} holds {df[column][row]!r}"
        )
    infinite = np.isinf(values.to_numpy(float))
    if infinite.any():  # would reach training as a NaN loss, blamed on the learning rate
        row = values.index[int(np.argmax(infinite))]
        raise SettingError(
            setting, f"column {column!r} must be finite; row {row} holds {values[row]}"
        )
    huge = np.abs(values.to_numpy(float)) > MAX_ABS
    if huge.any():  # finite, but its square overflows: a NaN loss or scale, far from here
        row = values.index[int(np.argmax(huge))]
        raise SettingError(setting, too_large(column, row, values[row]))
    return values.astype(float)


def too_large(column, row, value) -> str:
    return (
        f"column {column!r} row {row} holds {value:.6g}; values beyond +-{MAX_ABS:.0e} overflow "
        "float32 training or the squared loss (rescale the column)"
    )


def _auto_covariates(df, used, report) -> list[str]:
    chosen, skipped = [], {}
    for col in df.columns:
        if col in used:
            continue
        if str(col).lower() in CALENDAR_COLUMNS:
            skipped[col] = "calendar field: derived from the time column instead"
        elif not pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col]):
            skipped[col] = "not numeric"
        elif df[col].isna().mean() > 0.05:
            skipped[col] = f"{df[col].isna().mean():.0%} missing"
        elif np.isinf(df[col].to_numpy(float)).any():
            skipped[col] = "infinite values"
        else:
            chosen.append(col)
    report["covariates_skipped"] = skipped
    return chosen


# Unix-epoch numbers by magnitude: today is 1.7e9 s, 1.7e12 ms, 1.7e15 us, 1.7e18 ns
EPOCH_UNITS = (("s", 1e11), ("ms", 1e14), ("us", 1e17), ("ns", math.inf))


def read_times(column: pd.Series, name: str, unit: str, report: dict) -> pd.Series:
    """A time column as naive datetimes. Numbers are Unix-epoch times (pandas alone reads them
    as nanoseconds: hourly epoch seconds became a 3600ns grid); times with several UTC offsets
    (a daylight-saving change) are converted to UTC, and the report says so."""
    try:
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            if unit == "auto":
                largest = float(np.nanmax(np.abs(column.to_numpy(float)), initial=0.0))
                unit = next(u for u, below in EPOCH_UNITS if largest < below)
            report["time_unit"] = unit
            return pd.to_datetime(column, unit=unit)
        with warnings.catch_warnings():  # pandas 2 warns and returns objects, pandas 3 raises
            warnings.simplefilter("ignore", FutureWarning)
            try:
                times = pd.to_datetime(column)
            except ValueError as err:
                if "utc=True" not in str(err) and "Mixed timezones" not in str(err):
                    raise
                times = None
        if times is None or times.dtype == object:  # several offsets: one clock, UTC
            report["times_converted_to_utc"] = True
            return pd.to_datetime(column, utc=True).dt.tz_convert(None)
        return times
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime) as err:
        raise SettingError(
            "time", f"column {cut(name)!r} is not a time: {cut(str(err).splitlines()[0])}"
        ) from None


def prepare(
    df: pd.DataFrame,
    time: str,
    target: str,
    series: str | None = None,
    past_covariates: list[str] | str | None = "auto",
    freq: str | None = None,
    fill: str = "interpolate",
    max_gap: int | None = None,
    duplicates: str = "error",
    time_unit: str = "auto",
) -> Prepared:
    """Validate and regularise a long table; see the module docstring."""
    if fill not in ("interpolate", "none"):
        raise SettingError("fill", f"expected 'interpolate' or 'none', got {fill!r}")
    for column, setting in ((time, "time"), (target, "target"), (series, "series")):
        _need(df, column, setting)
    report: dict = {"rows": len(df)}
    used = {time, target} | ({series} if series else set())
    if past_covariates == "auto":
        covs = _auto_covariates(df, used, report)
    else:
        covs = list(past_covariates or [])
        for c in covs:
            _need(df, c, "past_covariates")
    times = read_times(df[time], time, time_unit, report)
    # one frame from all columns at once: adding them one by one copies the frame each time,
    # which made 10^4 columns take minutes
    columns = {"__t": times, "__y": _numeric(df, target, "target")}
    columns.update({c: _numeric(df, c, "past_covariates") for c in covs})
    values = pd.DataFrame(columns)
    if series and df[series].isna().any():  # astype(str) would make a series called "nan" of it
        row = df[series].isna().to_numpy().argmax()
        raise SettingError("series", f"column {series!r} is empty in row {df.index[row]}")
    values["__s"] = df[series].astype(str) if series else "series"
    if values["__t"].isna().any():
        row = values["__t"].isna().idxmax()
        raise SettingError("time", f"column {time!r} is empty in row {row}")
    dup = values.duplicated(["__s", "__t"])
    if dup.any() and duplicates == "mean":
        report["duplicates_averaged"] = int(dup.sum())
    elif dup.any():
        row = values[dup].iloc[0]
        where = f" in series {row['__s']!r}" if series else ""
        raise SettingError(
            "time",
            f"duplicate timestamp {row['__t']}{where}; each time must appear once per series "
            "(duplicates 'mean' averages the rows)",
        )
    freq = freq or infer_freq(pd.DatetimeIndex(values["__t"]))
    max_gap = default_max_gap(freq) if max_gap is None else max_gap
    step = _fixed_step(freq)
    if step is not None:  # irregular stamps (a sensor 1 minute early) go to the nearest grid point
        snapped = values["__t"].dt.round(step)
        report["snapped_to_grid"] = int((snapped != values["__t"]).sum())
        values["__t"] = snapped
    merged = values.groupby(["__s", "__t"], as_index=False).mean(numeric_only=True)
    report["merged_on_grid"] = len(values) - len(merged)
    values = merged
    segments, filled_total, splits, empty = [], 0, 0, []
    for sid, group in values.groupby("__s", sort=True):
        if group["__y"].isna().all():  # nothing to learn from or score: left out, and said so
            empty.append(str(sid))
            continue
        group = group.set_index("__t").sort_index()
        grid = pd.date_range(group.index[0], group.index[-1], freq=freq)
        if len(grid) < len(group) or not group.index.isin(grid).all():
            off = group.index[~group.index.isin(grid)][0]
            raise SettingError(
                "freq", f"series {sid!r} has times off the {freq!r} grid (e.g. {off}); set the step"
            )
        group = group.reindex(grid)
        missing = group["__y"].isna().to_numpy()
        if missing.any() and fill == "none":
            first = grid[missing.argmax()]
            n = int(missing.sum())
            raise SettingError(
                "fill",
                f"none, but series {sid!r} has {n} missing step(s) on the {freq!r} grid, first at "
                f"{first}; 'interpolate' fills short gaps",
            )
        # Runs of missing targets: short ones are interpolated, long ones cut the series.
        run_id = np.cumsum(~missing)
        run_len = pd.Series(missing).groupby(run_id).transform("sum").to_numpy()
        long_gap = missing & (run_len > max_gap)
        piece = np.cumsum(np.diff(np.concatenate([[0], long_gap.astype(int)])) == 1)
        parts = list(pd.Series(np.arange(len(grid))).groupby(piece))
        kept = 0
        for _, idx in parts:
            idx = idx.to_numpy()
            idx = idx[~long_gap[idx]]
            if len(idx) == 0:
                continue
            part = group.iloc[idx][["__y", *covs]].interpolate(limit_direction="both")
            filled = int(missing[idx].sum())
            filled_total += filled
            name = sid if len(parts) == 1 else f"{sid}#{kept}"
            past = part[covs].to_numpy(dtype=float) if covs else np.zeros((len(part), 0))
            if np.isnan(past).any():  # a covariate empty throughout the piece
                past = np.nan_to_num(past)
            segments.append(
                Segment(name, part.index, part["__y"].to_numpy(dtype=float), past, filled)
            )
            kept += 1
        splits += max(0, kept - 1)
    if not segments:
        raise SettingError(
            "target", f"column {target!r} has no values" + (" in any series" if series else "")
        )
    report.update(
        freq=freq,
        max_gap=max_gap,
        filled=filled_total,
        long_gap_splits=splits,
        series=sorted({series_id(s.series) for s in segments}),
        segments=len(segments),
        series_without_target=empty,
    )
    return Prepared(segments, freq, covs, report)
