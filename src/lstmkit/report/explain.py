"""The Explain section: attributions, gate heat maps, the memory of each unit."""

from __future__ import annotations

import html
import pathlib

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .render import add_section, save_figure

GATE_TITLES = {
    "i": "input gate i",
    "f": "forget gate f",
    "g": "candidate g",
    "o": "output gate o",
    "c": "cell state c",
    "h": "hidden state h",
    "r": "reset gate r",
    "z": "update gate z",
    "n": "candidate n",
}


def _explain_gates(result: dict, arrays: dict, path) -> str:
    trace = {k: v for k, v in arrays["trace"].items() if k in GATE_TITLES}
    names = [k for k in GATE_TITLES if k in trace]
    units = result["layers"][0]["units"]
    order = np.argsort([-(u["forget_mean"] or 0) for u in units])  # longest memory on top
    stride = arrays.get("stride", 1)
    fig, axes = plt.subplots(len(names) + 1, 1, figsize=(11, 1.2 + 1.55 * len(names)), sharex=True)
    inp = arrays.get("input")
    L = len(result["attribution"]["per_step"])
    ax = axes[0]
    if inp is not None:
        ax.plot(np.arange(L) + 0.5, inp[:, 0], color="black", lw=1.0)
    else:
        ax.set_yticks([])
        for s, tok in enumerate(result["example"].get("tokens") or []):
            ax.text(s + 0.5, 0.5, tok, ha="center", va="center", fontsize=7, rotation=90)
    ax.set_title(
        "input (top), then each gate and state of layer 1, forward direction: units (sorted by "
        "mean "
        "forget gate, longest memory on top) x time",
        fontsize=9,
    )
    for ax, name in zip(axes[1:], names, strict=True):
        v = trace[name][0][:, order].T  # (H, L')
        lo, hi = (0, 1) if name in "ifozr" else (-np.abs(v).max() or 1, np.abs(v).max() or 1)
        cmap = "viridis" if name in "ifozr" else "RdBu_r"
        im = ax.imshow(
            v,
            aspect="auto",
            cmap=cmap,
            vmin=lo,
            vmax=hi,
            extent=(0, v.shape[1] * stride, len(order), 0),
            interpolation="nearest",
        )
        ax.set_ylabel(name, rotation=0, labelpad=12)
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, pad=0.01, fraction=0.02)
    axes[-1].set_xlabel(
        "time step" + (f" (each trace column covers {stride} input steps)" if stride > 1 else "")
    )
    _time_ticks(axes[-1], arrays.get("times"))
    # Fixed margins rather than tight_layout: profiled, the layout pass cost ~1.3 s of a 7 s
    # `explain`.
    fig.subplots_adjust(left=0.05, right=0.94, top=0.96, bottom=0.06, hspace=0.25)
    top, below = axes[0].get_position(), axes[1].get_position()
    # align with the heat maps' colorbar-narrowed width
    axes[0].set_position([top.x0, top.y0, below.width, top.height])
    return save_figure(fig, path, tight=False)


def _time_ticks(ax, times) -> None:
    """Label a few steps with their timestamps (forecasts)."""
    if not times:
        return
    picks = np.linspace(0, len(times) - 1, min(7, len(times))).round().astype(int)
    ax.set_xticks(
        picks + 0.5,
        [str(pd.Timestamp(times[k]).strftime("%m-%d %H:%M")) for k in picks],
        fontsize=8,
    )


