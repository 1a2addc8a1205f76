"""Learning curves of the long-time-lag experiments."""

from __future__ import annotations

import pathlib

import matplotlib.pyplot as plt

from ..runs import atomic_write


def experiment_plot(results: list[dict], path) -> str:
    """Learning curves: the test metric against training steps, one panel per (task, length),
    one line per cell (mean over seeds), the trivial baseline dashed."""
    panels = sorted({(r["task"], r["length"]) for r in results})
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4), squeeze=False)
    colors = plt.get_cmap("tab20").colors
    for ax, (task, length) in zip(axes[0], panels, strict=True):
        mine = [r for r in results if (r["task"], r["length"]) == (task, length)]
        for k, cell in enumerate(dict.fromkeys(r["cell"] for r in mine)):
            curves = [r["curve"] for r in mine if r["cell"] == cell]
            steps = sorted({s for c in curves for s, _ in c})
            # A run stopped once solved keeps its last value from then on.
            held = [
                [dict(c).get(s, c[-1][1]) if s > c[-1][0] else dict(c)[s] for s in steps]
                for c in curves
            ]
            mean = [sum(v[j] for v in held) / len(held) for j in range(len(steps))]
            ax.plot(
                steps,
                mean,
                label=cell,
                lw=1.4,
                color=colors[(2 * k) % 20 if k < 10 else (2 * k + 1) % 20],
            )
        ax.axhline(mine[0]["baseline"], color="black", ls="--", lw=0.8, label="trivial baseline")
        ax.set_title(
            f"{task}, length {length} (mean of seeds; stopped runs held at their last value)",
            fontsize=9,
        )
        ax.set_xlabel("training step")
        ax.set_ylabel(mine[0]["metric"])
        if mine[0]["metric"] in ("mse", "xent"):
            ax.set_yscale("log")
        ax.legend(fontsize=7, ncol=2)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png"))
    plt.close(fig)
    return str(path)
