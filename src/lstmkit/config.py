"""The config machinery: settings declared once, as typed fields; the error users see.

A task's settings are a tree of frozen pydantic models (forecast/config.py, classify/config.py):
sections such as `data`, `split`, `model`, `train`, each a `Section` of fields declared with
`setting(default, help, ...)`. A field holds everything about a setting: its type (a `Literal`
for a choice), default, help text, range and, where the command line spells it otherwise, its
option name. From the fields come the command-line options (cli/options.py), the JSON in a run's
config.json, the docs' tables and the errors.

"What the user set" has one meaning everywhere: the fields given explicitly (pydantic's
`model_fields_set`). An embedded data set's defaults fill the others, once (`Tree.merged`).

The bottom of the package: imports nothing from lstmkit.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "LayerConfig",
    "LayerError",
    "LayerTypeError",
    "LstmkitError",
    "Section",
    "SettingError",
    "Tree",
    "csv_list",
    "document_signature",
    "known",
    "setting",
]


class LstmkitError(ValueError):
    """Bad input from a user. The message is one line: what (argument, file or column),
    what was expected and what was given. The CLI prints it without a traceback."""

    # A message quotes names and values from the user's files: a column name may hold a newline
    # or be megabytes long. One line, of bounded length, whatever it quotes.
    MAX_CHARS = 1000

    def __init__(self, message="", *args):
        if isinstance(message, str):
            message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
            if len(message) > self.MAX_CHARS:
                half = self.MAX_CHARS // 2
                message = f"{message[:half]} ... {message[-half:]}"
        super().__init__(message, *args)


def cut(text, limit: int = 80) -> str:
    """A name or value as a message shows it: at most `limit` characters (a column name can be
    50 MB long)."""
    text = str(text)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


class SettingError(LstmkitError):
    """A bad setting. The message starts with the setting's name (`hidden_size: ...`); `field`
    holds that name, so the command line can say its option (`--hidden-size: ...`) instead."""

    def __init__(self, field: str, message: str):
        self.field, self.detail = field, message
        super().__init__(f"{field}: {message}")


class LayerError(LstmkitError, RuntimeError):
    """A shape or state error in a layer call. torch.nn.LSTM raises RuntimeError there, so a
    drop-in must too (`except RuntimeError` catches it); it stays an LstmkitError (a ValueError),
    so the applications still print it as one line."""


class LayerTypeError(LstmkitError, TypeError):
    """An argument of the wrong type (`batch_first="False"`), where torch raises TypeError."""


@dataclass(frozen=True)
class LayerConfig:
    """Everything that defines an `lstmkit.LSTM`; `LSTM.from_config(cfg)` rebuilds it."""

    input_size: int
    hidden_size: int
    num_layers: int = 1  # stacked layers; each layer's output is the next one's input
    bias: bool = True  # two bias vectors (b_ih, b_hh), as torch.nn.LSTM, so weights interchange
    batch_first: bool = False  # False: (L, N, H_in) as torch.nn.LSTM; True: (N, L, H_in)
    dropout: float = 0.0  # between stacked layers, in training only (needs num_layers > 1)
    bidirectional: bool = False  # a second pass right to left, outputs concatenated
    cell: str = "lstm"  # a name from lstmkit.cells.CELLS
    forget_bias: float | None = 1.0  # Jozefowicz et al. 2015; None keeps torch's uniform init
    kernel: str = "auto"  # auto: torch's fused kernel where one exists, else the compiled loop
    proj_size: int = 0  # LSTM-family cells: h = W_hr (o * tanh(c)), of this size (Sak et al. 2014)
    nonlinearity: str = "tanh"  # cell "rnn" only: "tanh" or "relu", as torch.nn.RNN


def setting(default: Any, help: str, *, option: str | None = None, **checks: Any) -> Any:
    """A field of a config section: its default, the help text `--help` shows, and its checks
    (pydantic's `gt`, `ge`, `lt`, `le`, ...). `option` names the command-line option where it is not
    `--` + the field's name with dashes (a bool's may hold both: `--cosine/--no-cosine`)."""
    return Field(
        default,
        description=help,
        json_schema_extra={"option": option} if option else None,
        **checks,
    )


def threads_setting() -> Any:
    """`threads`, the same field in every task's training section."""
    return setting(
        1, "Intra-op threads (1 is fastest for small models).", gt=0, strict=True, le=256
    )


def nproc_setting(how: str) -> Any:
    """`nproc`, every task's training section's: processes training one model together, `how`
    saying how they share the work (docs/scale.md)."""
    return setting(
        1,
        f"Processes training one model on this machine ({how}; launched through torchrun; under "
        "torchrun itself its --nproc-per-node decides). docs/scale.md.",
        gt=0,
        strict=True,
        le=256,
    )


