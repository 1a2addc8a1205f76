"""Every setting of a SequenceClassifier, declared once: type, default, help, range and choices.

    ClassifyConfig(data=DataConfig, smiles=SmilesConfig, split=SplitConfig, model=ModelConfig,
                   train=TrainConfig, linear=LinearConfig)

`lstmkit classify`'s options are generated from these fields (cli/options.py). Defaults: measured
on ECG5000 and ClinTox (docs/classify.md); an embedded data set's measured settings replace those
the user did not set (data/registry.py).
"""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator, model_validator

from ..config import (
    LayerConfig,
    Section,
    Tree,
    csv_list,
    known,
    nproc_setting,
    setting,
    threads_setting,
)

__all__ = [
    "ClassifyConfig",
    "DataConfig",
    "LinearConfig",
    "ModelConfig",
    "SmilesConfig",
    "SplitConfig",
    "TrainConfig",
    "legacy",
]

MONITORS = ("loss", "roc_auc", "balanced_accuracy", "accuracy")
POOLING = Literal["last", "mean", "max", "mean+max", "attention"]


MAX_ENSEMBLE = 64  # --ensemble's bound: members are trained one after another
MAX_FOLDS = 100  # --cv-folds'
# a run's networks: one per fold and ensemble member at most (small data trains one per fold)
MAX_MEMBERS = MAX_ENSEMBLE * MAX_FOLDS


class DataConfig(Section):
    """Which columns hold the labels and the sequences."""

    label_col: list[str] | None = setting(
        None,
        "Label column; several, comma-separated: multi-label (blank = missing). UCR .tsv files: "
        "'label'.",
    )
    smiles_col: str | None = setting(
        None, "Column of SMILES strings: canonicalised (RDKit), tokenised, embedded."
    )
    id_col: str | None = setting(
        None, "Long tables: the sequence id column (one row per time step)."
    )
    time_col: str | None = setting(
        None, "Long tables: the column that orders the steps of a sequence."
    )
    value_cols: list[str] | None = setting(
        None, "Comma-separated value columns (default: every other numeric column)."
    )
    ragged: bool = setting(
        False,
        "Wide tables: trailing blanks end a shorter sequence (masked).",
        option="--ragged/--no-ragged",
    )
    group_col: str | None = setting(
        None,
        "Sequences sharing this column's value (a patient, a recording) stay in one part of the "
        "split. SMILES: "
        "identical canonical molecules always do.",
    )

    @field_validator("label_col", "value_cols", mode="before")
    @classmethod
    def _lists(cls, value):
        return csv_list(value) or None


class SmilesConfig(Section):
    """SMILES input: canonical form, augmentation and how molecules are kept apart in the split."""

    canonical: bool = setting(
        True,
        "SMILES: RDKit's canonical form (needs the chem extra); --no-canonical: the strings as "
        "written "
        "(not recommended).",
        option="--canonical/--no-canonical",
    )
    augment: int = setting(
        0,
        "SMILES: randomised variants per training molecule (Arus-Pous et al. 2019).",
        ge=0,
        strict=True,
        le=100,
    )
    tta: int = setting(
        0, "SMILES: randomised variants averaged at prediction.", ge=0, strict=True, le=100
    )
    invalid: Literal["skip", "error"] = setting(
        "skip",
        "SMILES that are empty or RDKit cannot parse: skip them (counted, and listed in "
        "metrics.json and the report) or refuse the file.",
    )
    split_by: Literal["molecule", "scaffold"] = setting(
        "molecule",
        "SMILES: keep identical molecules, or all molecules of one Bemis-Murcko scaffold, in one "
        "part "
        "(scaffold: test on chemotypes unseen in training).",
    )


class SplitConfig(Section):
    """Stratified fractions, and when small data is cross-validated instead."""

    val: float = setting(0.1, "Share held out for validation.", option="--val-fraction", gt=0, lt=1)
    test: float = setting(
        0.2,
        "Share held out for test; used when no --test file.",
        option="--test-fraction",
        ge=0,
        lt=1,
    )
    cv_folds: int = setting(
        5,
        "Folds of the training rows: the linear paths' penalties and, on small data, the networks.",
        ge=2,
        strict=True,
        le=MAX_FOLDS,
    )
    cv_max_rows: int = setting(
        300,
        "Small data: up to this many training sequences train one network per fold (an ensemble) "
        "instead of "
        "setting a validation part apart (--val-fraction; 0: never).",
        ge=0,
        strict=True,
        le=1_000_000,
    )

    @model_validator(mode="after")
    def _leaves_training(self):
        if self.val + self.test >= 1:
            raise ValueError(
                f"val={self.val:g} and test={self.test:g} leave no training rows; keep their sum "
                "below 1"
            )
        return self


