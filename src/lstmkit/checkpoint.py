"""The training checkpoint: everything a resumed run needs, in one file written atomically.

    checkpoint/checkpoint.safetensors
        model.<name>        the weights after the last finished epoch
        best.<name>         the best validation weights so far (early stopping returns these)
        optim.<i>.<key>     the optimizer's moments
        rng.<name>          every random generator's state (the weights' and dropout's global
                            one, the data order's own), so the next epoch draws what it would have
      metadata (JSON):
        progress            the history: epochs, losses, best epoch
        optimizer           the optimizer's param groups and non-tensor state
        identity            the settings and a hash of the data the run trained on

One file, one rename: a kill at any moment leaves the checkpoint of the last finished epoch
whole, never the weights of one epoch beside the optimizer of another. A resume with other
settings or other data is refused by name, except for the settings in MAY_CHANGE.
"""

from __future__ import annotations

import hashlib
import json
import pathlib

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from .config import LstmkitError, SettingError
from .runs import atomic_write, regular_file

__all__ = ["FILE", "MAY_CHANGE", "fingerprint", "load", "save"]

FILE = "checkpoint.safetensors"
# Settings that only say how long to go on, or how fast (in how many processes: the data's
# hash and the batches do not depend on it): a resume may change them (and the run
# records the new value); anything else would make the resumed run a different run.
MAY_CHANGE = frozenset({"epochs", "patience", "threads", "nproc"})


def fingerprint(*arrays) -> str:
    """A hash of the data a run trains on (values, shapes and dtypes), to refuse resuming a
    checkpoint on other data."""
    digest = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a.numpy() if torch.is_tensor(a) else a)
        digest.update(f"{a.dtype}{a.shape}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def save(folder, model, optimizer, progress: dict, best: dict, generators: dict, identity: dict):
    opt = optimizer.state_dict()
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors |= {f"best.{k}": v for k, v in best.items()}
    tensors |= {f"rng.{k}": g.get_state() for k, g in generators.items()}
    meta_state = {}
    for idx, entry in opt["state"].items():
        meta_state[str(idx)] = {}
        for key, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"optim.{idx}.{key}"] = value
            else:
                meta_state[str(idx)][key] = value
    metadata = {
        "progress": json.dumps(progress),
        "optimizer": json.dumps({"param_groups": opt["param_groups"], "state": meta_state}),
        "identity": json.dumps(identity, default=str),
    }
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    atomic_write(pathlib.Path(folder) / FILE, lambda tmp: save_file(tensors, tmp, metadata))


def load(folder, model, optimizer, generators: dict, identity: dict):
    """Restore what save() wrote into model, optimizer and generators, after checking that it
    belongs to this run; returns (progress, best weights, the allowed settings that changed),
    or None where there is no checkpoint."""
    folder = pathlib.Path(folder)
    path = folder / FILE
    if not path.exists():
        if (folder / "progress.json").exists():
            raise LstmkitError(
                f"--resume: {folder} holds a checkpoint of an older lstmkit, which cannot be "
                "resumed exactly; pass --overwrite to start afresh"
            )
        return None
    meta, tensors = _read(path)
    # compared as JSON, as the checkpoint stored it (tuples become lists, numbers stay exact)
    changed = _compare(path, meta["identity"], json.loads(json.dumps(identity, default=str)))
    shapes = {f"model.{k}": v.shape for k, v in model.state_dict().items()}
    shapes |= {f"best.{k}": v.shape for k, v in model.state_dict().items()}
    missing = sorted(set(shapes) - set(tensors))
    wrong = [k for k, s in shapes.items() if k in tensors and tensors[k].shape != s]
    if missing or wrong:
        raise LstmkitError(f"--resume: {path}: its weights do not fit this run's model; refused")
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
    state = {int(i): dict(entry) for i, entry in meta["optimizer"]["state"].items()}
    for key, value in tensors.items():
        if key.startswith("optim."):
            idx, name = key[6:].split(".", 1)
            state[int(idx)][name] = value
    try:
        optimizer.load_state_dict(
            {"state": state, "param_groups": meta["optimizer"]["param_groups"]}
        )
        for name, gen in generators.items():
            gen.set_state(tensors[f"rng.{name}"])
    except (KeyError, ValueError, RuntimeError) as err:
        raise LstmkitError(f"--resume: {path}: damaged ({str(err)[:100]}); refused") from None
    return meta["progress"], best, changed


def _read(path: pathlib.Path) -> tuple[dict, dict]:
    """The checkpoint's metadata (JSON) and tensors, from one opening of the file."""
    try:
        with safe_open(str(regular_file(path)), framework="pt") as f:
            raw = f.metadata() or {}
            meta = {k: json.loads(raw[k]) for k in ("progress", "optimizer", "identity")}
            return meta, {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, KeyError, ValueError) as err:
        raise LstmkitError(
            f"--resume: {path}: not a readable checkpoint ({str(err)[:100]}); pass --overwrite "
            "to start afresh"
        ) from None


def _compare(path, saved: dict, now: dict) -> dict:
    """The allowed settings that changed ({name: [then, now]}); any other difference refused."""
    then, current = saved.get("settings", {}), now.get("settings", {})
    differ = [k for k in current if k in then and then[k] != current[k]]
    refused = [k for k in differ if k not in MAY_CHANGE]
    if refused:
        first = refused[0]
        more = f" (and {', '.join(refused[1:])})" if len(refused) > 1 else ""
        allowed = ", ".join(sorted(MAY_CHANGE))
        raise SettingError(
            first,
            f"the checkpoint in {path.parent} was trained with {then[first]!r}, this run asks "
            f"for {current[first]!r}{more}; a resume may change only {allowed} (or pass "
            "--overwrite to start afresh)",
        )
    if saved.get("data") != now.get("data"):
        raise LstmkitError(
            f"--resume: the checkpoint in {path.parent} was trained on other data; pass the same "
            "--data, or --overwrite to start afresh"
        )
    return {k: [then[k], current[k]] for k in differ}
