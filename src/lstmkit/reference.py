"""The LSTM math in NumPy, float64: forward and backpropagation through time, by hand.

This file is meant to be read beside the papers. Every cell is a pair of functions: a step
that computes one time step and returns a small cache of its intermediates, and right under it
the backward that undoes those lines in reverse order, one gradient line per forward line.
`lstm_forward` / `lstm_bptt` run the steps over a sequence and back again.

It imports neither torch nor `lstmkit.cells`: the tests hold `cells.py` (PyTorch, autograd) to
this file, and this file to finite differences, so their agreement means something.

Shapes: N batch, H hidden units, I input features. Parameters are a dict of arrays named as in
`torch.nn.LSTM` without the `_l{k}` suffix: weight_ih (G*H, I), weight_hh (G*H, H),
bias_ih (G*H,), bias_hh (G*H,), where G is the number of gate blocks the cell has; a missing
bias counts as zero. Gate blocks are stacked in PyTorch's order (i, f, g, o).

The standard cell (Hochreiter & Schmidhuber 1997 with the forget gate of Gers et al. 2000,
exactly as torch.nn.LSTM documents it), in the order it is computed:

    (1)  z = W_ih x + b_ih + W_hh h_prev + b_hh      split into blocks z_i, z_f, z_g, z_o
    (2)  i = σ(z_i)                                   input gate
    (3)  f = σ(z_f)                                   forget gate
    (4)  g = tanh(z_g)                                candidate
    (5)  c = f ⊙ c_prev + i ⊙ g                       cell state
    (6)  o = σ(z_o)                                   output gate
    (7)  h = o ⊙ tanh(c)                              hidden state (the output)

The variants of Greff et al. 2017 ("LSTM: A Search Space Odyssey") each change one of these
lines; `lstm_step(..., variant=...)` marks the change beside the line it changes (2'), (3') ...
Greff defined the variants against a cell with peepholes; we define each against the standard
cell above, so that a variant differs from `lstm` in exactly one thing, and `peephole` is a
variant of its own.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "GATE_BLOCKS",
    "STEPS",
    "article_step",
    "article_step_backward",
    "gru_step",
    "gru_step_backward",
    "lstm_bptt",
    "lstm_forward",
    "lstm_step",
    "lstm_step_backward",
    "rnn_relu_step",
    "rnn_relu_step_backward",
    "rnn_step",
    "rnn_step_backward",
    "sigmoid",
]

# Which gate blocks each gated variant keeps, in the row order of its weight matrices.
GATE_BLOCKS = {
    "lstm": "ifgo",
    "peephole": "ifgo",  # + p_i, p_f look at c_prev, p_o at c (Gers & Schmidhuber 2000)
    "nig": "fgo",  # no input gate: i = 1
    "nfg": "igo",  # no forget gate: f = 1 (the 1997 LSTM)
    "nog": "ifg",  # no output gate: o = 1
    "niaf": "ifgo",  # no input activation: g = z_g
    "noaf": "ifgo",  # no output activation: h = o ⊙ c
    "cifg": "igo",  # coupled input-forget gate: f = 1 - i (the article's form, eq. 6)
    "fgr": "ifgo",  # full gate recurrence: i, f, o also see i, f, o of the previous step
}


def sigmoid(x):
    # Written this way so exp never overflows: for x < 0 use e^x / (1 + e^x).
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _blocks(z, names, H):
    return {name: z[:, k * H : (k + 1) * H] for k, name in enumerate(names)}


def _input_projection(x, h_prev, p):
    """(1) z = W_ih x + b_ih + W_hh h_prev + b_hh, the pre-activation of every gate at once."""
    z = x @ p["weight_ih"].T + h_prev @ p["weight_hh"].T
    return z + p.get("bias_ih", 0.0) + p.get("bias_hh", 0.0)


def _input_projection_backward(dz, x, h_prev, p, grads):
    """Undo (1): the four gradient lines of an affine map."""
    grads["weight_ih"] = dz.T @ x
    grads["weight_hh"] = dz.T @ h_prev
    if "bias_ih" in p:
        grads["bias_ih"] = dz.sum(0)
    if "bias_hh" in p:
        grads["bias_hh"] = dz.sum(0)
    return dz @ p["weight_ih"], dz @ p["weight_hh"]  # dx, dh_prev


# --------------------------------------------------------------------------------------------
# The LSTM and Greff's variants. State: (h, c), and for fgr (h, c, a) with a = [i, f, o].
# --------------------------------------------------------------------------------------------


def lstm_step(x, state, p, variant="lstm"):
    """One step of the LSTM (or one of Greff's variants). Returns (new state, cache)."""
    blocks = GATE_BLOCKS[variant]
    h_prev, c_prev = state[0], state[1]
    H = h_prev.shape[1]
    one = np.ones_like(c_prev)
    z = _input_projection(x, h_prev, p)  # (1)
    if variant == "fgr":  # (1') i, f, o also see [i, f, o] of the previous step
        a_prev = state[2]
        z_ifo = a_prev @ p["weight_gr"].T  # (N, 3H)
        z = z + np.concatenate([z_ifo[:, : 2 * H], np.zeros_like(c_prev), z_ifo[:, 2 * H :]], 1)
    zb = _blocks(z, blocks, H)
    if variant == "peephole":
        p_i, p_f, p_o = np.split(p["weight_peephole"], 3)
        zb["i"] = zb["i"] + p_i * c_prev  # (2') peephole from c_prev
        zb["f"] = zb["f"] + p_f * c_prev  # (3') peephole from c_prev
    i = sigmoid(zb["i"]) if "i" in blocks else one  # (2)   nig: i = 1
    if variant == "cifg":
        f = 1.0 - i  # (3')  cifg: f = 1 - i
    else:
        f = sigmoid(zb["f"]) if "f" in blocks else one  # (3)   nfg: f = 1
    g = zb["g"] if variant == "niaf" else np.tanh(zb["g"])  # (4)   niaf: g = z_g
    c = f * c_prev + i * g  # (5)
    if variant == "peephole":
        zb["o"] = zb["o"] + p_o * c  # (6') peephole from the new c
    o = sigmoid(zb["o"]) if "o" in blocks else one  # (6)   nog: o = 1
    tanh_c = c if variant == "noaf" else np.tanh(c)  # (7)   noaf: h = o ⊙ c
    h = o * tanh_c  # (7)
    new_state = (h, c, np.concatenate([i, f, o], 1)) if variant == "fgr" else (h, c)
    cache = dict(x=x, state=state, i=i, f=f, g=g, c=c, o=o, tanh_c=tanh_c, variant=variant)
    return new_state, cache


def lstm_step_backward(dstate, cache, p):
    """Undo `lstm_step`: from (dh, dc[, da]) at this step's output to the step's inputs."""
    variant, blocks = cache["variant"], GATE_BLOCKS[cache["variant"]]
    x, state = cache["x"], cache["state"]
    h_prev, c_prev = state[0], state[1]
    i, f, g, c, o, tanh_c = (cache[k] for k in ("i", "f", "g", "c", "o", "tanh_c"))
    dh, dc = dstate[0], dstate[1].copy()
    di, df, do = np.zeros_like(i), np.zeros_like(f), np.zeros_like(o)
    if variant == "fgr":  # a = [i, f, o] was handed to the next step: its gradient comes back
        da_i, da_f, da_o = np.split(dstate[2], 3, axis=1)
        di, df, do = di + da_i, df + da_f, do + da_o
    grads = {}
    do = do + dh * tanh_c  # (7) h = o ⊙ tanh(c)
    dtanh_c = dh * o  # (7)
    dc += dtanh_c if variant == "noaf" else dtanh_c * (1.0 - tanh_c**2)  # (7)
    dz = {}
    if "o" in blocks:
        dz["o"] = do * o * (1.0 - o)  # (6) o = σ(z_o)
    if variant == "peephole":
        p_i, p_f, p_o = np.split(p["weight_peephole"], 3)
        dc += dz["o"] * p_o  # (6') z_o += p_o ⊙ c
    df = df + dc * c_prev  # (5) c = f ⊙ c_prev + i ⊙ g
    di = di + dc * g  # (5)
    dg = dc * i  # (5)
    dc_prev = dc * f  # (5)
    dz["g"] = dg if variant == "niaf" else dg * (1.0 - g**2)  # (4) g = tanh(z_g)
    if variant == "cifg":
        di = di - df  # (3') f = 1 - i
    elif "f" in blocks:
        dz["f"] = df * f * (1.0 - f)  # (3) f = σ(z_f)
    if "i" in blocks:
        dz["i"] = di * i * (1.0 - i)  # (2) i = σ(z_i)
    if variant == "peephole":
        dc_prev += dz["i"] * p_i + dz["f"] * p_f  # (2') (3') z_i, z_f += p ⊙ c_prev
        grads["weight_peephole"] = np.concatenate(
            [(dz["i"] * c_prev).sum(0), (dz["f"] * c_prev).sum(0), (dz["o"] * c).sum(0)]
        )
    dz_all = np.concatenate([dz[name] for name in blocks], 1)
    dx, dh_prev = _input_projection_backward(dz_all, x, h_prev, p, grads)  # (1)
    if variant == "fgr":  # (1') z_i, z_f, z_o += W_gr a_prev
        dz_ifo = np.concatenate([dz["i"], dz["f"], dz["o"]], 1)
        grads["weight_gr"] = dz_ifo.T @ state[2]
        return dx, (dh_prev, dc_prev, dz_ifo @ p["weight_gr"]), grads
    return dx, (dh_prev, dc_prev), grads


# --------------------------------------------------------------------------------------------
# The baselines: the tanh RNN (Elman 1990) and the GRU (Cho et al. 2014, as torch.nn.GRU).
# --------------------------------------------------------------------------------------------


def rnn_step(x, state, p):
    """h = tanh(W_ih x + b_ih + W_hh h_prev + b_hh)                      (R1)"""
    h = np.tanh(_input_projection(x, state[0], p))  # (R1)
    return (h,), dict(x=x, state=state, h=h)


def rnn_step_backward(dstate, cache, p):
    dz = dstate[0] * (1.0 - cache["h"] ** 2)  # (R1)
    grads = {}
    dx, dh_prev = _input_projection_backward(dz, cache["x"], cache["state"][0], p, grads)
    return dx, (dh_prev,), grads


def rnn_relu_step(x, state, p):
    """h = relu(W_ih x + b_ih + W_hh h_prev + b_hh)                      (R1')"""
    h = np.maximum(_input_projection(x, state[0], p), 0.0)  # (R1')
    return (h,), dict(x=x, state=state, h=h)


def rnn_relu_step_backward(dstate, cache, p):
    dz = dstate[0] * (cache["h"] > 0)  # (R1'): relu' is 1 where the unit is on, else 0
    grads = {}
    dx, dh_prev = _input_projection_backward(dz, cache["x"], cache["state"][0], p, grads)
    return dx, (dh_prev,), grads


def gru_step(x, state, p):
    """The GRU as torch.nn.GRU computes it (reset gate applied after W_hn, inside b_hn):

    (G1) r = σ(W_ir x + b_ir + W_hr h_prev + b_hr)
    (G2) z = σ(W_iz x + b_iz + W_hz h_prev + b_hz)
    (G3) n = tanh(W_in x + b_in + r ⊙ (W_hn h_prev + b_hn))
    (G4) h = (1 - z) ⊙ n + z ⊙ h_prev
    """
    h_prev = state[0]
    H = h_prev.shape[1]
    gx = _blocks(x @ p["weight_ih"].T + p.get("bias_ih", 0.0), "rzn", H)
    gh = _blocks(h_prev @ p["weight_hh"].T + p.get("bias_hh", 0.0), "rzn", H)
    r = sigmoid(gx["r"] + gh["r"])  # (G1)
    z = sigmoid(gx["z"] + gh["z"])  # (G2)
    n = np.tanh(gx["n"] + r * gh["n"])  # (G3)
    h = (1.0 - z) * n + z * h_prev  # (G4)
    return (h,), dict(x=x, state=state, r=r, z=z, n=n, hn=gh["n"])


def gru_step_backward(dstate, cache, p):
    x, h_prev = cache["x"], cache["state"][0]
    r, z, n, hn = cache["r"], cache["z"], cache["n"], cache["hn"]
    dh = dstate[0]
    dn = dh * (1.0 - z)  # (G4)
    dz = dh * (h_prev - n)  # (G4)
    dh_prev = dh * z  # (G4)
    dzn = dn * (1.0 - n**2)  # (G3) pre-activation of n
    dr = dzn * hn  # (G3)
    dhn = dzn * r  # (G3)
    dzz = dz * z * (1.0 - z)  # (G2)
    dzr = dr * r * (1.0 - r)  # (G1)
    dgx = np.concatenate([dzr, dzz, dzn], 1)  # gradient of W_i* x + b_i*
    dgh = np.concatenate([dzr, dzz, dhn], 1)  # gradient of W_h* h_prev + b_h*
    grads = {"weight_ih": dgx.T @ x, "weight_hh": dgh.T @ h_prev}
    if "bias_ih" in p:
        grads["bias_ih"] = dgx.sum(0)
    if "bias_hh" in p:
        grads["bias_hh"] = dgh.sum(0)
    return dgx @ p["weight_ih"], (dh_prev + dgh @ p["weight_hh"],), grads


# --------------------------------------------------------------------------------------------
# The article's equations exactly as printed (lstm-article.zh.md §3; see ERRATA.md). A teaching
# specimen: h never reads c, so the cell state and 11 of 16 parameter tensors are dead.
# Parameters: weight_ih rows [W_hi, W_fi, W_ii, W_oi]; weight_hh rows [W_hh, W_fh, W_ih, W_hc,
# W_oh, W_oc]; bias rows [b_hh, b_fh, b_ih, b_hc, b_oh, b_oc]. W_ii and W_oi are used twice,
# as printed in (5) and (8).
# --------------------------------------------------------------------------------------------

ARTICLE_IH = ("hi", "fi", "ii", "oi")
ARTICLE_HH = ("hh", "fh", "ih", "hc", "oh", "oc")


def article_step(x, state, p):
    h_prev, c_prev = state
    H = h_prev.shape[1]
    wx = _blocks(x @ p["weight_ih"].T, ARTICLE_IH, H)
    wh = _blocks(h_prev @ p["weight_hh"].T + p.get("bias", 0.0), ARTICLE_HH, H)
    k = wh["hh"] + wx["hi"]  # (A1) candidate_hidden_state: never read again
    f = sigmoid(wh["fh"] + wx["fi"])  # (A2) forget_gate
    m = f * h_prev + c_prev  # (A3) forget_hidden_state: never read again
    i = sigmoid(wh["ih"] + wx["ii"])  # (A4) input_gate
    g = np.tanh(wh["hc"] + wx["ii"])  # (A5) candidate, W_ii shared with (A4)
    c = i * g + (1.0 - i) * c_prev  # (A6) new_cell_state: the CIFG update
    o = sigmoid(wh["oh"] + wx["oi"])  # (A7) output_gate
    u = np.tanh(wh["oc"] + wx["oi"])  # (A8) output_hidden_state, W_oi shared with (A7)
    h = u * o  # (A9, A10) output = hidden_state = o ⊙ u
    del k, m  # (A1) and (A3) are computed only because the article computes them
    return (h, c), dict(x=x, state=state, i=i, g=g, o=o, u=u)  # (A11) cell_state = c


def article_step_backward(dstate, cache, p):
    x, (h_prev, c_prev) = cache["x"], cache["state"]
    i, g, o, u = cache["i"], cache["g"], cache["o"], cache["u"]
    dh, dc = dstate
    du = dh * o  # (A10)
    do = dh * u  # (A10)
    dzu = du * (1.0 - u**2)  # (A8)
    dzo = do * o * (1.0 - o)  # (A7)
    di = dc * (g - c_prev)  # (A6)
    dg = dc * i  # (A6)
    dc_prev = dc * (1.0 - i)  # (A6)
    dzg = dg * (1.0 - g**2)  # (A5)
    dzi = di * i * (1.0 - i)  # (A4)
    zero = np.zeros_like(dzi)
    # (A3) m is never read, so dm = 0 and nothing flows back into f, h_prev or c_prev from it;
    # (A2) so dz_f = 0; (A1) k is never read, so dz_k = 0. Their parameters get zero gradient.
    dwx = np.concatenate([zero, zero, dzi + dzg, dzo + dzu], 1)  # rows hi, fi, ii, oi
    dwh = np.concatenate([zero, zero, dzi, dzg, dzo, dzu], 1)  # rows hh, fh, ih, hc, oh, oc
    grads = {"weight_ih": dwx.T @ x, "weight_hh": dwh.T @ h_prev}
    if "bias" in p:
        grads["bias"] = dwh.sum(0)
    return dwx @ p["weight_ih"], (dwh @ p["weight_hh"], dc_prev), grads


# --------------------------------------------------------------------------------------------
# Sequences: the forward loop, and BPTT as the same loop reversed.
# --------------------------------------------------------------------------------------------


def _gated(variant):
    return (
        lambda x, s, p: lstm_step(x, s, p, variant),
        lstm_step_backward,
    )


STEPS = {name: _gated(name) for name in GATE_BLOCKS} | {
    "rnn": (rnn_step, rnn_step_backward),
    "rnn_relu": (rnn_relu_step, rnn_relu_step_backward),
    "gru": (gru_step, gru_step_backward),
    "article": (article_step, article_step_backward),
}


def lstm_forward(xs, state0, p, cell="lstm"):
    """Run `cell` over xs (T, N, I) from state0 (a tuple of (N, ·) arrays).

    Returns hs (T, N, H), the final state and the caches BPTT needs.
    """
    step, _ = STEPS[cell]
    state, hs, caches = tuple(state0), [], []
    for x in xs:
        state, cache = step(x, state, p)
        hs.append(state[0])
        caches.append(cache)
    return np.stack(hs), state, caches


def lstm_bptt(dhs, dstate_n, caches, p, cell="lstm"):
    """Backpropagation through time: the gradient of a loss L given

    dhs       (T, N, H)  ∂L/∂h_t from the outputs at every step,
    dstate_n  tuple      ∂L/∂(final state) (e.g. (dh_n, dc_n)),

    returns dxs (T, N, I), ∂L/∂state0 (tuple) and ∂L/∂p (dict, summed over time).
    """
    _, step_backward = STEPS[cell]
    dstate = tuple(np.array(d, dtype=float) for d in dstate_n)
    grads = {name: np.zeros_like(value) for name, value in p.items()}
    dxs = [None] * len(caches)
    for t in reversed(range(len(caches))):
        # h_t feeds the output and the next step: both gradients add up here.
        dstate = (dstate[0] + dhs[t], *dstate[1:])
        dxs[t], dstate, step_grads = step_backward(dstate, caches[t], p)
        for name, g in step_grads.items():
            grads[name] += g
    return np.stack(dxs), dstate, grads
