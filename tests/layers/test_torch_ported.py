"""PyTorch's own RNN checks, ported to lstmkit.LSTM / GRU / RNN (written anew, not copied).

Each test names the PyTorch test it ports: `test_nn.py::TestNN::<name>` or the samples of
`test_modules.py` (`module_inputs_torch_nn_LSTM` / `_GRU` / `_RNN`). Every check runs the same
call on torch's module and ours: same values, same gradients, same exception types.
"""

from __future__ import annotations

import io
import itertools
import pickle
import warnings

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import lstmkit
from lstmkit import LstmkitError

F64 = torch.float64
I, H, P, T, N = 4, 6, 3, 5, 3
OURS = {"lstm": lstmkit.LSTM, "gru": lstmkit.GRU, "rnn": lstmkit.RNN}
TORCH = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


def states(s):
    return [s] if isinstance(s, torch.Tensor) else list(s)


def twins(mode, *args, kernel="auto", **kwargs):
    """torch's module and ours, built with the same arguments and holding the same weights."""
    torch.manual_seed(0)
    peer = TORCH[mode](*args, **kwargs)
    ours = OURS[mode](*args, **kwargs, kernel=kernel)
    ours.load_state_dict(peer.state_dict())
    return peer, ours


def random_hx(mode, L_D, batch, hidden, proj=0, dtype=F64):
    h = torch.randn(L_D, batch, proj or hidden, dtype=dtype)
    return (h, torch.randn(L_D, batch, hidden, dtype=dtype)) if mode == "lstm" else h


def assert_same_run(peer, ours, x, hx, tol=1e-10):
    """Outputs, final states and every gradient (input, state, weights) agree."""
    results = []
    for module in (peer, ours):
        module.zero_grad()
        xx = x.detach().clone().requires_grad_(True) if isinstance(x, torch.Tensor) else x
        hh = None if hx is None else [s.detach().clone().requires_grad_(True) for s in states(hx)]
        h_in = None if hh is None else (hh[0] if len(hh) == 1 else tuple(hh))
        out, s = module(xx, h_in)
        data = out.data if isinstance(out, nn.utils.rnn.PackedSequence) else out
        loss = data.sin().sum() + sum(t.cos().sum() for t in states(s))
        loss.backward()
        grads = [p.grad for p in module.parameters()]
        extra = [xx.grad] if isinstance(xx, torch.Tensor) else []
        extra += [t.grad for t in hh] if hh is not None else []
        results.append([data, *states(s), *grads, *extra])
    for want, got in zip(*results, strict=True):
        torch.testing.assert_close(got, want, rtol=tol, atol=tol)


# ---- test_modules.py: the samples of nn.LSTM / nn.GRU / nn.RNN ------------------------------

SAMPLES = (
    [
        ("lstm", dict(num_layers=n, bias=b, batch_first=bf, bidirectional=bi, proj_size=p))
        for n, b, bf, bi, p in itertools.product(
            [1, 2], [True, False], [False, True], [False, True], [0, P]
        )
    ]
    + [
        ("gru", dict(num_layers=n, bias=b, batch_first=bf, bidirectional=bi))
        for n, b, bf, bi in itertools.product([1, 2], [True, False], [False, True], [False, True])
    ]
    + [
        ("rnn", dict(num_layers=n, bias=b, batch_first=bf, bidirectional=bi, nonlinearity=nl))
        for n, b, bf, bi, nl in itertools.product(
            [1, 2], [True, False], [False, True], [False, True], ["tanh", "relu"]
        )
    ]
)


def sample_id(sample):
    mode, kw = sample
    return (
        mode
        + "-"
        + "-".join(f"{k[:2]}{int(v) if isinstance(v, bool) else v}" for k, v in kw.items())
    )


@pytest.mark.parametrize("kernel", ["fused", "loop"])
@pytest.mark.parametrize("sample", SAMPLES, ids=[sample_id(s) for s in SAMPLES])
def test_module_samples_forward_and_grad(sample, kernel):
    """test_modules.py::test_forward and ::test_grad on every sample: batched and unbatched
    input, with and without hx."""
    mode, kw = sample
    peer, ours = twins(mode, I, H, dtype=F64, **kw)
    D = 2 if kw["bidirectional"] else 1
    L_D = kw["num_layers"] * D
    x = torch.randn((N, T, I) if kw["batch_first"] else (T, N, I), dtype=F64)
    assert_same_run(peer, ours, x, None)
    assert_same_run(peer, ours, x, random_hx(mode, L_D, N, H, kw.get("proj_size", 0)))
    x1 = torch.randn(T, I, dtype=F64)  # unbatched
    h1 = random_hx(mode, L_D, 1, H, kw.get("proj_size", 0))
    h1 = tuple(s[:, 0] for s in h1) if mode == "lstm" else h1[:, 0]
    assert_same_run(peer, ours, x1, h1)


