"""The run directory, written atomically and without pickle.

    runs/<name>/config.json        every setting (the task's config tree) and the lstmkit version
    runs/<name>/state.json         what fit resolved: columns, frequency, scalers, the AR, ...
    runs/<name>/model.safetensors  the weights
    runs/<name>/metrics.json       model and baselines on the held-out split
    runs/<name>/predictions.csv    time, series, horizon step, actual, predicted, quantiles
    runs/<name>/checkpoint/        everything training needs to resume exactly (checkpoint.py)

Every file is written to a temporary name in the same folder and renamed into place, so a crash
leaves the old file or the new one, never half of one; the run directory as a whole is written as
one transaction (rundir.py), so a reader never sees files of two runs side by side.
"""

from __future__ import annotations

import functools
import json
import math
import os
import pathlib
import stat
import tempfile
import typing
from dataclasses import fields

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from .config import LstmkitError, cut

__all__ = [
    "atomic_write",
    "load_module",
    "read_json",
    "read_run",
    "read_run_config",
    "read_state",
    "read_tensors",
    "state_dict_of",
    "write_json",
    "write_run",
]


def atomic_write(path, write) -> None:
    """Call write(tmp_path), then rename tmp_path onto path, with the permissions a plain open()
    would have given it (mkstemp makes its files private, 0600: a report nobody else could read)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it; put it back at once
    os.umask(mask)
    return mask


def _clean(value):
    """JSON has no NaN: write null instead of an invalid token."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def write_json(path, data) -> None:
    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(_clean(data), f, indent=2, default=str)

    atomic_write(path, write)


MAX_COUNT = 1_000_000  # the largest size or count a run's state.json may hold
MAX_JSON_BYTES = 64 * 2**20  # a run's JSON files are kilobytes; a bigger one is refused unread


def regular_file(path) -> pathlib.Path:
    """`path` if it is a regular file inside its folder, else a one-line error. A run directory is
    untrusted input: a FIFO named model.safetensors would block the reader forever, a device never
    ends, and a link to /etc/... would read what the run never held."""
    path = pathlib.Path(path)
    if path.is_symlink() and not path.resolve().is_relative_to(path.parent.resolve()):
        # a run directory names its own files; a link elsewhere reads what the run never held
        raise LstmkitError(f"--run: {path}: a link that leads out of the run directory; refused")
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        raise LstmkitError(f"--run: {path}: cannot be read ({err.strerror})") from None
    if not stat.S_ISREG(mode):
        raise LstmkitError(f"--run: {path}: not a regular file; refused")
    return path


def read_json(path) -> dict:
    """A run's JSON file: a regular file of bounded size, valid JSON, or a one-line error."""
    path = regular_file(path)
    if path.stat().st_size > MAX_JSON_BYTES:
        raise LstmkitError(f"--run: {path}: over {MAX_JSON_BYTES // 2**20} MB; refused")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise LstmkitError(f"--run: {path}: not valid JSON ({_first_line(err)})") from None
    if not isinstance(data, dict):
        raise LstmkitError(f"--run: {path}: expected a JSON object, found {type(data).__name__}")
    return data


