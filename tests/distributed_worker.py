"""One rank of a test's process group, started the way Ray or Spark start theirs: RANK,
WORLD_SIZE, MASTER_ADDR and MASTER_PORT in the environment, then lstmkit's own code
(distributed.start joins the group). tests/test_distributed.py runs it; it writes what it found to
a JSON file.

    python tests/distributed_worker.py TASK ARGS_JSON OUT_JSON
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np


def collectives(args):
    from lstmkit import distributed

    r = distributed.rank()
    out = {
        "rank": r,
        "world": distributed.world(),
        "total": distributed.total(np.array([1.0, r + 1.0])).tolist(),
        "least": distributed.least(10 - r),
        "most": distributed.most(10.5 - r),
        "gathered": distributed.gathered(
            [f"r{r}-{k}" for k in range(2)], [(k, r) for k in range(2)]
        ),
        "everyone": distributed.everyone(r * 10),
        "broadcast": distributed.broadcast(f"from {r}"),
    }
    try:  # rank 1 fails: every rank must hear of it
        distributed.agree(_fail_on, 1)
    except ValueError as err:
        out["agree"] = str(err)
    return out


def _fail_on(rank):
    from lstmkit import distributed
    from lstmkit.config import LstmkitError

    if distributed.rank() == rank:
        raise LstmkitError(f"--data: cannot read the share of rank {rank}")


def fit(args):
    """A Forecaster fitted on each rank's `data` (a rank may be given another path)."""
    import torch

    from lstmkit import distributed
    from lstmkit.config import LstmkitError
    from lstmkit.forecast.estimator import Forecaster

    data = args["data"][distributed.rank()] if isinstance(args["data"], list) else args["data"]
    try:
        fc = Forecaster(**args["settings"]).fit(data, quiet=True)
    except LstmkitError as err:
        return {"error": str(err)}
    return summary(fc, torch)


def summary(fc, torch) -> dict:
    """What the tests compare between one process and several."""
    return {
        "weights": {k: v.double().tolist() for k, v in fc.model.state_dict().items()},
        "scaler": fc.state.scaler_y.to_dict(),
        "ar_order": fc.state.ar_order,
        "ar_form": fc.state.ar_form,
        "history": fc.metrics["history"],
        "test": fc.metrics["test"],
        "lstm": fc.metrics["lstm"]["kept_steps"],
        "unit_root": fc.metrics["unit_root"],
        "rows": len(fc.predictions),
        "data": fc.metrics["data"],
    }


if __name__ == "__main__":
    task, args, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
    from lstmkit import distributed

    distributed.start()
    try:
        result = globals()[task](args)
    finally:
        distributed.stop()
    with open(f"{out}.{os.environ['RANK']}", "w") as f:
        json.dump(result, f)
