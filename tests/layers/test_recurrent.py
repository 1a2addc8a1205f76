"""lstmkit.LSTM against torch.nn.LSTM / GRU / RNN, its traces, its contract and its errors."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from conftest import LAYER_SPACE, check_layer, space_id
from lstmkit import CELLS, LSTM, LstmkitError

I, H, T, N = 5, 7, 6, 3
TORCH_PEERS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
TOL = {torch.float32: 1e-5, torch.float64: 1e-10}


def as_list(state):
    return [state] if isinstance(state, torch.Tensor) else list(state)


def pair(cell, num_layers, bidirectional, batch_first, bias, kernel, dtype):
    torch.manual_seed(0)
    peer = TORCH_PEERS[cell](
        I,
        H,
        num_layers=num_layers,
        bias=bias,
        batch_first=batch_first,
        bidirectional=bidirectional,
        dtype=dtype,
    )
    ours = LSTM(
        I,
        H,
        num_layers,
        bias,
        batch_first,
        bidirectional=bidirectional,
        cell=cell,
        kernel=kernel,
        dtype=dtype,
    )
    ours.load_state_dict(peer.state_dict())
    return peer, ours


def two_calls(module, x1, x2):
    """Run two chunks with the state carried over, and a loss that reads everything."""
    out1, s1 = module(x1)
    out2, s2 = module(x2, s1)
    loss = out1.square().sum() + out2.sin().sum() + sum(s.cos().sum() for s in as_list(s2))
    loss.backward()
    return [out1, out2, *as_list(s2)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("kernel", ["fused", "loop"])
@pytest.mark.parametrize("space", LAYER_SPACE, ids=space_id)
@pytest.mark.parametrize("cell", list(TORCH_PEERS))
def test_parity_with_torch(cell, space, kernel, dtype):
    num_layers, bidirectional, batch_first, bias = space
    peer, ours = pair(cell, num_layers, bidirectional, batch_first, bias, kernel, dtype)
    shape = (N, T, I) if batch_first else (T, N, I)
    x1, x2 = torch.randn(shape, dtype=dtype), torch.randn(shape, dtype=dtype)
    want, got = two_calls(peer, x1, x2), two_calls(ours, x1, x2)
    tol = TOL[dtype]
    for w, g in zip(want, got, strict=True):
        torch.testing.assert_close(g, w, rtol=tol, atol=tol)
    peer_params = dict(peer.named_parameters())
    for name, param in ours.named_parameters():
        torch.testing.assert_close(param.grad, peer_params[name].grad, rtol=tol, atol=tol, msg=name)


@pytest.mark.parametrize("cell", list(TORCH_PEERS))
def test_state_dict_interchanges_both_ways(cell):
    peer = TORCH_PEERS[cell](I, H, num_layers=2, bidirectional=True)
    ours = LSTM(I, H, 2, bidirectional=True, cell=cell)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: v.shape for k, v in peer.state_dict().items()
    }
    assert list(ours.state_dict()) == list(peer.state_dict())  # same keys, same order
    peer.load_state_dict(ours.state_dict())  # strict: ours -> torch
    x = torch.randn(T, N, I)
    torch.testing.assert_close(ours(x)[0], peer(x)[0], rtol=0, atol=0)
    other = LSTM(I, H, 2, bidirectional=True, cell=cell)
    other.load_state_dict(peer.state_dict())  # torch -> ours
    torch.testing.assert_close(other(x)[0], peer(x)[0], rtol=0, atol=0)


@pytest.mark.parametrize("cell", list(TORCH_PEERS))
def test_unbatched_input_matches_torch(cell):
    peer, ours = pair(cell, 2, True, False, True, "loop", torch.float64)
    x = torch.randn(T, I, dtype=torch.float64)
    out_p, s_p = peer(x)
    out_o, s_o = ours(x)
    torch.testing.assert_close(out_o, out_p)
    for a, b in zip(as_list(s_o), as_list(s_p), strict=True):
        torch.testing.assert_close(a, b)
    out_o2, _ = ours(x, s_o)  # an unbatched state goes back in
    torch.testing.assert_close(out_o2, peer(x, s_p)[0])


@pytest.mark.parametrize("cell", list(CELLS))
def test_gate_traces_reproduce_the_output(cell):
    torch.manual_seed(0)
    layer = LSTM(I, H, num_layers=2, bidirectional=True, batch_first=True, cell=cell)
    x = torch.randn(N, T, I)
    output, _ = layer(x)
    out2, _, gates = layer(x, return_gates=True)
    torch.testing.assert_close(out2, output, rtol=1e-6, atol=1e-6)  # traced run == fast run
    assert set(gates) == set(layer.cell_type.trace_names)
    for value in gates.values():
        assert value.shape[:3] == (4, N, T)  # (num_layers * D, N, L, ·)
    # The last layer's traced h, both directions side by side, is the output.
    torch.testing.assert_close(
        torch.cat([gates["h"][2], gates["h"][3]], -1), output, rtol=1e-6, atol=1e-6
    )
    if {"o", "c"} <= set(gates) and cell not in ("noaf", "article"):
        torch.testing.assert_close(
            gates["o"] * torch.tanh(gates["c"]), gates["h"], rtol=1e-6, atol=1e-6
        )


def test_final_state_is_the_last_traced_step():
    layer = LSTM(I, H, num_layers=2, bidirectional=True)
    _, (h_n, c_n), gates = layer(torch.randn(T, N, I), return_gates=True)
    for d in range(4):
        t = -1 if d % 2 == 0 else 0  # the reverse direction ends at the first time step
        torch.testing.assert_close(gates["h"][d, t], h_n[d], rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(gates["c"][d, t], c_n[d], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize(
    "config", [dict(), dict(num_layers=2, bidirectional=True, batch_first=True)], ids=["1", "2bi"]
)
def test_layer_contract(cell, config):
    torch.manual_seed(0)
    layer = LSTM(I, H, cell=cell, **config)
    shapes = layer.cell_type.parameter_shapes
    D = 2 if config.get("bidirectional") else 1
    n_params = (
        sum(
            torch.Size(s).numel()
            for k in range(config.get("num_layers", 1))
            for s in shapes(I if k == 0 else D * H, H).values()
        )
        * D
    )
    x = torch.randn((N, T, I) if config.get("batch_first") else (T, N, I))
    expected = (N, T, D * H) if config.get("batch_first") else (T, N, D * H)
    check_layer(layer, x, expected, n_params)


def test_peephole_parameter_count_is_lstm_plus_3h():
    assert (
        sum(p.numel() for p in LSTM(I, H, cell="peephole").parameters())
        == sum(p.numel() for p in nn.LSTM(I, H).parameters()) + 3 * H
    )


def test_dropout_with_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="num_layers=1"):
        LSTM(I, H, dropout=0.2)
    with pytest.warns(UserWarning, match="num_layers=1"):
        nn.LSTM(I, H, dropout=0.2)


def test_dropout_acts_in_training_only():
    for kernel in ("fused", "loop"):
        layer = LSTM(I, H, num_layers=2, dropout=0.5, kernel=kernel)
        x = torch.randn(T, N, I)
        layer.train()
        assert not torch.equal(layer(x)[0], layer(x)[0])
        layer.eval()
        torch.testing.assert_close(layer(x)[0], layer(x)[0], rtol=0, atol=0)


def test_repr_shows_only_non_defaults():
    assert repr(LSTM(3, 4)) == "LSTM(3, 4)"
    assert repr(LSTM(3, 4, num_layers=2, cell="gru")) == "LSTM(3, 4, num_layers=2, cell='gru')"


BAD = [
    (lambda: LSTM(I, H)(torch.randn(2, 3, 4, I)), "input", "got 4-D"),
    (lambda: LSTM(I, H)(torch.randn(T, N, I + 1)), "input", "input_size=5, got 6"),
    (lambda: LSTM(I, H)([[1.0]]), "input", "torch.Tensor"),
    (lambda: LSTM(I, H)(torch.randn(T, N, I, dtype=torch.float64)), "input", "dtype"),
    (lambda: LSTM(I, H)(torch.randn(0, N, I)), "input", "empty"),
    (
        lambda: LSTM(I, H)(torch.randn(T, N, I), (torch.zeros(2, N, H), torch.zeros(1, N, H))),
        "hx",
        "h_0 must have shape (1, 3, 7)",
    ),
    (lambda: LSTM(I, H)(torch.randn(T, N, I), torch.zeros(1, N, H)), "hx", "(h_0, c_0)"),
    (
        lambda: LSTM(I, H, cell="gru")(torch.randn(T, N, I), (torch.zeros(1, N, H),) * 2),
        "hx",
        "h_0",
    ),
    (lambda: LSTM(I, H, cell="lsmt"), "cell", "expected one of: lstm, peephole"),
    (lambda: LSTM(I, H, num_layers=2, dropout=1.5), "dropout", "[0, 1]"),
    (lambda: LSTM(I, 0), "hidden_size", "positive integer"),
    (lambda: LSTM(I, H, num_layers=2.0), "num_layers", "expected an int, got float 2.0"),
    (lambda: LSTM(I, H, cell="peephole", kernel="fused"), "kernel", "lstm, rnn, rnn_relu, gru;"),
    (lambda: LSTM(I, H, batch_first="False"), "batch_first", "expected a bool"),
    (lambda: LSTM(I, H, proj_size=H), "proj_size", "smaller than hidden_size=7"),
    (lambda: LSTM(I, H, proj_size=2, cell="gru"), "proj_size", "LSTM-family"),
    (lambda: LSTM(I, H, nonlinearity="relu"), "nonlinearity", "cell='rnn'"),
    (lambda: LSTM(I, H, kernel="cudnn"), "kernel", "auto, fused, loop, python"),
]


@pytest.mark.parametrize(
    "make, argument, detail", BAD, ids=[f"{b[1]}-{k}" for k, b in enumerate(BAD)]
)
def test_bad_arguments_raise_one_line_errors(make, argument, detail):
    with pytest.raises(LstmkitError) as err:
        make()
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(argument + ":")
    assert detail in message


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device (run on the lent GPU)"
)
@pytest.mark.parametrize("cell", list(TORCH_PEERS))
def test_cuda_fused_and_loop_match_torch(cell):
    peer, ours = pair(cell, 2, True, True, True, "fused", torch.float64)
    peer, ours = peer.cuda(), ours.cuda()
    loop = LSTM(
        I, H, 2, True, True, bidirectional=True, cell=cell, kernel="loop", dtype=torch.float64
    ).cuda()
    loop.load_state_dict(peer.state_dict())
    x1, x2 = torch.randn(2, N, T, I, dtype=torch.float64, device="cuda")
    want = two_calls(peer, x1, x2)
    for module in (ours, loop):
        for w, g in zip(want, two_calls(module, x1, x2), strict=True):
            torch.testing.assert_close(g, w, rtol=1e-9, atol=1e-9)


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device (run on the lent GPU)"
)
@torch.backends.cudnn.flags(enabled=True, allow_tf32=False)  # TF32 (on by default since Ampere)
def test_cuda_weights_are_flattened_for_cudnn():  # put cuDNN ~5e-5 away from the float32 loop
    layer = LSTM(I, H, num_layers=2, bidirectional=True).cuda()
    x = torch.randn(T, N, I, device="cuda")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "weights are not part of single contiguous chunk"
        layer(x)[0].sum().backward()
    peer = nn.LSTM(I, H, num_layers=2, bidirectional=True).cuda()
    layer.load_state_dict(peer.state_dict())  # loading copies into the flat buffer in place
    torch.testing.assert_close(layer(x)[0], peer(x)[0])
    _, _, gates = layer(x, return_gates=True)  # the traced loop on CUDA too
    torch.testing.assert_close(
        torch.cat([gates["h"][2], gates["h"][3]], -1), peer(x)[0], rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("kernel", ["loop", "python"])
@pytest.mark.parametrize("cell", list(CELLS))
def test_a_loss_on_any_one_output_alone_backpropagates(cell, kernel):
    """A loss on c_n alone (h and the output unused) once crashed the scripted loop's backward
    from the third call on ("mat1 and mat2 shapes cannot be multiplied": TorchScript's chunk
    rule and an undefined gradient). Each output alone, several calls, against the python loop."""
    torch.manual_seed(0)
    layer = LSTM(2, 4, 2, bidirectional=True, cell=cell, kernel=kernel, dtype=torch.float64)
    plain = LSTM(2, 4, 2, bidirectional=True, cell=cell, kernel="python", dtype=torch.float64)
    plain.load_state_dict(layer.state_dict())
    x = torch.randn(3, 2, 2, dtype=torch.float64)
    for _ in range(3):
        for k in range(1 + len(layer.cell_type.state_names)):
            grads = []
            for module in (layer, plain):
                out, state = module(x)
                loss = [out, *as_list(state)][k].sin().sum()
                grads.append(
                    torch.autograd.grad(loss, list(module.parameters()), allow_unused=True)
                )
            for a, b in zip(*grads, strict=True):
                if b is None:
                    assert a is None or not a.any()
                else:
                    torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
