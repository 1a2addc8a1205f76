"""One process's share of a long table: whole series, so that every per-series step (the grid,
gaps, a series' scaler, its lag design) runs where its rows are, and the shares' sizes even.

    assign(counts, parts)       series -> share: the longest series first, each to the share with
                                the fewest rows so far (every process computes the same from the
                                same counts)
    read_shard(source, ...)     the rows of one share: a Parquet file or dataset read with a
                                filter on the series column (only those row groups and
                                partitions), a CSV read in blocks keeping only its series; the
                                series column is read first, alone, to count the rows

NeuralForecast asks for one parquet file per process; here any long table works, and a Parquet
dataset partitioned by series (`series=A/part-0.parquet`) is read partition by partition.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd

from ..config import LstmkitError, SettingError, cut
from .io import data_file, text_options

__all__ = ["assign", "read_shard", "series_counts"]

CSV_BLOCK = 500_000  # rows per block of a sharded CSV read: the share alone is ever held whole


def assign(counts: dict[str, int], parts: int) -> dict[str, int]:
    """Each series' share, balancing rows: longest first, to the lightest share (ties: lower)."""
    load = [0] * parts
    out = {}
    for name in sorted(counts, key=lambda k: (-counts[k], k)):
        part = int(np.argmin(load))
        out[name] = part
        load[part] += counts[name]
    return out


def _path(source) -> pathlib.Path:
    path = pathlib.Path(source)
    if path.is_dir() and any(path.rglob("*.parquet")):
        return path  # a Parquet dataset (partitioned or not)
    return data_file(source)


def _is_parquet(path: pathlib.Path) -> bool:
    return path.is_dir() or path.name.lower().endswith((".parquet", ".pq"))


def series_counts(source, series: str, read_options: dict | None = None) -> dict[str, int]:
    """Rows per series (the series' names as text), reading the series column alone."""
    if isinstance(source, pd.DataFrame):
        column = _column(source, series)
    else:
        path = _path(source)
        options = None if _is_parquet(path) else _text(path, read_options)
        try:
            if options is None:
                column = pd.read_parquet(path, columns=[series])[series]
            else:
                column = pd.read_csv(path, usecols=[series], dtype={series: str}, **options)[series]
        except (ValueError, KeyError) as err:
            if series not in _columns_of(path):
                raise SettingError("series", f"no column {cut(series)!r} in {path}") from None
            raise LstmkitError(f"--data: could not read {path}: {cut(str(err))}") from None
        except OSError as err:
            raise LstmkitError(f"--data: could not read {path}: {err}") from None
    if column.isna().any():
        row = int(column.isna().to_numpy().argmax())
        raise SettingError("series", f"column {series!r} is empty in row {row}")
    return {str(k): int(v) for k, v in column.astype(str).value_counts(sort=False).items()}


def _columns_of(path: pathlib.Path) -> list[str]:
    try:
        if _is_parquet(path):
            import pyarrow.parquet as pq

            return list(
                pq.read_schema(
                    next(iter(sorted(path.rglob("*.parquet")))) if path.is_dir() else path
                ).names
            )
        return list(pd.read_csv(path, nrows=0, **_text(path, None)).columns)
    except Exception:
        return []


def _text(path: pathlib.Path, read_options: dict | None) -> dict:
    """read_csv's options for `path` (data.io.text_options, then the data set's own)."""
    options = text_options(path.name)
    if options is None:
        raise LstmkitError(f"--data: {path} is not .csv, .csv.gz, .tsv or .parquet")
    return {**options, **(read_options or {})}


def _column(df: pd.DataFrame, series: str) -> pd.Series:
    if series not in df.columns:
        raise SettingError("series", f"no column {cut(series)!r}")
    return df[series]


def read_shard(
    source, series: str | None, part: int, parts: int, read_options: dict | None = None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The rows of share `part` of `parts`, and every series' share. Needs a series column with
    at least `parts` series: data-parallel training splits by series."""
    if not series:
        raise SettingError(
            "series",
            f"training in {parts} processes shares out whole series; name the series column "
            "(one series trains in one process)",
        )
    counts = series_counts(source, series, read_options)
    if len(counts) < parts:
        raise SettingError(
            "nproc",
            f"{parts} processes but the data hold {len(counts)} series; each process needs at "
            f"least one (use at most {len(counts)})",
        )
    shares = assign(counts, parts)
    mine = sorted(k for k, v in shares.items() if v == part)
    if isinstance(source, pd.DataFrame):
        return source[source[series].astype(str).isin(mine)].copy(), shares
    path = _path(source)
    try:
        if _is_parquet(path):
            df = _parquet_share(path, series, mine)
        else:
            df = _csv_share(path, series, set(mine), read_options)
    except (ValueError, OSError, EOFError, pd.errors.ParserError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise LstmkitError(f"--data: could not read {path}: {cut(first)}") from None
    if df.empty:
        raise LstmkitError(f"--data: {path}: share {part} of {parts} holds no rows")
    return df, shares


def _parquet_share(path: pathlib.Path, series: str, mine: list[str]) -> pd.DataFrame:
    import pyarrow.dataset as ds

    dataset = ds.dataset(path, format="parquet", partitioning="hive" if path.is_dir() else None)
    field = ds.field(series)
    kind = dataset.schema.field(series).type
    # the filter in the column's own type (a partition key of digits reads as integers)
    values = [_as(kind, v) for v in mine]
    return dataset.to_table(filter=field.isin(values)).to_pandas()


def _as(kind, value: str):
    import pyarrow as pa

    if pa.types.is_integer(kind):
        return int(value)
    if pa.types.is_floating(kind):
        return float(value)
    return value


def _csv_share(path, series: str, mine: set, read_options: dict | None) -> pd.DataFrame:
    blocks = []
    options = _text(path, read_options)
    with pd.read_csv(path, chunksize=CSV_BLOCK, dtype={series: str}, **options) as reader:
        for block in reader:
            blocks.append(block[block[series].isin(mine)])
    return pd.concat(blocks, ignore_index=True)
