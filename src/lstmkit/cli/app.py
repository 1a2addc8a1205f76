"""The `lstmkit` group and what its commands share: one-line errors, thread counts, the console.
A leaf of cli/: the command modules import it, and cli/__init__.py imports them."""

from __future__ import annotations

import contextlib
import functools
import os
import sys

import click
from rich.console import Console

from .._version import __version__
from ..config import LstmkitError, SettingError, cut

console = Console()


def _one_line_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except LstmkitError as err:
            from ..distributed import silent

            if not silent(err):  # over several processes: said once
                click.echo(f"error: {_said(err)}", err=True)
            _leave(2)
        except FloatingPointError as err:  # training diverged: say so in one line
            click.echo(f"error: {err}", err=True)
            _leave(1)
        except OSError as err:  # a full disk, a read-only folder: where, and what the OS said
            where = f"{err.filename}: " if err.filename else ""
            click.echo(f"error: {where}{err.strerror or err}", err=True)
            _leave(1)

    return wrapper


def _said(err: LstmkitError) -> str:
    """The one line; a SettingError names its field, and here the field's option."""
    text = str(err)
    if isinstance(err, SettingError):
        from .options import OPTION_OF

        # the message, already one bounded line (LstmkitError), with the option for the field
        text = OPTION_OF.get(err.field, err.field) + text[len(err.field) :]
    return text


def _leave(status: int):
    """Exit with `status`. One of several processes leaves at once (its files and its run
    directory are settled by now): the process group's threads, torn down at a normal exit
    while the peers are still connected, abort the process now and then ("terminate called
    without an active exception"), and torchrun would report that signal instead of the error."""
    from ..distributed import active

    if active():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


@contextlib.contextmanager
def refused_if_inconsistent(run_dir):
    """Around the use of a run directory from disk: it is untrusted input, and a crafted one can
    be self-consistent enough to load (every file, type and shape checked) yet hold values that
    disagree deep inside (a calibration without its offsets). Such a run is refused in one line
    rather than shown as a traceback."""
    try:
        yield
    except LstmkitError:
        raise
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as err:
        said = cut(f"{type(err).__name__}: {err}", 200)
        raise LstmkitError(
            f"--run: {run_dir}: its files disagree with one another ({said}); refused. A run "
            "directory lstmkit wrote and nobody changed does not do this: please report it"
        ) from None


def _set_threads(threads: int) -> None:
    # One intra-op thread is fastest for small recurrent models on this 2-core machine, and two
    # threads become 10-100x slower whenever anything else runs (oversubscription).
    # here, not at the top: `lstmkit --help` and the statsforecast worker start without it
    import torch

    torch.set_num_threads(threads)


class _OneLineUsage(click.Group):
    """Click's usage errors (an unknown option, a value outside a choice, a missing argument) in one
    line too, as every other bad input: `error: <what click says> (see <command> --help)`."""

    def parse_args(self, ctx, args):
        # the command line as given: `--nproc N` starts it again in N processes (launch.py)
        ctx.meta["lstmkit.argv"] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.UsageError as err:
            where = err.ctx.command_path if err.ctx is not None else ctx.command_path
            click.echo(f"error: {err.format_message()} (see {where} --help)", err=True)
            sys.exit(2)


@click.group(cls=_OneLineUsage, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lstmkit")
def main():
    """lstmkit: LSTM networks, correct to the last equation.

    \b
    lstmkit forecast   train + evaluate a forecaster against naive and linear baselines
    lstmkit predict    forecast past the end of new data, or classify new sequences (a saved run)
    lstmkit classify   train + evaluate a sequence classifier (ECG beats, SMILES) against baselines
    lstmkit explain    gates, cell state and attributions of a saved run, into its report
    lstmkit export     ONNX graphs of a saved run, checked against onnxruntime
    lstmkit serve      saved forecast runs over HTTP: predict, update the state, model card
    lstmkit datasets   the embedded data sets and their provenance
    lstmkit experiment the long-time-lag tasks (adding, temporal order, copy) per cell
    lstmkit cells      the registered cells and what each changes
    lstmkit bench      throughput of every cell beside torch.nn.LSTM
    """
