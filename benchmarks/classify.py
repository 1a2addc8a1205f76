"""lstmkit classify on the embedded health-care data, against its baselines, over several seeds.

    python benchmarks/classify.py                   # both data sets -> results/classify.json
    python benchmarks/classify.py --data ecg5000 --seeds 3
    python benchmarks/classify.py --data clintox --seeds 5 --set ensemble=2
    python benchmarks/classify.py --data clintox --seeds 5 --first-seed 5   # five other splits

Each data set runs with its own measured network settings (`lstmkit datasets`), plus any --set;
what the model is (the network, a linear path, their fusion) is chosen by the run itself unless a
--set names it (e.g. --set linear_weight=0.5). ECG5000 uses its official split (500 train, 4,500
test); each seed changes the validation rows drawn from the 500 and the initialisation. ClinTox has
no official split: each seed draws its own stratified 70/10/20 split, and the model and the
baselines are scored on the same rows. Reported: test accuracy, balanced accuracy, ROC-AUC (mean ±
sd over seeds) of the model, the network alone, every linear path the run fitted (the logistic
regression; for numeric sequences ridge classifiers on MiniRocket's features, "minirocket", and on
those of the values and differences, "minirocket+diff"; "ridge" on the baseline's features when
named) and the majority class; what the model chose per seed; the network's training time and
the whole fit's wall time (data, features, baselines, network). One intra-op thread.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from lstmkit.bench import write_results
from lstmkit.classify.estimator import SequenceClassifier

HERE = os.path.dirname(os.path.abspath(__file__))


def _value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def run(data: str, seeds: int, extra: dict, first: int = 0) -> dict:
    settings = dict(extra)  # on top of the data set's own measured settings (lstmkit datasets)
    rows, config = [], None
    for seed in range(first, first + seeds):
        start = time.perf_counter()
        clf = SequenceClassifier(seed=seed, **settings).fit(data, quiet=True)
        wall = time.perf_counter() - start
        config = {k: v for k, v in vars(clf.config).items() if k != "seed"}
        test = clf.metrics["test"]
        rows.append(
            {
                "seed": seed,
                "chosen": clf.metrics["selection"]["chosen"],
                "train_seconds": clf.metrics["train_seconds"],
                "wall_seconds": wall,
                **{
                    f"{who}_{k}": test[who][k]
                    for who in test
                    for k in ("accuracy", "balanced_accuracy", "roc_auc")
                },
            }
        )
        print(
            f"  {data} seed {seed}: model acc {test['model']['accuracy']:.4f} bal "
            f"{test['model']['balanced_accuracy']:.4f} auc {test['model']['roc_auc']:.4f} | "
            "logistic acc "
            f"{test['logistic']['accuracy']:.4f} bal {test['logistic']['balanced_accuracy']:.4f} "
            "auc "
            f"{test['logistic']['roc_auc']:.4f} | {clf.metrics['train_seconds']:.1f} s | "
            f"{clf.metrics['selection']['chosen']}",
            flush=True,
        )
    keys = [k for k in rows[0] if k not in ("seed", "chosen")]
    summary = {
        k: {
            "mean": float(np.mean([r[k] for r in rows])),
            "sd": float(np.std([r[k] for r in rows], ddof=1)) if len(rows) > 1 else 0.0,
        }
        for k in keys
    }
    return {"data": data, "settings": settings, "config": config, "seeds": rows, "summary": summary}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", default="ecg5000,clintox", help="comma-separated embedded data sets"
    )
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--first-seed", type=int, default=0, help="seeds first..first+seeds-1 (fresh splits)"
    )
    parser.add_argument(
        "--set", action="append", default=[], help="extra setting key=value (repeatable)"
    )
    parser.add_argument("--json", default=os.path.join(HERE, "results", "classify.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)
    extra = {k: _value(v) for k, v in (s.split("=", 1) for s in args.set)}
    results = [run(d, args.seeds, extra, args.first_seed) for d in args.data.split(",")]

    table = Table(title=f"lstmkit classify, mean ± sd over {args.seeds} seeds (1 thread)")
    for col in ("data", "method", "accuracy", "balanced acc.", "ROC-AUC", "train s", "fit wall s"):
        table.add_column(col, justify="left" if col in ("data", "method") else "right")
    for res in results:
        s = res["summary"]
        for who in (
            "model",
            "network",
            "minirocket",
            "minirocket+diff",
            "ridge",
            "logistic",
            "majority",
        ):
            if f"{who}_accuracy" not in s:  # only the paths the run fitted
                continue
            cells = [
                f"{s[f'{who}_{k}']['mean']:.4f} ± {s[f'{who}_{k}']['sd']:.4f}"
                for k in ("accuracy", "balanced_accuracy", "roc_auc")
            ]
            secs = [
                f"{s[k]['mean']:.1f}" if who == "model" else ""
                for k in ("train_seconds", "wall_seconds")
            ]
            table.add_row(res["data"], who, *cells, *secs)
    Console(width=140).print(table)
    write_results(args.json, {"results": results})
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