def read_tensors(path, expected: dict[str, torch.Size] | None = None) -> dict[str, torch.Tensor]:
    """A safetensors file of a run. Its header (names, shapes) is checked against `expected`
    before any tensor is read, so a crafted file cannot make lstmkit allocate what the config
    does not call for; a truncated or damaged file is a one-line error."""
    path = regular_file(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            shapes = {k: torch.Size(f.get_slice(k).get_shape()) for k in f.keys()}
            if expected is not None:  # its LstmkitError passes the except below untouched
                _check_shapes(path, shapes, expected)
            return {k: f.get_tensor(k) for k in shapes}
    except (SafetensorError, OSError) as err:
        raise LstmkitError(
            f"--run: {path}: not a readable safetensors file ({_first_line(err)})"
        ) from None


def _check_shapes(path, found: dict, expected: dict) -> None:
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing or extra:
        what = ", ".join(
            [f"missing {_names(missing)}"] * bool(missing)
            + [f"unexpected {_names(extra)}"] * bool(extra)
        )
        raise LstmkitError(f"--run: {path}: {what}; it does not belong to this run's config")
    for name, shape in expected.items():
        if found[name] != shape:
            raise LstmkitError(
                f"--run: {path}: {name} has shape {tuple(found[name])}, the config calls for "
                f"{tuple(shape)}"
            )


def load_module(path, make) -> torch.nn.Module:
    """The module make() builds, with its weights from a run's safetensors file. It is built on
    the meta device first (shapes, no memory), so sizes a crafted config or state.json names are
    checked against the file's header before anything is allocated; safetensors checks that the
    file holds every byte its header declares, so what is then allocated is what the file holds."""
    with torch.device("meta"):
        module = make()
    expected = {k: v.shape for k, v in module.state_dict().items()}
    tensors = read_tensors(path, expected)
    bad = [k for k, v in tensors.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise LstmkitError(f"--run: {path}: {_names(bad)} holds NaN or infinite values; refused")
    module = module.to_empty(device="cpu")
    module.load_state_dict(tensors)
    return module


def _names(names, limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _first_line(err) -> str:
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def read_run_config(folder, task: str | None = None) -> dict:
    """A run directory's config.json, with one-line errors: no such run, or (task given) a run of
    another task. Runs saved without a task are forecasts (the first task lstmkit had)."""
    path = pathlib.Path(folder) / "config.json"
    if not path.is_file():
        raise LstmkitError(f"--run: {folder} is not a run directory (no config.json)")
    saved = read_json(path)
    saved.setdefault("task", "forecast")
    if not isinstance(saved.get("config"), dict):
        raise LstmkitError(f'--run: {path}: no "config" object; not a run\'s config.json')
    if task is not None and saved["task"] != task:
        raise LstmkitError(f"--run: {folder} is a {saved['task']} run, not a {task} run")
    return saved


def save_tensors(path, tensors: dict[str, torch.Tensor]) -> None:
    atomic_write(
        path,
        lambda tmp: save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, tmp),
    )


def state_dict_of(state) -> dict:
    """A fitted-state dataclass as JSON: a field that holds an object with to_dict() (scalers, the
    statistical models, the split) is written through it; everything else is JSON already."""
    return {f.name: _dumped(getattr(state, f.name)) for f in fields(state)}


def _dumped(value):
    return value.to_dict() if hasattr(value, "to_dict") else value


def read_state(cls, saved: dict, where: str):
    """The fitted-state dataclass `cls` from its JSON (state_dict_of's): each field of a type
    with from_dict() is read through it. A missing field is a one-line error naming `where`."""
    hints = typing.get_type_hints(cls)
    missing = [f.name for f in fields(cls) if f.name not in saved]
    if missing:
        raise LstmkitError(
            f"{where}: missing {', '.join(missing)}; the run directory is incomplete"
        )
    values = {}
    for f in fields(cls):
        value = saved[f.name]
        if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= MAX_COUNT:
            # a size (features, lags, season): a crafted one would size arrays before any check
            raise LstmkitError(f"{where}: {f.name} is {cut(str(value))}; expected 0 to {MAX_COUNT}")
        kind = next(
            (
                t
                for t in (hints[f.name], *typing.get_args(hints[f.name]))
                if hasattr(t, "from_dict")
            ),
            None,
        )
        try:
            if kind is None:  # a plain field: its JSON must have the type the dataclass says
                value = _adapter(hints[f.name]).validate_python(value, strict=True)
            values[f.name] = (
                kind.from_dict(value) if kind is not None and value is not None else value
            )
        except (ValueError, KeyError, TypeError, AttributeError) as err:  # damaged or crafted
            said = err.errors()[0]["msg"] if hasattr(err, "errors") else _first_line(err)
            raise LstmkitError(f"{where}: {f.name}: {said}; refused") from None
    return cls(**values)


@functools.cache
def _adapter(hint):
    from pydantic import TypeAdapter

    return TypeAdapter(hint)


def write_run(folder, task: str, config, state) -> None:
    """config.json (the settings: a config Tree, with the task and the lstmkit version) and
    state.json (what fit resolved: a fitted-state dataclass)."""
    from ._version import __version__

    folder = pathlib.Path(folder)
    saved = {"lstmkit": __version__, "task": task, "config": config.to_dict()}
    write_json(folder / "config.json", saved)
    write_json(folder / "state.json", state_dict_of(state))


def read_run(folder, task: str, tree, state_cls, legacy):
    """(config, state) of a run written by write_run. A run saved before state.json existed holds
    both in config.json (and files beside it): legacy = (settings_of(saved config) -> flat
    settings, state_of(folder, saved) -> state.json's content) reads it."""
    folder = pathlib.Path(folder)
    saved = read_run_config(folder, task)
    if (folder / "state.json").exists():
        try:
            config = tree.checked(saved["config"])
        except LstmkitError as err:  # a setting in a file: name the file, not an option
            raise LstmkitError(f"--run: {folder / 'config.json'}: {err}") from None
        state = read_json(folder / "state.json")
    else:
        settings_of, state_of = legacy
        config = tree.from_settings(
            settings_of(saved["config"]), f"--run: {folder / 'config.json'}"
        )
        state = state_of(folder, saved)
    return config, read_state(state_cls, state, f"--run: {folder / 'state.json'}")