def _explain_attribution(result: dict, arrays: dict, path) -> str:
    att = result["attribution"]
    per_step = np.array(att["per_step"])
    L = len(per_step)
    occ = np.array(att["occlusion"]["delta"])
    w = att["occlusion"]["window"]
    tokens = result["example"].get("tokens")
    features = att.get("per_feature") or att.get("per_channel")
    wide = features and len(features) > 1
    fig, axes = plt.subplots(
        1,
        2 if wide else 1,
        figsize=(13 if wide else 11, 3.6),
        squeeze=False,
        gridspec_kw={"width_ratios": [3, 1]} if wide else None,
    )
    ax = axes[0][0]
    colors = np.where(per_step >= 0, "tab:red", "tab:blue")
    ax.bar(np.arange(L), per_step, color=colors, width=0.9, label="integrated gradients")
    occ_steps = np.repeat(occ, w)[:L] / w
    ax.step(
        np.arange(L),
        occ_steps,
        where="mid",
        color="black",
        lw=0.8,
        label=f"occlusion (per step, window {w})",
    )
    ax.axhline(0, color="gray", lw=0.5)
    if tokens:
        ax.set_xticks(range(L), tokens, fontsize=7, rotation=90)
    inp = arrays.get("input")
    if inp is not None:
        twin = ax.twinx()
        twin.plot(np.arange(L), inp[:, 0], color="gray", lw=0.8, alpha=0.7)
        twin.set_ylabel("input", color="gray")
    ax.set_title(f"what moved {att['output']}: red raises it, blue lowers it", fontsize=9)
    ax.set_xlabel("time step (oldest left)" if result["kind"] == "forecast" else "step")
    if not tokens:
        _time_ticks(ax, arrays.get("times"))
    ax.legend(fontsize=8, loc="upper left")
    if wide:
        ax2 = axes[0][1]
        items = sorted(features.items(), key=lambda kv: abs(kv[1]))
        ax2.barh(
            [k for k, _ in items],
            [v for _, v in items],
            color=["tab:red" if v >= 0 else "tab:blue" for _, v in items],
        )
        ax2.set_title("by input", fontsize=9)
    fig.subplots_adjust(
        left=0.07, right=0.93 if not wide else 0.98, bottom=0.2, top=0.9, wspace=0.35
    )
    return save_figure(fig, path, tight=False)


def _explain_units(result: dict, path) -> str:
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.2))
    for layer in result["layers"]:
        f = [u["forget_mean"] for u in layer["units"] if u["forget_mean"] is not None]
        if not f:
            continue
        label = f"layer {layer['layer'] + 1}" + (" backward" if layer["direction"] else "")
        a1.plot(sorted(f, reverse=True), marker="o", ms=2.5, lw=0.8, label=label)
        lives = np.array(
            [u["half_life"] if u["half_life"] is not None else np.inf for u in layer["units"]]
        )
        lives = np.clip(lives[np.isfinite(lives)], 0.1, None)
        if len(lives):
            a2.hist(
                lives,
                bins=np.logspace(-1, max(1, np.log10(lives.max()) + 0.1), 30),
                alpha=0.6,
                label=label,
            )
    a1.set_title("mean forget gate per unit (sorted)", fontsize=9)
    a1.set_xlabel("unit")
    a1.set_ylim(0, 1)
    a2.set_xscale("log")
    a2.set_title("memory half-life ln 0.5 / ln f (steps)", fontsize=9)
    for ax in (a1, a2):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.16, top=0.9, wspace=0.2)
    return save_figure(fig, path, tight=False)


def explain_section(folder, result: dict, arrays: dict) -> pathlib.Path:
    """Plots of an explanation and an Explain section in the run's report.html (replacing an
    earlier one). Renders explain.json's content; computes nothing."""
    folder = pathlib.Path(folder)
    plots = folder / "plots"
    images = [
        (
            "What moved the output",
            _explain_attribution(result, arrays, plots / "explain_attribution.png"),
        ),
        ("Gates and states over time", _explain_gates(result, arrays, plots / "explain_gates.png")),
        (
            "Memory of each unit over the test data",
            _explain_units(result, plots / "explain_units.png"),
        ),
    ]
    att = result["attribution"]
    summary = "".join(f"<p>{html.escape(s)}</p>" for s in result["summary"])
    figs = "".join(
        f"<h3>{html.escape(t)}</h3><img src='{src}' alt='{html.escape(t)}'>" for t, src in images
    )
    note = (
        f"Integrated gradients ({att['steps']} steps) from a baseline of "
        f"{html.escape(att['baseline'])}: the "
        f"attributions add up to the change of {html.escape(att['output'])} from the baseline "
        f"({att['f_baseline']:.4g}) to the input ({att['f_x']:.4g}) within "
        f"{att['completeness_error']:.2%}. "
        "Occlusion: how much the output drops when a window of steps is set to the baseline. Gate "
        "values run "
        "from 0 (closed) to 1 (open); a forget gate near 1 keeps the cell, and its mean f gives "
        "the half-life "
        "ln 0.5 / ln f: the steps until a unit keeps half of what it holds."
    )
    section = (
        f"<h2>Explain</h2>{summary}<p><small>{note}</small></p>{figs}"
        "<p>Data: explain.json (every unit's forget_mean and half_life, the attribution of every "
        "step).</p>"
    )
    return add_section(folder, "explain", section)
