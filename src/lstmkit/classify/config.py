"""Every setting of a SequenceClassifier, and the checks that turn a bad one into a one-line error
naming its command-line option (before any data is read)."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import LstmkitError, require_number, require_positive
from ..models import ClassifierNet

__all__ = ["LINEAR_FEATURES", "LINEAR_MODELS", "MONITORS", "ClassifyConfig", "check_config"]

MONITORS = ("loss", "roc_auc", "balanced_accuracy", "accuracy")
LINEAR_FEATURES = ("auto", "raw", "minirocket", "minirocket+diff")
LINEAR_MODELS = ("auto", "logistic", "ridge")


@dataclass
class ClassifyConfig:
    """Every setting of a classifier. Defaults: measured on ECG5000 and ClinTox (docs/classify.md)."""

    label_col: list[str] | None = None  # one column: classes; several: multi-label (blank = missing)
    smiles_col: str | None = None  # SMILES input: canonicalise, tokenise, embed
    id_col: str | None = None  # long tables: one row per time step of sequence `id`
    time_col: str | None = None
    value_cols: list[str] | None = None  # None: every other (numeric) column
    ragged: bool = False  # wide tables: trailing blanks end a shorter sequence
    canonical: bool = True  # SMILES: RDKit canonical form (needs the chem extra)
    augment: int = 0  # SMILES: randomised variants per training molecule, one drawn per epoch
    tta: int = 0  # SMILES: randomised variants averaged with the canonical one at prediction
    val: float = 0.1  # stratified fractions (of the training file when a test file is given)
    test: float = 0.2
    cv_folds: int = 5  # small data: k-fold cross-validation on the training rows instead of a validation part
    cv_max_rows: int = 300  # training sets of at most this many sequences are small (classify/select.py)
    group_col: str | None = None  # sequences sharing its value stay in one part (SMILES: identical molecules do)
    split_by: str = "molecule"  # SMILES without group_col: molecule | scaffold (Bemis-Murcko) kept together
    cell: str = "lstm"
    hidden_size: int = 64
    num_layers: int = 1
    bidirectional: bool = True
    pooling: str = "attention"
    conv_channels: int = 0  # > 0: a causal Conv1d front end (CNN-LSTM)
    conv_kernel: int = 7
    conv_layers: int = 2
    conv_stride: int = 1
    fcn_channels: int = 0  # > 0: an FCN branch beside the LSTM (LSTM-FCN, Karim et al. 2017)
    embed_dim: int = 64
    dropout: float = 0.2
    class_weights: str = "sqrt"  # none | sqrt | balanced: inverse class frequency, or its square root
    label_smoothing: float = 0.0
    epochs: int = 40
    patience: int = 10
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 0.01
    cosine: bool = True  # cosine learning-rate decay over `epochs`
    monitor: str = "loss"  # validation criterion for early stopping (and the logistic's L2)
    ensemble: int = 1  # members trained from seeds seed, seed+1, ...; probabilities averaged
    linear_weight: float | str = "auto"  # the linear path's share of the fused logits: "auto" (chosen), or 0-1
    linear_features: str = "auto"  # auto | raw | minirocket | minirocket+diff: the linear paths (SMILES: n-grams)
    linear_model: str = "auto"  # auto | logistic | ridge: the named path's classifier (the baseline stays logistic)
    seed: int = 0
    threads: int = 1


def check_config(cfg: ClassifyConfig) -> None:
    require_positive(cfg, ("hidden_size", "num_layers", "epochs", "patience", "batch_size", "embed_dim", "conv_kernel",
                           "conv_layers", "conv_stride", "ensemble", "threads"))  # fmt: skip
    if not isinstance(cfg.cv_folds, int) or isinstance(cfg.cv_folds, bool) or cfg.cv_folds < 2:
        raise LstmkitError(f"--cv-folds: expected 2 or more, got {cfg.cv_folds!r}")
    if not isinstance(cfg.cv_max_rows, int) or isinstance(cfg.cv_max_rows, bool) or cfg.cv_max_rows < 0:
        raise LstmkitError(f"--cv-max-rows: expected 0 or more, got {cfg.cv_max_rows!r}")
    require_number(cfg, ("lr",))
    require_number(cfg, ("weight_decay",), zero_allowed=True)
    for name in ("augment", "tta", "conv_channels", "fcn_channels"):
        if getattr(cfg, name) < 0:
            raise LstmkitError(f"--{name.replace('_', '-')}: expected 0 or more, got {getattr(cfg, name)!r}")
    if not (0 < cfg.val < 1 and 0 <= cfg.test < 1 and cfg.val + cfg.test < 1):
        raise LstmkitError(f"split: val={cfg.val} and test={cfg.test} must be fractions with a sum below 1")
    if cfg.pooling not in ClassifierNet.POOLING:
        raise LstmkitError(f"--pooling: expected one of {', '.join(ClassifierNet.POOLING)}, got {cfg.pooling!r}")
    if cfg.class_weights not in ("none", "sqrt", "balanced"):
        raise LstmkitError(f"--class-weights: expected none, sqrt or balanced, got {cfg.class_weights!r}")
    if cfg.split_by not in ("molecule", "scaffold"):
        raise LstmkitError(f"--split-by: expected molecule or scaffold, got {cfg.split_by!r}")
    if cfg.linear_features not in LINEAR_FEATURES:
        choices = ", ".join(LINEAR_FEATURES)
        raise LstmkitError(f"--linear-features: expected one of {choices}, got {cfg.linear_features!r}")
    if cfg.linear_model not in LINEAR_MODELS:
        raise LstmkitError(f"--linear-model: expected one of {', '.join(LINEAR_MODELS)}, got {cfg.linear_model!r}")
    w = cfg.linear_weight
    if w != "auto" and not (isinstance(w, int | float) and not isinstance(w, bool) and 0 <= w <= 1):
        raise LstmkitError(f"--linear-weight: expected auto or a value in [0, 1], got {w!r}")
    if cfg.monitor not in MONITORS:
        raise LstmkitError(f"--monitor: expected one of {', '.join(MONITORS)}, got {cfg.monitor!r}")
    for name in ("dropout", "label_smoothing"):
        if not 0 <= getattr(cfg, name) < 1:
            raise LstmkitError(f"--{name.replace('_', '-')}: expected a value in [0, 1), got {getattr(cfg, name)}")
    from ..cells import get_cell

    get_cell(cfg.cell)
