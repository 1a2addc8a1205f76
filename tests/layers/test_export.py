"""Every cell through torch.jit.trace, torch.export, torch.onnx (run in onnxruntime),
torch.compile, torch.jit.script and quantize_dynamic, each checked against eager numbers."""

from __future__ import annotations

import io
import warnings

import pytest
import torch
from torch import nn

import lstmkit
from lstmkit import CELLS, LSTM, LstmkitError

I, H = 3, 5
STANDARD = ("lstm", "gru", "rnn", "rnn_relu")


def states(s):
    return [s] if isinstance(s, torch.Tensor) else list(s)


class WithState(nn.Module):
    """The layer with its state as explicit inputs and outputs (what a streaming graph needs)."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x, hx: tuple):
        out, state = self.layer(x, hx[0] if len(hx) == 1 else hx)
        return (out, *states(state))


def model_and_inputs(cell, length=7, batch=2, seed=0, num_layers=2):
    torch.manual_seed(seed)
    layer = LSTM(I, H, num_layers, bidirectional=True, cell=cell).eval()
    x = torch.randn(length, batch, I)
    L_D = 2 * num_layers
    hx = tuple(torch.randn(L_D, batch, s) for s in layer.cell_type.state_sizes(H))
    return WithState(layer).eval(), x, hx


def assert_all_close(got, want, tol=1e-5):
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(torch.as_tensor(g), w, rtol=tol, atol=tol)


@pytest.mark.parametrize("cell", list(CELLS))
def test_jit_trace_keeps_the_time_and_batch_axes(cell):
    model, x, hx = model_and_inputs(cell)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(model, (x, hx))
        _, x2, hx2 = model_and_inputs(cell, length=11, batch=4, seed=1)
        assert_all_close(traced(x2, hx2), model(x2, hx2))


@pytest.mark.parametrize("cell", list(CELLS))
def test_torch_export(cell):
    model, x, hx = model_and_inputs(cell)
    program = torch.export.export(model, (x, hx))
    _, x2, hx2 = model_and_inputs(cell, seed=1)
    with torch.no_grad():
        assert_all_close(program.module()(x2, hx2), model(x2, hx2))


def run_onnx(f, names, arrays):
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(f, providers=["CPUExecutionProvider"])
    inputs = [i.name for i in session.get_inputs()]
    return session.run(None, {n: a.numpy() for n, a in zip(inputs, arrays, strict=True)})


@pytest.mark.parametrize("cell", STANDARD)
def test_onnx_standard_cells_dynamic_time_and_batch(cell):
    """torch.onnx.export (TorchScript exporter): one ONNX LSTM/GRU/RNN op per layer, with
    dynamic time and batch axes and the state in and out."""
    pytest.importorskip("onnxruntime")
    model, x, hx = model_and_inputs(cell)
    names = ["x"] + [f"{n}0" for n in model.layer.cell_type.state_names]
    axes = {"x": {0: "L", 1: "N"}} | {n: {1: "N"} for n in names[1:]}
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (x, hx), buffer, dynamo=False, input_names=names, dynamic_axes=axes
        )
    _, x2, hx2 = model_and_inputs(cell, length=11, batch=4, seed=1)
    with torch.no_grad():
        assert_all_close(run_onnx(buffer.getvalue(), names, [x2, *hx2]), model(x2, hx2))


@pytest.mark.parametrize("cell", [c for c in CELLS if c not in STANDARD])
def test_onnx_variants_dynamic_batch(cell):
    """torch.onnx.export (dynamo exporter) of a variant: its steps are unrolled, so the time
    axis is the one exported with; the batch axis stays dynamic. State in and out."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    model, x, hx = model_and_inputs(cell, length=4, num_layers=1)  # unrolled: keep it short
    batch = torch.export.Dim("N", min=1, max=1024)
    shapes = ({1: batch}, tuple({1: batch} for _ in hx))
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            model, (x, hx), dynamo=True, dynamic_shapes=shapes, verbose=False
        )
    buffer = io.BytesIO()
    program.save(buffer)
    _, x2, hx2 = model_and_inputs(cell, length=4, batch=5, seed=1, num_layers=1)
    with torch.no_grad():
        assert_all_close(run_onnx(buffer.getvalue(), None, [x2, *hx2]), model(x2, hx2))


@pytest.mark.parametrize("cell", list(CELLS))
def test_torch_compile_trains_like_eager(cell):
    """torch.compile: loss and every gradient as eager (the layer runs eagerly between compiled
    graphs, as torch.nn.LSTM does under dynamo)."""
    torch.manual_seed(0)
    layer = LSTM(I, H, 2, bidirectional=True, cell=cell)
    head = nn.Linear(2 * H, 1)
    x, y = torch.randn(6, 4, I), torch.randn(6, 4, 1)

    def loss_of(run):
        return nn.functional.mse_loss(head(run(x)[0]).tanh(), y)

    torch._dynamo.reset()
    compiled = torch.compile(lambda x: layer(x))
    grads = []
    losses = []
    for run in (compiled, layer):
        layer.zero_grad()
        head.zero_grad()
        loss = loss_of(run)
        loss.backward()
        losses.append(loss.detach())
        grads.append([p.grad.clone() for p in (*layer.parameters(), *head.parameters())])
    torch.testing.assert_close(losses[0], losses[1], rtol=1e-5, atol=1e-5)
    assert_all_close(grads[0], grads[1])


def call_scripted(module, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return torch.jit.script(module)(x)[0]
        except Exception as error:
            return error


@pytest.mark.parametrize("cell", STANDARD)
def test_jit_script_standard_cells_as_torch(cell):
    """torch.jit.script treats a standard cell as torch's own module (it is scripted as one,
    with the same weights): the same output where torch's scripts and runs, the same failure
    where it does not (torch 2.13's scripted RNN modules lose `forward`)."""
    torch.manual_seed(0)
    layer = LSTM(I, H, 2, bidirectional=True, cell=cell).eval()
    x = torch.randn(7, 2, I)
    ours, theirs = call_scripted(layer, x), call_scripted(layer.to_torch(), x)
    if isinstance(theirs, Exception):
        assert type(ours) is type(theirs) and str(ours) == str(theirs)
    else:
        assert_all_close([ours], [theirs])


def test_jit_script_variant_says_what_works():
    with pytest.raises(LstmkitError, match=r"torch\.jit\.trace"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(LSTM(I, H, cell="peephole"))


def test_quantize_dynamic_through_to_torch():
    """quantize_dynamic matches classes exactly, so it leaves lstmkit's layer in float (pinned
    here); lstmkit.layers.to_torch hands it torch's modules with the same weights first."""
    torch.manual_seed(0)
    model = nn.Sequential()
    model.add_module("rnn", LSTM(I, H, 2))
    x = torch.randn(7, 2, I)
    untouched = torch.ao.quantization.quantize_dynamic(model, {nn.LSTM, LSTM})
    assert type(untouched.rnn) is LSTM
    converted = lstmkit.layers.to_torch(model)
    assert type(converted.rnn) is nn.LSTM and type(model.rnn) is LSTM  # a copy by default
    quantized = torch.ao.quantization.quantize_dynamic(converted, {nn.LSTM})
    assert type(quantized.rnn) is torch.ao.nn.quantized.dynamic.LSTM
    diff = (quantized.rnn(x)[0] - model.rnn(x)[0]).abs().max().item()
    assert 0 < diff < 0.05  # int8 weights: close, not equal
