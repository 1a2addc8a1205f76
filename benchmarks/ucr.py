"""lstmkit classify with its defaults on UCR/UEA data sets it was never tuned on, beside the
published state of the art and MiniRocket measured in the same run.

    python benchmarks/ucr.py                       # every set, official split -> results/ucr.json
    python benchmarks/ucr.py --data GunPoint,ItalyPowerDemand
    python benchmarks/ucr.py --data ECG5000 --resamples 30 --jobs 2 \
        --json benchmarks/results/ucr-ecg5000-30.json

Data: the sets that ship inside aeon (its datasets/data folder, official train/test splits, read
from their .ts files by `lstmkit classify` itself: univariate, multivariate, of varying length) and
ECG5000 (embedded in lstmkit). Resample 0 is the official split; resample r > 0 is aeon's stratified
resample with random_state r (tsml's protocol: train and test pooled, redrawn with the official
sizes and class counts), so a mean over 30 resamples is comparable with the published means.

Reported per set: lstmkit's default model (`SequenceClassifier()`, every setting at its default:
the choice of network / linear path / fusion made on the training data alone), the network alone,
its linear paths (logistic regression on the values; ridge on MiniRocket's features, and on those
of the values and the differences), the majority class; what the model chose; the whole fit's
wall time (1 intra-op thread). Beside them MiniRocket as aeon implements it (MiniRocketClassifier,
the authors' protocol), measured in the same process, and the published accuracies:

    1-NN DTW   UCR archive 2018, DataSummary.csv, "DTW (learned_w)" (1 - its error; Dau et al. 2019)
    ROCKET     angus924/rocket, results/results_ucr.csv (mean of 10 runs on the official split)
    MiniRocket angus924/minirocket, results/accuracy_ucr109_resamples.csv (resample 0: the official
               split) and results/results_ucr109_mean.csv (the mean over 30 resamples)
    LSTM-FCN   titu1994/LSTM-FCN, Results/train_loss_old_datasets.csv (the LSTM-FCN column)
    InceptionTime, HIVE-COTE 2   aeon's copies of tsml's result files:
               aeon/testing/example_results_files/classification/accuracy/{InceptionTime,HC2}_accuracy.csv
               (column 0: the official split; the mean over columns 0-29: 30 resamples)

The published numbers exist for the univariate sets only; for the multivariate ones MiniRocket
measured here is the reference. Targets (issue 22): on every set at least MiniRocket - 0.01, and
the mean over the sets at least MiniRocket's; ECG5000 at least 0.950.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import pathlib
import sys
import time
import warnings

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))

UNIVARIATE = [
    "GunPoint",
    "ItalyPowerDemand",
    "ArrowHead",
    "OSULeaf",
    "ACSF1",
    "PickupGestureWiimoteZ",
    "ECG5000",
]
MULTIVARIATE = ["BasicMotions", "JapaneseVowels"]
SETS = UNIVARIATE + MULTIVARIATE

# Published test accuracies on the official split (sources in the module docstring).
PUBLISHED = {
    "1-NN DTW": {
        "GunPoint": 1 - 0.0867,
        "ItalyPowerDemand": 1 - 0.0447,
        "ArrowHead": 1 - 0.2000,
        "OSULeaf": 1 - 0.3884,
        "ACSF1": 1 - 0.3800,
        "PickupGestureWiimoteZ": 1 - 0.3400,
        "ECG5000": 1 - 0.0749,
    },
    "ROCKET": {
        "GunPoint": 1.0,
        "ItalyPowerDemand": 0.96958212,
        "ArrowHead": 0.81428571,
        "OSULeaf": 0.94090909,
        "ACSF1": 0.886,
        "PickupGestureWiimoteZ": 0.83,
        "ECG5000": 0.94715556,
    },
    "MiniRocket": {
        "GunPoint": 0.993333,
        "ItalyPowerDemand": 0.968902,
        "ArrowHead": 0.862857,
        "OSULeaf": 0.958678,
        "ACSF1": 0.92,
        "ECG5000": 0.944667,
    },
    "LSTM-FCN": {
        "GunPoint": 1.0,
        "ItalyPowerDemand": 0.9621,
        "ArrowHead": 0.89714,
        "OSULeaf": 0.98347,
        "ECG5000": 0.94333,
    },
}
PUBLISHED_MEAN_30 = {
    "MiniRocket": {
        "ECG5000": 0.946133,
        "GunPoint": 0.992444,
        "ItalyPowerDemand": 0.959572,
        "ArrowHead": 0.880952,
        "OSULeaf": 0.957576,
        "ACSF1": 0.822333,
    }
}
# (angus924/minirocket, results/results_ucr109_mean.csv: the mean over 30 resamples)


def aeon_data() -> pathlib.Path:
    import aeon

    return pathlib.Path(aeon.__file__).parent / "datasets" / "data"


def tsml_published(name: str) -> dict:
    """{data set: (official split, mean over 30 resamples)} from aeon's copy of tsml's result
    file."""
    import aeon

    path = (
        pathlib.Path(aeon.__file__).parent / "testing/example_results_files/classification/accuracy"
    )
    df = pd.read_csv(path / f"{name}_accuracy.csv", index_col=0)
    return {k: (float(row.iloc[0]), float(row.iloc[:30].mean())) for k, row in df.iterrows()}


def load(name: str, equal: bool = False):
    """(train, test) tables and the settings that read them: long tables from the .ts files, or
    ECG5000's embedded wide tables. equal: the archive's equal-length version where the series
    vary in length (<name>_eq_*.ts: what aeon's MiniRocket needs), the same rows in the same
    order."""
    from lstmkit import data as datasets
    from lstmkit.data.sequences import TS_COLUMNS, read_ts

    if name == "ECG5000":
        info = datasets.get("ecg5000")
        test = pd.read_csv(info.test_path, float_precision="round_trip")
        return datasets.load("ecg5000"), test, {"label_col": "label"}
    folder = aeon_data() / name
    stem = f"{name}_eq" if equal and (folder / f"{name}_eq_TRAIN.ts").is_file() else name
    train, test = read_ts(folder / f"{stem}_TRAIN.ts"), read_ts(folder / f"{stem}_TEST.ts")
    return train, test, {"id_col": TS_COLUMNS[0], "time_col": TS_COLUMNS[1], "label_col": "label"}


def resample(train: pd.DataFrame, test: pd.DataFrame, settings: dict, r: int):
    """tsml's resample r of the pooled rows (sequences), as aeon draws it; r = 0: the official
    split."""
    if r == 0:
        return train, test
    from aeon.benchmarking.resampling import stratified_resample_data_indices

    key = settings.get("id_col")
    labels = (
        (lambda df: df.groupby(key, sort=False)["label"].first().to_numpy())
        if key
        else (lambda df: df["label"])
    )
    y_train, y_test = np.asarray(labels(train)).astype(str), np.asarray(labels(test)).astype(str)
    tr, te = stratified_resample_data_indices(y_train, y_test, random_state=r)
    if key:  # whole sequences: renumber the test ids after the training ones
        test = test.assign(**{key: test[key] + train[key].max() + 1})
    pooled = pd.concat([train, test], ignore_index=True)
    ids = pooled[key].unique() if key else np.arange(len(pooled))
    pick = (
        (lambda idx: pooled[pooled[key].isin(ids[idx])]) if key else (lambda idx: pooled.iloc[idx])
    )
    return pick(tr), pick(te)


def minirocket_peer(train, test, settings) -> tuple[float, float]:
    """aeon's MiniRocketClassifier (MiniRocket + RidgeClassifierCV) on the same rows: (accuracy,
    seconds)."""
    from aeon.classification.convolution_based import MiniRocketClassifier

    from lstmkit.classify.estimator import SequenceClassifier

    reader = SequenceClassifier(**settings)
    seqs = [reader._sequences(df, where) for df, where in ((train, "--data"), (test, "--test"))]
    X = [[np.asarray(v, np.float32).T for v in s.sequences.values] for s in seqs]
    y = [s.labels.iloc[:, 0].astype(str).to_numpy() for s in seqs]
    equal = len({x.shape for x in X[0] + X[1]}) == 1
    X = [np.stack(x) if equal else x for x in X]
    start = time.perf_counter()
    clf = MiniRocketClassifier(random_state=0, n_jobs=1).fit(X[0], y[0])
    accuracy = float((clf.predict(X[1]) == y[1]).mean())
    return accuracy, time.perf_counter() - start


def one(name: str, r: int, peer: bool) -> dict:
    import torch

    from lstmkit.classify.estimator import SequenceClassifier

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    train, test, settings = load(name)
    train, test = resample(train, test, settings, r)
    start = time.perf_counter()
    clf = SequenceClassifier(**settings).fit(train, test=test, quiet=True)
    wall = time.perf_counter() - start
    row = {
        "data": name,
        "resample": r,
        "wall_seconds": wall,
        "train_seconds": clf.metrics["train_seconds"],
        "chosen": clf.metrics["selection"]["chosen"],
        "notes": clf.metrics["selection"]["notes"],
        "accuracy": {k: v["accuracy"] for k, v in clf.metrics["test"].items()},
        "split": clf.state.split,
    }
    if peer:  # on the equal-length version where the series vary (the same rows, resampled alike)
        eq_train, eq_test, _ = load(name, equal=True)
        eq_train, eq_test = resample(eq_train, eq_test, settings, r)
        row["minirocket_aeon"], row["minirocket_aeon_seconds"] = minirocket_peer(
            eq_train, eq_test, settings
        )
    acc = row["accuracy"]
    print(
        f"  {name} resample {r}: model {acc['model']:.4f} | network "
        f"{acc.get('network', float('nan')):.4f} | "
        f"MiniRocket (aeon) {row.get('minirocket_aeon', float('nan')):.4f} | {wall:.1f} s | "
        f"{row['chosen']}",
        flush=True,
    )
    return row


def summarise(rows: list[dict]) -> dict:
    """Per set: the mean over its resamples of each method, and the published numbers beside."""
    hc2, inception = tsml_published("HC2"), tsml_published("InceptionTime")
    out = {}
    for name in dict.fromkeys(r["data"] for r in rows):
        mine = [r for r in rows if r["data"] == name]
        many = len(mine) > 1
        methods = {k: float(np.mean([r["accuracy"][k] for r in mine])) for k in mine[0]["accuracy"]}
        if "minirocket_aeon" in mine[0]:
            methods["MiniRocket (aeon, measured)"] = float(
                np.mean([r["minirocket_aeon"] for r in mine])
            )
        published = {k: v[name] for k, v in PUBLISHED.items() if name in v and not many}
        published |= {k: v[name] for k, v in PUBLISHED_MEAN_30.items() if name in v and many}
        for label, table in (("InceptionTime", inception), ("HIVE-COTE 2", hc2)):
            if name in table:
                published[label] = table[name][1 if many else 0]
        out[name] = {
            "resamples": [r["resample"] for r in mine],
            "lstmkit": methods,
            "published": published,
            "wall_seconds": float(np.mean([r["wall_seconds"] for r in mine])),
            "chosen": [r["chosen"] for r in mine],
        }
    return out


def reference(entry: dict) -> float | None:
    """MiniRocket's accuracy for the targets: on the official split the published one where it
    exists; over resamples, or where none is published, aeon's measured on the same rows."""
    measured = entry["lstmkit"].get("MiniRocket (aeon, measured)")
    if len(entry["resamples"]) > 1 and measured is not None:
        return measured
    return entry["published"].get("MiniRocket", measured)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", default=",".join(SETS), help="comma-separated: " + ", ".join(SETS)
    )
    parser.add_argument(
        "--resamples", type=int, default=1, help="0 .. n-1; 0 is the official split"
    )
    parser.add_argument("--jobs", type=int, default=1, help="processes (each one intra-op thread)")
    parser.add_argument("--no-peer", action="store_true", help="skip aeon's MiniRocket")
    parser.add_argument("--json", default=os.path.join(HERE, "results", "ucr.json"))
    args = parser.parse_args(argv)
    from rich.console import Console
    from rich.table import Table

    from lstmkit.bench import write_results

    names = [n.strip() for n in args.data.split(",") if n.strip()]
    unknown = sorted(set(names) - set(SETS))
    if unknown:
        parser.error(f"unknown data set(s) {unknown}; known: {', '.join(SETS)}")
    jobs = [(n, r, not args.no_peer) for n in names for r in range(args.resamples)]
    if args.jobs > 1:
        with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(one, *zip(*jobs, strict=True)))
    else:
        rows = [one(*job) for job in jobs]
    summary = summarise(rows)

    table = Table(
        title=f"lstmkit classify defaults, test accuracy ({args.resamples} resample(s); 1 thread)"
    )
    cols = [
        "model",
        "network",
        "logistic",
        "minirocket",
        "minirocket+diff",
        "MiniRocket (aeon, measured)",
    ]
    published = ["1-NN DTW", "ROCKET", "MiniRocket", "LSTM-FCN", "InceptionTime", "HIVE-COTE 2"]
    for col in ["data", *cols, *(f"{p} (publ.)" for p in published), "fit s", "model - MiniRocket"]:
        table.add_column(col, justify="left" if col == "data" else "right")
    gaps = []
    for name, e in summary.items():
        ref = reference(e)
        gap = e["lstmkit"]["model"] - ref if ref is not None else None
        gaps.append(gap)
        cells = [f"{e['lstmkit'][c]:.4f}" if c in e["lstmkit"] else "" for c in cols]
        cells += [f"{e['published'][p]:.4f}" if p in e["published"] else "" for p in published]
        table.add_row(
            name, *cells, f"{e['wall_seconds']:.1f}", f"{gap:+.4f}" if gap is not None else ""
        )
    Console(width=260).print(table)
    known = [g for g in gaps if g is not None]
    verdict = {
        "every set >= MiniRocket - 0.01": all(g >= -0.01 for g in known),
        "mean over the sets >= MiniRocket's": bool(known) and float(np.mean(known)) >= 0,
        "mean gap to MiniRocket": float(np.mean(known)) if known else None,
    }
    if "ECG5000" in summary:
        verdict["ECG5000 >= 0.950"] = summary["ECG5000"]["lstmkit"]["model"] >= 0.950
    for k, v in verdict.items():
        print(f"{k}: {v}")
    write_results(args.json, {"rows": rows, "summary": summary, "verdict": verdict})
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
