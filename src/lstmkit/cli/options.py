"""Command-line options generated from a task's config fields: name, type, choices, default and
help come from the field (config.py's `setting`), so a new setting is one edit.

    @options_of(ForecastConfig)      # one click option per setting
    def forecast(data, out, ..., **settings): ...
    settings_given(ctx, tree, values)  # what the user typed; a data set's defaults fill the rest

Lists (quantiles, columns) are typed as comma-separated text and parsed by the field's validator,
so `Forecaster(quantiles="0.1,0.9")` and `--quantiles 0.1,0.9` are one path.
"""

from __future__ import annotations

import types
import typing
from typing import Literal

import click

from ..classify.config import ClassifyConfig
from ..forecast.config import ForecastConfig

__all__ = ["OPTION_OF", "option_name", "options_of", "settings_given"]


def option_name(name: str, info) -> str:
    """The option's spelling: the field's own (`option=`), else `--` + the name with dashes."""
    extra = info.json_schema_extra or {}
    return extra.get("option") or "--" + name.replace("_", "-")


def _click_type(annotation):
    """click's type for a field's annotation: choices for a Literal, int, float, bool; text for
    anything the field's validator parses (lists, `auto` or a number)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        annotation = args[0]
    if typing.get_origin(annotation) is Literal:
        return click.Choice([str(v) for v in typing.get_args(annotation)])
    return {int: click.INT, float: click.FLOAT, bool: click.BOOL, str: click.STRING}.get(
        annotation, click.STRING
    )


def _help(info) -> str:
    text = info.description or ""
    default = info.default
    if default is None or default == [] or isinstance(default, bool):
        return text  # a bool's default shows beside its pair of flags (show_default)
    return f"{text} [default: {default}]"


def _option(name: str, info) -> click.Option:
    spelled = option_name(name, info)
    if info.annotation is bool:
        if "/" not in spelled:
            spelled = f"{spelled}/--no-{spelled.removeprefix('--')}"
        return click.Option(
            [spelled, name], default=info.default, show_default=True, help=info.description
        )
    return click.Option(
        [spelled, name], type=_click_type(info.annotation), default=None, help=_help(info)
    )


def options_of(tree):
    """A decorator adding one click option per setting of `tree` (a config Tree class), in the
    order the sections declare them."""

    def add(fn):
        for _, name, info in reversed(list(tree.leaves())):
            fn.__click_params__ = [*getattr(fn, "__click_params__", []), _option(name, info)]
        return fn

    return add


def settings_given(ctx: click.Context, tree, values: dict) -> dict:
    """The settings the user typed: a value given on the command line (not click's default)."""
    names = {name for _, name, _ in tree.leaves()}
    given = {}
    for name in names:
        source = ctx.get_parameter_source(name)
        if source is not None and source != click.core.ParameterSource.DEFAULT:
            given[name] = values[name]
    return given


# Every setting's option, for errors: the library names the field, the command line its option.
OPTION_OF = {
    name: option_name(name, info).split("/")[0]
    for tree in (ForecastConfig, ClassifyConfig)
    for _, name, info in tree.leaves()
}
OPTION_OF["split"] = "--val-fraction, --test-fraction"