@pytest.mark.parametrize("mode", list(OURS))
def test_module_gradgrad(mode):
    """test_modules.py::test_gradgrad: second derivatives against finite differences."""
    torch.manual_seed(0)
    ours = OURS[mode](2, 3, num_layers=2, bidirectional=True, dtype=F64)
    x = torch.randn(3, 2, 2, dtype=F64, requires_grad=True)
    params = tuple(ours.parameters())

    def f(x, *weights):
        with torch.nn.utils.stateless._reparametrize_module(
            ours, dict(zip([n for n, _ in ours.named_parameters()], weights, strict=True))
        ):
            return ours(x)[0]

    torch.autograd.gradcheck(f, (x, *params))
    torch.autograd.gradgradcheck(f, (x, *params))


@pytest.mark.parametrize("mode", list(OURS))
def test_module_pickle_and_repr(mode):
    """test_modules.py::test_pickle and ::test_repr: a pickled module computes the same, and its
    repr is torch's."""
    peer, ours = twins(mode, I, H, num_layers=2, bidirectional=True)
    x = torch.randn(T, N, I)
    buffer = io.BytesIO()
    torch.save(ours, buffer)
    buffer.seek(0)
    restored = torch.load(buffer, weights_only=False)
    torch.testing.assert_close(restored(x)[0], ours(x)[0], rtol=0, atol=0)
    torch.testing.assert_close(pickle.loads(pickle.dumps(ours))(x)[0], ours(x)[0], rtol=0, atol=0)
    assert repr(ours) == repr(peer)


@pytest.mark.parametrize("mode", list(OURS))
def test_module_non_contiguous_inputs(mode):
    """test_modules.py::test_non_contig: transposed input and state give the same result."""
    peer, ours = twins(mode, I, H, num_layers=2, dtype=F64)
    x = torch.randn(N, T, I, dtype=F64).transpose(0, 1)  # (T, N, I), not contiguous
    h = torch.randn(N, 2, H, dtype=F64).transpose(0, 1)
    hx = (h, torch.randn(N, 2, H, dtype=F64).transpose(0, 1)) if mode == "lstm" else h
    assert not x.is_contiguous()
    assert_same_run(peer, ours, x, hx)
    assert_same_run(ours, ours, x.contiguous(), hx)


# ---- test_nn.py ----------------------------------------------------------------------------

ERRORS = [
    # (mode, constructor kwargs, call(input maker, state maker)) where torch raises
    ("lstm", {}, lambda: (torch.randn(T, N, I + 1), None)),  # input size
    ("gru", {}, lambda: (torch.randn(T, N, I + 1), None)),
    ("rnn", {}, lambda: (torch.randn(T, N, I + 1), None)),
    ("lstm", {}, lambda: (torch.randn(T, N, I), (torch.zeros(1, N + 1, H), torch.zeros(1, N, H)))),
    ("lstm", {}, lambda: (torch.randn(T, N, I), (torch.zeros(1, N, H), torch.zeros(1, N, H + 1)))),
    ("lstm", {}, lambda: (torch.randn(T, N, I), (torch.zeros(2, N, H), torch.zeros(2, N, H)))),
    ("gru", {}, lambda: (torch.randn(T, N, I), torch.zeros(1, N + 1, H))),
    ("rnn", {}, lambda: (torch.randn(T, N, I), torch.zeros(2, N, H))),
    ("gru", {}, lambda: (torch.randn(T, N, I), torch.zeros(1, N, H + 1))),
    (
        "lstm",
        {"proj_size": P},
        lambda: (torch.randn(T, N, I), (torch.zeros(1, N, H), torch.zeros(1, N, H))),
    ),
    (
        "lstm",
        {"proj_size": P},
        lambda: (torch.randn(T, N, I), (torch.zeros(1, N, P), torch.zeros(1, N, P))),
    ),
    ("lstm", {}, lambda: (torch.randn(2, T, N, I), None)),  # 4-D input: ValueError
    ("gru", {}, lambda: (torch.randn(T, N, I, dtype=F64), None)),  # dtype: ValueError
    ("lstm", {}, lambda: (torch.randn(0, N, I), None)),  # zero length
]


