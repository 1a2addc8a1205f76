"""`--nproc N`: the same command in N processes on this machine, through torchrun's own launcher
(torch.distributed.run), each one a rank of the group distributed.py joins. Nothing is pickled to
start them (a fresh `python -m lstmkit ...` each, as torchrun does), so nothing of the caller's
has to be importable in a child; the workers print their own results and errors, and a worker
that fails stops the others (torchrun's agent), so none is left waiting."""

from __future__ import annotations

import contextlib
import logging
import os

import click

__all__ = ["in_processes", "launch", "processes_said", "run_directory"]


def launch(nproc: int, threads: int) -> int:
    """Run this command line again in `nproc` processes; their exit status (0, or the first
    failed worker's)."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    argv = click.get_current_context().meta["lstmkit.argv"]
    # the launcher's own chatter (each worker's closing signal, a table of the failure) would
    # bury the worker's one-line error
    logging.getLogger("torch.distributed.elastic").setLevel(logging.CRITICAL)
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))  # torchrun would warn and set 1
    args = get_args_parser().parse_args(
        [
            f"--nproc-per-node={nproc}",
            "--standalone",  # a free port on this machine
            "--monitor-interval=0.2",
            "--module",
            "lstmkit",
        ]
    )
    # set here, not parsed: argparse would read the command's own --nproc as its --nproc-per-node
    args.training_script_args = list(argv)
    try:
        run(args)
    except ChildFailedError as err:
        failures = sorted(err.failures.items(), key=lambda f: f[1].timestamp)
        said = [f for _, f in failures if f.exitcode and f.exitcode > 0]
        if said:  # a process that printed its error (the others, stopped after it, say nothing)
            return said[0].exitcode
        rank, first = failures[0]
        if first.exitcode is not None and first.exitcode < 0:  # killed: it could say nothing
            import signal

            name = signal.Signals(-first.exitcode).name
            click.echo(f"error: process {rank} of {nproc} was stopped by {name}", err=True)
            return 1
        return first.exitcode or 1
    return 0


def in_processes(train) -> None:
    """`train` (a task's TrainConfig) asks for nproc > 1 and this process is not one of several
    yet: run the command in that many, and exit with their status."""
    from .. import distributed

    if train.nproc > 1 and not distributed.launched():
        raise SystemExit(launch(train.nproc, train.threads))


@contextlib.contextmanager
def run_directory(folder, overwrite: bool, resume: bool):
    """Yields (stage, lead). The processes' group joined (distributed.start; one process: none),
    the run's stage (rundir.transaction) is opened by process 0 alone, the lead, which writes
    the run and prints; the others get its path (to resume from its checkpoint) or its refusal,
    so that none waits for a process that stopped. After a success every process waits for the
    others before the commit and leaves the group after it; an error leaves at once (a process
    that failed alone must not wait at a barrier its peers never reach)."""
    from .. import distributed
    from ..rundir import transaction

    distributed.start()
    with contextlib.ExitStack() as stack:

        def opened():
            if distributed.rank() == 0:
                return stack.enter_context(transaction(folder, overwrite=overwrite, resume=resume))
            return None

        yield distributed.broadcast(distributed.agree(opened)), distributed.rank() == 0
        distributed.agree(lambda: None)  # every process done before the run is committed
    distributed.stop()


def processes_said() -> str:
    """ ", N processes" for the command's first line, where there are several."""
    from .. import distributed

    return f", {distributed.world()} processes" if distributed.active() else ""
