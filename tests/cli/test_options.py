"""The options are generated from the config fields: every setting has one, and only those."""

from __future__ import annotations

import typing

import click
import pytest

from lstmkit.classify.config import ClassifyConfig
from lstmkit.cli import main
from lstmkit.forecast.config import ForecastConfig


@pytest.mark.parametrize(
    "command, tree", [("forecast", ForecastConfig), ("classify", ClassifyConfig)]
)
def test_every_setting_has_an_option_and_every_option_a_setting(command, tree):
    """The options are generated from the config's fields: name, help, default and choices."""
    cmd = main.commands[command]
    options = {p.name: p for p in cmd.params if isinstance(p, click.Option)}
    fields = {name: info for _, name, info in tree.leaves()}
    own = {  # the command's own options: what to read and where to write, not settings of the model
        "forecast": {"data", "lstm_gate", "backtest", "out", "resume", "overwrite", "quiet"},
        "classify": {"data", "test_file", "out", "resume", "overwrite", "quiet"},
    }
    assert set(fields) <= set(options) and set(options) - set(fields) == own[command]
    for name, info in fields.items():
        option = options[name]
        assert option.help.startswith(info.description), name
        choices = (
            typing.get_args(info.annotation)
            if typing.get_origin(info.annotation) is typing.Literal
            else None
        )
        if choices:
            assert list(option.type.choices) == list(choices), name
        if info.annotation is bool:
            assert option.default == info.default, name