@pytest.mark.parametrize(
    "mode, kwargs, make", ERRORS, ids=[f"{e[0]}-{k}" for k, e in enumerate(ERRORS)]
)
def test_rnn_args_check(mode, kwargs, make):
    """test_nn.py::test_rnn_args_check and ::test_projections_lstm_args_check: wrong input and
    hidden sizes raise what torch raises (here with a one-line message naming the argument)."""
    peer, ours = twins(mode, I, H, **kwargs)
    x, hx = make()
    with pytest.raises(Exception) as torch_error:
        peer(x, hx)
    with pytest.raises(type(torch_error.value)) as our_error:
        ours(x, hx)
    assert isinstance(our_error.value, LstmkitError)
    assert "\n" not in str(our_error.value)


CONSTRUCTOR_ERRORS = [
    dict(dropout=1.5),
    dict(dropout=-0.1),
    dict(dropout=True),
    dict(bias="yes"),
    dict(batch_first="False"),
    dict(hidden_size=0),
    dict(hidden_size=2.0),
    dict(input_size=0),
    dict(input_size="4"),
    dict(num_layers=0),
    dict(proj_size=-1),
    dict(proj_size=H),
]


@pytest.mark.parametrize(
    "kwargs", CONSTRUCTOR_ERRORS, ids=lambda kw: "-".join(map(str, kw.items()))
)
def test_rnn_constructor_args_check(kwargs):
    """test_nn.py::test_rnn_args_check (constructor part), ::test_invalid_dropout_p: the same
    exception type as torch for each bad argument."""
    args = dict(input_size=I, hidden_size=H) | kwargs
    with pytest.raises(Exception) as torch_error:
        nn.LSTM(**args)
    with pytest.raises(type(torch_error.value)) as our_error:
        lstmkit.LSTM(**args)
    assert str(our_error.value).split(":")[0] in kwargs  # the message names the argument


def test_rnn_proj_only_for_lstm_and_nonlinearity_checked():
    """test_nn.py::test_RNN_nonlinearity and the proj_size checks: ValueError as torch."""
    for ours, peer in (
        (
            lambda: lstmkit.RNN(I, H, nonlinearity="sigmoid"),
            lambda: nn.RNN(I, H, nonlinearity="sigmoid"),
        ),
    ):
        with pytest.raises(ValueError):
            peer()
        with pytest.raises(ValueError):
            ours()
    with pytest.raises(ValueError):
        nn.GRU(I, H, proj_size=2)
    with pytest.raises(ValueError):
        lstmkit.LSTM(I, H, proj_size=2, cell="gru")