class ModelConfig(Section):
    """The network: front ends, the recurrent layer and the pooling."""

    cell: str = setting("lstm", "Any cell of `lstmkit cells`.")
    hidden_size: int = setting(64, "Units of each recurrent layer.", gt=0, strict=True, le=4096)
    num_layers: int = setting(1, "Stacked recurrent layers.", gt=0, strict=True, le=16)
    bidirectional: bool = setting(
        True, "Both directions (--unidirectional: one).", option="--bidirectional/--unidirectional"
    )
    pooling: POOLING = setting("attention", "How the steps' hidden states become one vector.")
    conv_channels: int = setting(
        0,
        "> 0: a causal Conv1d front end with this many channels (CNN-LSTM).",
        ge=0,
        strict=True,
        le=4096,
    )
    conv_kernel: int = setting(7, "Kernel of the Conv1d front end.", gt=0, strict=True, le=1024)
    conv_layers: int = setting(2, "Layers of the Conv1d front end.", gt=0, strict=True, le=16)
    conv_stride: int = setting(1, "Stride of the first conv layer.", gt=0, strict=True, le=1024)
    fcn_channels: int = setting(
        0,
        "> 0: an FCN branch beside the LSTM (LSTM-FCN), channels c, 2c, c.",
        ge=0,
        strict=True,
        le=4096,
    )
    embed_dim: int = setting(64, "SMILES: token embedding size.", gt=0, strict=True, le=4096)
    dropout: float = setting(0.2, "Before the head.", ge=0, lt=1)

    @field_validator("cell")
    @classmethod
    def _cell(cls, value):
        from ..cells import CELLS  # here: the command line builds its options without torch

        return known(value, CELLS, "cell")

    def layer(self, input_size: int) -> LayerConfig:
        """The recurrent layers' config (batch first); its dropout falls between stacked layers."""
        return LayerConfig(
            input_size,
            self.hidden_size,
            self.num_layers,
            batch_first=True,
            dropout=self.dropout,
            bidirectional=self.bidirectional,
            cell=self.cell,
        )


class TrainConfig(Section):
    """The loss, the optimiser, early stopping and the ensemble."""

    class_weights: Literal["none", "sqrt", "balanced"] = setting(
        "sqrt", "Weight the loss by inverse class frequency (balanced) or its square root."
    )
    label_smoothing: float = setting(
        0.0, "Share of each target spread over the other classes (single-label).", ge=0, lt=1
    )
    epochs: int = setting(40, "At most; early stopping decides.", gt=0, strict=True, le=100_000)
    patience: int = setting(
        10,
        "Epochs without a better validation criterion, then stop.",
        gt=0,
        strict=True,
        le=100_000,
    )
    batch_size: int = setting(32, "Sequences per batch.", gt=0, strict=True, le=65_536)
    lr: float = setting(3e-3, "AdamW's learning rate.", gt=0, allow_inf_nan=False, le=10.0)
    weight_decay: float = setting(
        0.01, "AdamW's decoupled weight decay.", ge=0, allow_inf_nan=False
    )
    cosine: bool = setting(
        True,
        "Cosine decay of the learning rate over --epochs, or a constant rate.",
        option="--cosine/--no-cosine",
    )
    monitor: Literal["loss", "roc_auc", "balanced_accuracy", "accuracy"] = setting(
        "loss",
        "The criterion out of sample: early stopping, the penalties, the choice of the model.",
    )
    ensemble: int = setting(
        1, "Members from consecutive seeds, averaged.", gt=0, strict=True, le=MAX_ENSEMBLE
    )
    seed: int = setting(0, "Seeds the split, the weights and the batches.", le=2**31 - 1, ge=0)
    threads: int = threads_setting()
    nproc: int = nproc_setting("data-parallel, each taking its rows of every batch")


class LinearConfig(Section):
    """The linear paths beside the network, and how much of the model they are."""

    linear_weight: float | Literal["auto"] = setting(
        "auto",
        "The linear path's share of the model's logits: auto (chosen on the training data: the "
        "linear path "
        "alone, fused with the network at 0.75/0.5/0.25, or the network alone, the network only "
        "where it wins "
        "beyond chance), or a number in [0, 1] (0: the network alone, 1: the path alone, no "
        "network trained).",
    )
    linear_features: Literal["auto", "raw", "minirocket", "minirocket+diff"] = setting(
        "auto",
        "The linear paths: auto (numeric: the values' logistic regression and ridge classifiers "
        "on MiniRocket's "
        "10,000 random-convolution features, and on those plus 10,000 of the first differences, "
        "the best by "
        "cross-validation; SMILES: n-grams), or name one to use it.",
    )
    linear_model: Literal["auto", "logistic", "ridge"] = setting(
        "auto",
        "The named path's classifier (auto: ridge on MiniRocket's features, logistic otherwise): "
        "a logistic "
        "regression (penalty by k-fold), or a ridge classifier (penalty and calibration by "
        "leave-one-out: "
        "MiniRocket's protocol). The logistic baseline row stays.",
    )

    @field_validator("linear_weight", mode="before")
    @classmethod
    def _weight(cls, value):
        if isinstance(value, str) and value != "auto":
            try:
                value = float(value)
            except ValueError:
                raise ValueError(f"expected auto or a number in [0, 1], got {value!r}") from None
        if value != "auto" and (isinstance(value, bool) or not 0 <= value <= 1):
            raise ValueError(f"expected auto or a number in [0, 1], got {value!r}")
        return value


class ClassifyConfig(Tree):
    """Every setting of a classifier, in six sections."""

    data: DataConfig = DataConfig()
    smiles: SmilesConfig = SmilesConfig()
    split: SplitConfig = SplitConfig()
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()
    linear: LinearConfig = LinearConfig()


def legacy(saved: dict) -> dict:
    """A config.json "config" of the flat form (runs saved before the tree) as flat settings."""
    return dict(saved)
