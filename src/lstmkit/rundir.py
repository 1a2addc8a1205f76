"""A run directory written as one transaction: a reader sees the old run or the new one, never a
mix of the two.

    with transaction("runs/nyc", overwrite=False, resume=False) as stage:
        fc.fit(data, checkpoint_dir=stage / "checkpoint")   # the checkpoint lives in the stage
        fc.write(stage)                                     # every file of the run
    # here runs/nyc is the new run, whole

The run is written into a sibling `.nyc.partial/` and swapped into place at the end, in one
rename (Linux renameat2's RENAME_EXCHANGE where the old run exists; elsewhere two renames, where
a reader in between sees no run at all, never a mix). A killed run leaves its stage, whose
checkpoint `--resume` continues. A lock (`.nyc.lock`, flock: the kernel drops it when the holder
dies, so a killed run never leaves a stale lock) refuses a second writer, naming the holder's pid.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import pathlib
import shutil
from collections.abc import Iterator

from .config import LstmkitError, cut

__all__ = ["run_name", "transaction"]

# A file name is at most 255 bytes here (ext4, xfs, tmpfs); the stage adds ".partial" and a dot.
MAX_NAME = 255 - len("..partial")
# The suffixes a data file name carries; everything before them names the run.
DATA_SUFFIXES = (".gz", ".bz2", ".xz", ".zip", ".zst", ".csv", ".parquet", ".pq", ".tsv", ".ts")


def run_name(data: str) -> str:
    """The default run name of a data set or file: the file name without its data suffixes, so
    `sales.2023.csv` and `sales.2024.csv` are two runs (`sales.2023`, `sales.2024`)."""
    name = pathlib.Path(data).name
    while True:
        lower = name.lower()
        cut = next((s for s in DATA_SUFFIXES if lower.endswith(s) and len(name) > len(s)), None)
        if cut is None:
            return name
        name = name[: -len(cut)]


@contextlib.contextmanager
def transaction(out, *, overwrite: bool = False, resume: bool = False) -> Iterator[pathlib.Path]:
    """Yield the stage folder to write a run into; commit it to `out` when the block ends
    without an error. `out` holding a run already is refused unless overwrite or resume."""
    out = pathlib.Path(out)
    if len(os.fsencode(out.name)) > MAX_NAME:
        raise LstmkitError(
            f"--out: the name {cut(out.name)} is {len(os.fsencode(out.name))} bytes; at most "
            f"{MAX_NAME}"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise LstmkitError(f"--out: cannot create {out.parent} ({err.strerror})") from None
    stage = out.parent / f".{out.name}.partial"
    with _locked(out):
        _check_target(out, overwrite, resume)
        _prepare_stage(out, stage, overwrite, resume)
        try:
            yield stage
        except BaseException:
            if not _holds_checkpoint(stage):  # nothing worth resuming: leave no litter
                shutil.rmtree(stage, ignore_errors=True)
            raise
        _commit(stage, out)


@contextlib.contextmanager
def _locked(out: pathlib.Path) -> Iterator[None]:
    path = out.parent / f".{out.name}.lock"
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise LstmkitError(f"--out: cannot write in {out.parent} ({err.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LstmkitError(
                f"--out: {out} is being written by another lstmkit run (pid {holder}); wait for "
                "it to end or choose another --out"
            ) from None
        # The holder before us may have removed the file after we opened it: then our lock is on
        # a file nobody else sees, so take the lock again on the one at `path`.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


def _is_run(folder: pathlib.Path) -> bool:
    return (folder / "config.json").is_file()


def _check_target(out: pathlib.Path, overwrite: bool, resume: bool) -> None:
    if not out.exists() and not out.is_symlink():
        return
    if out.is_symlink() or not out.is_dir():
        raise LstmkitError(f"--out: {out} exists and is not a directory; refused")
    if any(out.iterdir()) and not _is_run(out):
        raise LstmkitError(
            f"--out: {out} exists and is not a run directory; refused to replace it (choose "
            "another --out)"
        )
    if _is_run(out) and not (overwrite or resume):
        raise LstmkitError(
            f"--out: {out} holds a run already; pass --overwrite to replace it, or --resume to "
            "continue its training"
        )


def _holds_checkpoint(stage: pathlib.Path) -> bool:
    return stage.is_dir() and any((stage / "checkpoint").rglob("checkpoint.safetensors"))


def _prepare_stage(out: pathlib.Path, stage: pathlib.Path, overwrite: bool, resume: bool) -> None:
    if stage.exists() and not stage.is_dir():
        raise LstmkitError(f"--out: {stage} is in the way and not a directory; remove it")
    if _holds_checkpoint(stage) and not (resume or overwrite):
        raise LstmkitError(
            f"--out: {out} has an interrupted run ({stage.name}); pass --resume to continue it "
            "or --overwrite to start afresh"
        )
    if stage.exists() and not (resume and _holds_checkpoint(stage)):
        shutil.rmtree(stage)  # an abandoned stage: nothing in it to resume
    stage.mkdir(exist_ok=True)
    for tmp in stage.rglob(".*.tmp"):  # a write a kill cut short: never renamed into place
        tmp.unlink()
    if resume and not _holds_checkpoint(stage) and (out / "checkpoint").is_dir():
        # continuing a finished run (more --epochs): its checkpoint is the start
        shutil.copytree(out / "checkpoint", stage / "checkpoint", dirs_exist_ok=True)


def _commit(stage: pathlib.Path, out: pathlib.Path) -> None:
    _fsync_dir(stage)
    if not out.exists():
        os.rename(stage, out)
    elif _exchange(stage, out):
        shutil.rmtree(stage)  # the old run, swapped out
    else:  # no atomic swap here: a reader in between sees no run, never half of one
        old = out.parent / f".{out.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        os.rename(out, old)
        os.rename(stage, out)
        shutil.rmtree(old)
    _fsync_dir(out.parent)


def _fsync_dir(folder: pathlib.Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be synced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _exchange(a: pathlib.Path, b: pathlib.Path) -> bool:
    """Swap two paths in one atomic rename (Linux >= 3.15); False where that is not available."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EPERM, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))