@pytest.mark.parametrize("mode", list(OURS))
def test_rnn_initial_hidden_state(mode):
    """test_nn.py::test_rnn_initial_hidden_state (and the projection variant): no hx is hx=0."""
    for kwargs in [{}, {"proj_size": P}] if mode == "lstm" else [{}]:
        _, ours = twins(mode, I, H, num_layers=2, **kwargs)
        x = torch.randn(T, N, I)
        zeros = random_hx(mode, 2, N, H, kwargs.get("proj_size", 0), torch.float32)
        zeros = tuple(torch.zeros_like(s) for s in states(zeros))
        out0, s0 = ours(x)
        out1, s1 = ours(x, zeros[0] if len(zeros) == 1 else zeros)
        torch.testing.assert_close(out0, out1, rtol=0, atol=0)
        for a, b in zip(states(s0), states(s1), strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


CPU_VS_REFERENCE = list(
    itertools.product(
        ["lstm", "lstm-proj", "gru", "rnn", "rnn-relu"],
        [1, 2],
        [False, True],  # bidirectional
        [False, True],  # batch_first
        [False, True],  # packed (variable lengths)
    )
)


@pytest.mark.parametrize("kernel", ["fused", "loop"])
@pytest.mark.parametrize(
    "case",
    CPU_VS_REFERENCE,
    ids=lambda c: "-".join(str(int(v) if isinstance(v, bool) else v) for v in c),
)
def test_RNN_cpu_vs_cudnn_no_dropout(case, kernel):
    """test_nn.py::test_RNN_cpu_vs_cudnn_no_dropout, with torch's CPU module as the reference
    (the CUDA half runs on a GPU in test_recurrent.py): dense and packed input, with hx, every
    output, state and gradient in float64 within 1e-10."""
    name, num_layers, bidirectional, batch_first, packed = case
    mode = name.split("-")[0]
    kwargs = dict(
        num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, dtype=F64
    )
    kwargs |= {"proj_size": P} if name == "lstm-proj" else {}
    kwargs |= {"nonlinearity": "relu"} if name == "rnn-relu" else {}
    peer, ours = twins(mode, I, H, kernel=kernel, **kwargs)
    x = torch.randn((N + 1, T, I) if batch_first else (T, N + 1, I), dtype=F64)
    if packed:
        lengths = torch.tensor([3, T, 1, 4])
        x = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
    L_D = num_layers * (2 if bidirectional else 1)
    assert_same_run(peer, ours, x, random_hx(mode, L_D, N + 1, H, kwargs.get("proj_size", 0)))


@pytest.mark.parametrize("mode", list(OURS))
def test_RNN_cpu_vs_cudnn_with_dropout(mode):
    """test_nn.py::test_RNN_cpu_vs_cudnn_with_dropout, as far as a CPU goes: dropout=1 zeroes the
    input of every upper layer, so the output is the upper layer run on zeros; dropout=0 in
    training is the eval run."""
    for kernel in ("fused", "loop"):
        peer, ours = twins(mode, I, H, num_layers=2, dropout=1.0, kernel=kernel, dtype=F64)
        x = torch.randn(T, N, I, dtype=F64)
        ours.train()
        top = OURS[mode](H, H, dtype=F64)
        top.load_state_dict(
            {k.replace("_l1", "_l0"): v for k, v in ours.state_dict().items() if "_l1" in k}
        )
        torch.testing.assert_close(ours(x)[0], top(torch.zeros(T, N, H, dtype=F64))[0])
        torch.testing.assert_close(ours(x)[0], peer(x)[0])
        ours.dropout = 0.0  # test_RNN_change_dropout: the attribute is read at every call
        train_out = ours(x)[0]
        ours.eval()
        torch.testing.assert_close(ours(x)[0], train_out, rtol=0, atol=0)


@pytest.mark.parametrize("kernel", ["fused", "loop"])
def test_RNN_dropout_state(kernel):
    """test_nn.py::test_RNN_dropout_state: with dropout, training runs differ, eval runs do not,
    and h_n is always the last output of the top layer."""
    ours = lstmkit.LSTM(I, H, num_layers=2, dropout=0.5, kernel=kernel)
    x = torch.randn(T, N, I)
    ours.train()
    (out1, (h1, _)), (out2, _) = ours(x), ours(x)
    assert not torch.equal(out1, out2)
    torch.testing.assert_close(h1[-1], out1[-1])
    ours.eval()
    torch.testing.assert_close(ours(x)[0], ours(x)[0], rtol=0, atol=0)


def test_RNN_dropout_warning():
    """test_nn.py::test_RNN_dropout_warning: dropout with one layer warns, as torch; two
    layers do not."""
    with pytest.warns(UserWarning, match="num_layers=1"):
        lstmkit.GRU(I, H, dropout=0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lstmkit.GRU(I, H, num_layers=2, dropout=0.3)


def test_RNN_nonlinearity_passed_as_arg():
    """test_nn.py::test_RNN_nonlinearity and ::test_RNN_nonlinearity_passed_as_arg."""
    relu = lstmkit.RNN(1, 10, 1, "relu")
    assert relu.nonlinearity == "relu" and relu.mode == "RNN_RELU"
    assert lstmkit.RNN(1, 10).mode == "RNN_TANH"
    out, _ = relu(torch.randn(5, 3, 1))
    assert (out >= 0).all()


@pytest.mark.parametrize("mode", list(OURS))
def test_rnn_weight_norm(mode):
    """test_nn.py::test_rnn_weight_norm: weight_norm on a recurrent weight keeps the output and
    adds one parameter; removing it restores the count."""
    _, ours = twins(mode, I, H, num_layers=2)
    x = torch.randn(T, N, I)
    expected = ours(x)[0]
    count = len(list(ours.parameters()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch deprecates the old helper
        torch.nn.utils.weight_norm(ours, "weight_hh_l0")
    assert len(list(ours.parameters())) == count + 1
    torch.testing.assert_close(ours(x)[0], expected)
    torch.nn.utils.remove_weight_norm(ours, "weight_hh_l0")
    assert len(list(ours.parameters())) == count
    torch.testing.assert_close(ours(x)[0], expected)


@pytest.mark.parametrize("mode", list(OURS))
def test_partial_flat_weights(mode):
    """test_nn.py::test_partial_flat_weights: delete a weight, move the module, put it back."""
    _, ours = twins(mode, I, H, num_layers=2)
    names = ours._flat_weights_names
    assert names == [n for n, _ in ours.named_parameters()]
    weight = ours.weight_ih_l0
    del ours.weight_ih_l0
    assert not hasattr(ours, "weight_ih_l0")
    assert ours._flat_weights[names.index("weight_ih_l0")] is None
    ours.to(F64)  # .to() must survive the missing weight
    ours.weight_ih_l0 = nn.Parameter(weight.detach().to(F64))
    out, _ = ours(torch.randn(T, N, I, dtype=F64))
    assert out.dtype == F64 and torch.isfinite(out).all()
    assert all(w is not None for w in ours._flat_weights)


@pytest.mark.parametrize("mode", list(OURS))
def test_RNN_zero_batch_and_zero_length(mode):
    """test_nn.py::test_RNN_input_size_zero and the zero-batch samples: N=0 gives empty outputs
    of the right shapes, as torch; L=0 is a RuntimeError, as torch."""
    peer, ours = twins(mode, I, H, num_layers=2, bidirectional=True)
    x = torch.randn(T, 0, I)
    (out_p, s_p), (out_o, s_o) = peer(x), ours(x)
    assert out_o.shape == out_p.shape == (T, 0, 2 * H)
    assert [s.shape for s in states(s_o)] == [s.shape for s in states(s_p)]
    for module in (peer, ours):
        with pytest.raises(RuntimeError):
            module(torch.randn(0, N, I))


def test_all_weights_mode_and_flat_weights():
    """test_nn.py::test_RNN_all_weights-style checks of the surface tools read."""
    peer, ours = twins("lstm", I, H, num_layers=2, bidirectional=True, proj_size=P)
    assert ours.mode == peer.mode == "LSTM"
    assert ours.proj_size == P
    assert ours._flat_weights_names == peer._flat_weights_names
    assert [[w.shape for w in ws] for ws in ours.all_weights] == [
        [w.shape for w in ws] for ws in peer.all_weights
    ]
    for a, b in zip(ours._flat_weights, peer._flat_weights, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    ours.flatten_parameters()  # a no-op on the CPU, as torch's
    assert lstmkit.GRU(I, H).mode == "GRU"
    assert lstmkit.LSTM(I, H, cell="peephole").mode == "PEEPHOLE"


def test_proj_state_dict_interchanges_both_ways():
    """weight_hr_l{k} (proj_size) loads from torch and back, strict."""
    peer = nn.LSTM(I, H, num_layers=2, bidirectional=True, proj_size=P)
    ours = lstmkit.LSTM(I, H, num_layers=2, bidirectional=True, proj_size=P)
    assert list(ours.state_dict()) == list(peer.state_dict())
    ours.load_state_dict(peer.state_dict())
    peer.load_state_dict(ours.state_dict())
    x = torch.randn(T, N, I)
    torch.testing.assert_close(ours(x)[0], peer(x)[0], rtol=0, atol=0)
    out, (h, c) = ours(x)
    assert out.shape == (T, N, 2 * P) and h.shape == (4, N, P) and c.shape == (4, N, H)


def test_packed_output_pads_back():
    """The standard recipe: pack, run, pad back; padding never reaches h_n."""
    peer, ours = twins("lstm", I, H, batch_first=True)
    x = torch.randn(N, T, I)
    lengths = torch.tensor([T, 2, 4])
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, (h, _) = ours(packed)
    padded, got_lengths = pad_packed_sequence(out, batch_first=True)
    assert torch.equal(got_lengths, lengths)
    for j, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(h[0, j], padded[j, n - 1])
        assert (padded[j, n:] == 0).all()
    torch.testing.assert_close(padded, pad_packed_sequence(peer(packed)[0], batch_first=True)[0])
