"""attribution.py: the pieces both explanations are built from, checked by hand."""

from __future__ import annotations

import math

import numpy as np
import torch

from lstmkit.attribution import memory_summary, share, steps_mask, unit_layers


def test_share_is_the_absolute_attribution_on_the_masked_part():
    values = np.array([1.0, -3.0, 4.0, 0.0])
    assert share(values, np.array([True, True, False, False])) == 0.5  # (1 + 3) / 8
    assert share(np.zeros(3), np.ones(3, bool)) == 0.0  # nothing attributed: no share, not 0/0


def test_steps_mask_selects_whole_time_steps():
    mask = steps_mask(range(1, 3), (4, 2))
    assert mask.dtype == torch.bool
    assert mask.tolist() == [[False, False], [True, True], [True, True], [False, False]]


def test_unit_layers_name_layer_and_direction():
    out = unit_layers([["a"], ["b"], ["c"], ["d"]], num_directions=2)
    assert [(x["layer"], x["direction"], x["units"]) for x in out] == [
        (0, 0, ["a"]),
        (0, 1, ["b"]),
        (1, 0, ["c"]),
        (1, 1, ["d"]),
    ]


def unit(forget, half_life, constant=False):
    return {"forget_mean": forget, "half_life": half_life, "constant": constant}


def test_memory_summary_reads_the_first_layers_forward_units():
    first = [
        unit(0.5, 1.0),
        unit(0.9, math.log(0.5) / math.log(0.9)),
        unit(0.99, 69.0, constant=True),
    ]
    text = memory_summary([{"units": first}, {"units": [unit(0.1, 0.3)]}])
    assert "3 units" in text and "keeps 0.90 of its cell" in text  # the median forget gate
    assert "after about 6.6 steps" in text  # the median half-life, ln 0.5 / ln 0.9
    assert (
        "1 unit(s) hold on for more than 20 steps (longest 69)" in text
        and "1 unit(s) never change" in text
    )


def test_memory_summary_of_a_cell_without_a_keep_gate():
    assert "no memory half-life" in memory_summary([{"units": [unit(None, None)]}])