def csv_list(value, cast=str):
    """'a, b' -> ['a', 'b'] (the command line's spelling of a list); a list passes as it is."""
    if isinstance(value, str):
        return [cast(v.strip()) for v in value.split(",") if v.strip()]
    return value


def known(value: str, names, what: str) -> str:
    """`value` if it is one of `names` (a registry), else a ValueError listing them."""
    if value not in names:
        raise ValueError(f"unknown {what} {value!r}; expected one of: {', '.join(names)}")
    return value


class Section(BaseModel):
    """One group of settings: frozen, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Tree(Section):
    """A task's whole config: sections only. Every leaf name is unique across the tree, so a task
    also takes its settings flat, as keywords (`Forecaster(hidden_size=64)`)."""

    @classmethod
    def sections(cls) -> dict[str, type[Section]]:
        return {name: f.annotation for name, f in cls.model_fields.items()}

    @classmethod
    def leaves(cls) -> Iterator[tuple[str, str, Any]]:
        """(section, name, pydantic FieldInfo) of every setting, in declaration order."""
        for section, model in cls.sections().items():
            for name, info in model.model_fields.items():
                yield section, name, info

    @classmethod
    def section_of(cls) -> dict[str, str]:
        return {name: section for section, name, _ in cls.leaves()}

    @classmethod
    def from_settings(cls, settings: dict[str, Any], owner: str) -> Tree:
        """The tree from flat keyword settings; each one becomes explicitly set in its section."""
        where = cls.section_of()
        unknown = sorted(set(settings) - set(where))
        if unknown:
            raise LstmkitError(
                f"{owner}: unknown setting(s) {unknown}; see help({owner}) for the settings"
            )
        grouped: dict[str, dict] = {s: {} for s in cls.sections()}
        for name, value in settings.items():
            grouped[where[name]][name] = value
        return cls.checked(grouped)

    @classmethod
    def checked(cls, data: dict) -> Tree:
        """Validate `data` (a nested dict); a bad value becomes a SettingError naming the field."""
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise _setting_error(err) from None

    def flat(self) -> dict[str, Any]:
        """Every setting by name, as the keywords that rebuild this tree."""
        return {name: getattr(getattr(self, section), name) for section, name, _ in self.leaves()}

    def user_set(self) -> set[str]:
        """The settings given explicitly (the others hold their defaults)."""
        return {
            name for section in self.sections() for name in getattr(self, section).model_fields_set
        }

    def merged(self, defaults: dict[str, Any]) -> Tree:
        """A new tree in which `defaults` (flat, e.g. an embedded data set's measured settings)
        replace every setting the user did not set; what the user set stays."""
        own = self.user_set()
        fill = {k: v for k, v in defaults.items() if k not in own and v is not None}
        if not fill:
            return self
        flat = {k: getattr(getattr(self, self.section_of()[k]), k) for k in own}
        merged = type(self).from_settings({**fill, **flat}, type(self).__name__)
        return merged

    def to_dict(self) -> dict:
        """The JSON of config.json: {section: {setting: value}}."""
        return self.model_dump(mode="json")


def _setting_error(err: ValidationError) -> SettingError:
    """Pydantic's first complaint, in one line that names the setting."""
    first = err.errors()[0]
    names = [str(p) for p in first["loc"] if isinstance(p, str)]
    field = names[-1] if names else "config"
    if first["type"] == "extra_forbidden":
        return SettingError(field, "not a setting")
    message = first["msg"]
    message = message[0].lower() + message[1:]
    message = message.removeprefix("value error, ").removeprefix("assertion failed, ")
    if "input" in first and first["type"] not in ("value_error", "assertion_error"):
        message += f", got {first['input']!r}"
    return SettingError(field, message)


def document_signature(cls, tree, lead: str) -> None:
    """The estimator's full signature and every setting, from the config fields: help(Forecaster)
    and IDEs show `Forecaster(config=None, /, *, time=None, ..., hidden_size=50, ...)`."""
    params = [inspect.Parameter("config", inspect.Parameter.POSITIONAL_ONLY, default=None)]
    lines = [lead, "", "Settings (keywords, or one config tree as `config`):", ""]
    for section, name, info in tree.leaves():
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=info.default))
        lines.append(f"    {name} = {info.default!r}  ({section}) {info.description}")
    cls.__signature__ = inspect.Signature(params)
    cls.__doc__ = "\n".join(lines)
