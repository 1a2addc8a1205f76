"""ONNX graphs of lstmkit's modules, checked against PyTorch in onnxruntime before they are kept.

    result = to_onnx(module, args, names, path, checks)

exports `module` called on `args` with torch.onnx's TorchScript-based exporter (its LSTM, GRU
and RNN become one ONNX op each, with dynamic batch and time axes), then runs every argument
tuple in `checks` (other batch sizes and lengths than `args`: a frozen axis fails there) in
onnxruntime beside the module. Where the legacy exporter's graph is missing or wrong, the dynamo
exporter is tried (pytorch #133751-style limits differ between the two; Darts forces the legacy
one, the dynamo one once fixed the time axis of a bidirectional LSTM). The first graph within
`tol` of PyTorch on every check is written; none is a one-line error naming the largest
difference. Needs the extra `lstmkit[export]` (onnx, onnxruntime, onnxscript).
"""

from __future__ import annotations

import io
import pathlib
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from .config import LstmkitError
from .runs import atomic_write

__all__ = ["Names", "session", "to_onnx"]


@dataclass(frozen=True)
class Names:
    """The graph's input and output names, and which axes of each are dynamic."""

    inputs: list[str]
    outputs: list[str]
    dynamic: dict[str, dict[int, str]]


def session(model: bytes | str):
    """An onnxruntime session on one thread (the latency a single request sees)."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise LstmkitError(
            "export: onnxruntime is not installed; pip install 'lstmkit[export]'"
        ) from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _numpy(args) -> list[np.ndarray]:
    return [a.detach().cpu().numpy() for a in args]


def _legacy(module, args, names: Names) -> bytes:
    buffer = io.BytesIO()
    torch.onnx.export(
        module,
        tuple(args),
        buffer,
        dynamo=False,
        input_names=names.inputs,
        output_names=names.outputs,
        dynamic_axes=names.dynamic,
        opset_version=17,
    )
    return buffer.getvalue()


def _dynamo(module, args, names: Names) -> bytes:
    dims: dict[str, torch.export.Dim] = {}
    shapes = []
    for name in names.inputs:
        axes = names.dynamic.get(name, {})
        shapes.append(
            {k: dims.setdefault(v, torch.export.Dim(v, min=1, max=2**20)) for k, v in axes.items()}
            or None
        )
    program = torch.onnx.export(
        module,
        tuple(args),
        dynamo=True,
        dynamic_shapes=tuple(shapes),
        input_names=names.inputs,
        output_names=names.outputs,
        verbose=False,
    )
    buffer = io.BytesIO()
    program.save(buffer)
    return buffer.getvalue()


def difference(model: bytes, module, names: Names, checks) -> float:
    """The largest |onnxruntime - PyTorch| over every output of every check (NaN where the
    other is NaN counts as equal; NaN against a number as infinite)."""
    ort = session(model)
    worst = 0.0
    for args in checks:
        with torch.no_grad():
            want = module(*args)
        want = (want,) if isinstance(want, torch.Tensor) else want
        got = ort.run(None, dict(zip(names.inputs, _numpy(args), strict=True)))
        for g, w in zip(got, _numpy(want), strict=True):
            if g.shape != w.shape:
                return float("inf")
            g, w = g.astype(np.float64), w.astype(np.float64)
            if (np.isnan(g) != np.isnan(w)).any():
                return float("inf")
            both = ~np.isnan(w)
            if both.any():
                worst = max(worst, float(np.abs(g[both] - w[both]).max()))
    return worst


def to_onnx(module, args, names: Names, path, checks, tol: float = 1e-5, what: str = "graph"):
    """Write the ONNX graph of `module` to `path` once it matches PyTorch on every check within
    `tol`: {"exporter", "max_abs_diff", "checks"}; a one-line error otherwise."""
    module = module.eval()
    tried = []
    for exporter, export in (("torchscript", _legacy), ("dynamo", _dynamo)):
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                model = export(module, args, names)
            diff = difference(model, module, names, checks)
        except LstmkitError:
            raise
        except Exception as err:  # each exporter fails in its own ways (unsupported op, shape)
            tried.append(f"{exporter}: {type(err).__name__}: {str(err).splitlines()[0][:150]}")
            continue
        if diff <= tol:
            atomic_write(path, lambda tmp, model=model: pathlib.Path(tmp).write_bytes(model))
            return {"exporter": exporter, "max_abs_diff": diff, "checks": len(checks)}
        tried.append(f"{exporter}: differs from PyTorch by {diff:.3g} (> {tol:g})")
    raise LstmkitError(
        f"export: {what}: no exporter gave a graph that matches PyTorch ({'; '.join(tried)})"
    )
