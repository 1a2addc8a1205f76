"""Several processes training one model: who this process is, and the few collective operations
the estimators' statistics need to come out the same as in one process.

Started by torchrun (`torchrun --nproc-per-node N -m lstmkit forecast ...`, or `lstmkit forecast
--nproc N`, which launches the same), by Ray's TorchTrainer or Spark's TorchDistributor: each
sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT, and `start()` joins the group they describe.
A process group the caller started itself (Ray does) is used as it is. Outside one, every
function here is the one-process identity, so the estimators call them unconditionally.

The reductions are the exact ones a statistic is made of: sums of float64 arrays (a Gram matrix,
the squared errors of a validation score, a scaler's moments), minima and maxima, and lists
gathered in the one-process order (`gathered`: per-series errors whose order a Diebold-Mariano
test or a conformal window reads). Sums differ from one process's only in the order of addition.

Gloo carries them on CPU; training here runs on CPU, so gloo carries the gradients too (NCCL is
the backend for CUDA tensors: `backend()`).
"""

from __future__ import annotations

import datetime
import os
import sys

import numpy as np

from .config import LstmkitError, SettingError

__all__ = [
    "active",
    "agree",
    "backend",
    "broadcast",
    "everyone",
    "gathered",
    "launched",
    "least",
    "most",
    "rank",
    "silent",
    "start",
    "stop",
    "total",
    "world",
]

# A collective that waits longer than this is a peer that died or disagreed: gloo raises instead
# of hanging (torchrun's agent stops the other workers of a failed one sooner).
TIMEOUT = datetime.timedelta(minutes=10)


def _dist():
    import torch.distributed as dist

    return dist


def launched() -> bool:
    """Whether this process was started as one of several (torchrun, Ray, Spark)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def active() -> bool:
    """Whether a process group of more than one process is running."""
    if not launched() and "torch.distributed" not in sys.modules:  # torch unloaded: no group
        return False
    dist = _dist()
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return _dist().get_rank() if active() else 0


def world() -> int:
    return _dist().get_world_size() if active() else 1


def backend(device: str = "cpu") -> str:
    """gloo for CPU tensors, NCCL for CUDA ones."""
    return "nccl" if device.startswith("cuda") else "gloo"


_OWN_GROUP = []  # the group start() began (stop() ends only that one)


def start(device: str = "cpu") -> bool:
    """Join the group the environment describes (torchrun's variables); True where this process
    is one of several. A group already started (by Ray's TorchTrainer) is used, and left to its
    owner to end."""
    if not launched():
        return False
    dist = _dist()
    if not dist.is_initialized():
        _OWN_GROUP.append(True)
        for name in ("RANK", "MASTER_ADDR", "MASTER_PORT"):
            if name not in os.environ:
                raise LstmkitError(
                    f"WORLD_SIZE is {os.environ['WORLD_SIZE']} but {name} is not set: start the "
                    "processes with torchrun (or lstmkit ... --nproc N)"
                )
        dist.init_process_group(backend(device), timeout=TIMEOUT)
    return True


def stop() -> None:
    """Leave the group, every process together: one that tore its connections down while a peer
    still used them was aborted at exit now and then (1 run in 8 here). Only after a success: a
    process that failed alone must not wait at a barrier its peers never reach (it exits, and
    torchrun's agent stops them)."""
    if active() and _OWN_GROUP:
        _dist().barrier()
        _dist().destroy_process_group()
        _OWN_GROUP.clear()


def _reduce(values, op: str) -> np.ndarray:
    import torch

    dist = _dist()
    t = torch.as_tensor(np.asarray(values, dtype=np.float64)).clone()
    dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
    return t.numpy()


def total(values):
    """The sum over every process of a float64 array (or number)."""
    if not active():
        return values
    out = _reduce(values, "SUM")
    return out if np.ndim(values) else float(out)


def least(value):
    return value if not active() else _shaped(_reduce(value, "MIN"), value)


def most(value):
    return value if not active() else _shaped(_reduce(value, "MAX"), value)


def _shaped(out: np.ndarray, like):
    if np.ndim(like):
        return out
    return int(out) if isinstance(like, int | np.integer) else float(out)


def everyone(value) -> list:
    """Each process's `value`, in rank order (on every process)."""
    if not active():
        return [value]
    out = [None] * world()
    _dist().all_gather_object(out, value)
    return out


def gathered(items: list, keys: list) -> list:
    """Every process's `items` in one list ordered by `keys` (one per item, sortable, unique
    across processes): the one-process order where the keys are its order. Objects travel
    pickled between this run's own processes; nothing read from a file is unpickled."""
    if not active():
        return list(items)
    pairs = [p for part in everyone(list(zip(keys, items, strict=True))) for p in part]
    pairs.sort(key=lambda p: p[0])
    return [item for _, item in pairs]


def broadcast(value, source: int = 0):
    """Process `source`'s value, on every process."""
    if not active():
        return value
    box = [value]
    _dist().broadcast_object_list(box, src=source)
    return box[0]


def agree(step, *args, **kwargs):
    """Run step(*args, **kwargs) on every process; if it raised a one-line error on any, every
    process raises the first one (the lowest rank's), naming that rank, so none waits for a
    peer that has given up. That rank's error is marked `said_here` and the others' `said_by`:
    the command line prints it once."""
    error = None
    try:
        result = step(*args, **kwargs)
    except LstmkitError as err:
        error, result = err, None
    if not active():
        if error is not None:
            raise error
        return result
    said = None if error is None else (getattr(error, "field", None), getattr(error, "detail", ""))
    said = said and (*said, str(error))
    failed = [(r, f) for r, f in enumerate(everyone(said)) if f is not None]
    if not failed:
        return result
    first, (field, detail, message) = failed[0]
    if first == rank():
        error.said_here = True
        raise error
    error = SettingError(field, f"{detail} (rank {first})") if field else None
    error = error or LstmkitError(f"{message} (rank {first})")
    error.said_by = first
    raise error


def silent(error: BaseException) -> bool:
    """Whether the command line leaves `error` unsaid on this process: another process says it
    (agree), or every process raised it alike and process 0 says it."""
    if getattr(error, "said_by", None) is not None:
        return True
    return int(os.environ.get("RANK", "0")) != 0 and not getattr(error, "said_here", False)
