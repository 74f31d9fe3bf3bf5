"""Options shared by every fitting function, checked once with messages that name the fix."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field, fields
from typing import Any

import pandas as pd

from .architecture import Layer, resolve
from .engine.job import DEFAULT_LEARNING_RATE, OPTIMIZERS
from .errors import OptionError, OptionTypeError
from .families import FAMILIES

DEFAULT_SEED = 0


@dataclass
class FitOptions:
    """Every option of ``dnn()`` with its default; ``check()`` validates them all."""

    family: str | None = None
    hidden: Any = (32, 16)
    activation: str = "relu"
    architecture: list[Layer] | None = None
    dropout: float = 0.0
    batchnorm: bool = False
    penalty: float = 0.0
    mixture: float = 0.0
    max_norm: float | None = None
    optimizer: str = "adam"
    learning_rate: float | None = None
    batch_size: int | None = 32
    epochs: int | None = None
    validation: Any = None
    test: Any = None
    early_stopping: int | None = None
    na_action: str = "omit"
    unseen: str = "error"
    seed: int | None = None
    verbose: int = 0
    layers: tuple[Layer, ...] = field(default=(), repr=False)

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> FitOptions:
        known = {f.name for f in fields(cls)} - {"layers"}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            import difflib

            hints = [difflib.get_close_matches(u, sorted(known), n=1) for u in unknown]
            hint = "; ".join(f"{u!r} → did you mean {h[0]!r}?" for u, h in zip(unknown, hints)
                             if h)
            raise OptionTypeError(
                f"unknown option(s) {unknown}. {hint + '. ' if hint else ''}"
                f"Options are: {', '.join(sorted(known))}."
            )
        opts = cls(**kwargs)
        opts.check()
        return opts

    @property
    def lr(self) -> float:
        return float(self.learning_rate or DEFAULT_LEARNING_RATE[self.optimizer])

    @property
    def max_epochs(self) -> int:
        if self.epochs is not None:
            return int(self.epochs)
        return 1000 if self.optimizer == "lbfgs" else 100

    @property
    def seed_value(self) -> int:
        return DEFAULT_SEED if self.seed is None else int(self.seed)

    def check(self) -> None:
        if self.family is not None and self.family not in FAMILIES:
            raise OptionError(f"family must be one of {list(FAMILIES)} or None (chosen from the "
                              f"response); got {self.family!r}.")
        self.layers = resolve(self.hidden, self.activation, self.dropout, self.batchnorm,
                              self.architecture)
        _number("penalty", self.penalty, low=0.0)
        _number("mixture", self.mixture, low=0.0, high=1.0)
        if self.max_norm is not None:
            _number("max_norm", self.max_norm, low=0.0, strict=True)
        if self.optimizer not in OPTIMIZERS:
            raise OptionError(f"optimizer must be one of {list(OPTIMIZERS)}; got "
                              f"{self.optimizer!r}. 'adam' is a good default.")
        if self.learning_rate is not None:
            _number("learning_rate", self.learning_rate, low=0.0, strict=True)
        if self.batch_size is not None:
            _whole("batch_size", self.batch_size, low=1, hint="or None for full batch")
        if self.epochs is not None:
            _whole("epochs", self.epochs, low=1)
        if self.early_stopping is not None:
            _whole("early_stopping", self.early_stopping, low=1,
                   hint="(the patience in epochs), or None")
            if self.validation is None:
                raise OptionError(
                    f"early_stopping={self.early_stopping} needs validation data to watch; pass "
                    "validation=0.2 (a fraction held out) or validation=<data frame>."
                )
        if self.validation is not None and not isinstance(self.validation, pd.DataFrame):
            _number("validation", self.validation, low=0.0, high=1.0, strict=True,
                    hint="a fraction such as 0.2, or a data frame")
            if self.validation >= 1:
                raise OptionError(f"validation must be a fraction below 1; got {self.validation}.")
        if self.test is not None and not isinstance(self.test, pd.DataFrame):
            raise OptionTypeError(f"test must be a data frame (it is only evaluated, never used "
                                  f"for training or stopping); got {type(self.test).__name__}.")
        if self.na_action not in ("omit", "fail"):
            raise OptionError(f"na_action must be 'omit' or 'fail'; got {self.na_action!r}.")
        if self.unseen not in ("error", "na"):
            raise OptionError(f"unseen must be 'error' or 'na'; got {self.unseen!r}.")
        if self.seed is not None:
            _whole("seed", self.seed, low=0, hint="or None")
        if self.optimizer == "lbfgs":
            bad = [type(x).__name__.lower() for x in self.layers if x.kind in
                   ("dropout", "batchnorm")]
            if bad or self.max_norm is not None or self.early_stopping is not None:
                raise OptionError(
                    "optimizer='lbfgs' is deterministic full-batch optimisation and does not "
                    f"combine with dropout, batchnorm, max_norm or early_stopping (given: "
                    f"{bad + (['max_norm'] if self.max_norm else []) + (['early_stopping'] if self.early_stopping else [])}). "
                    "Use optimizer='adam' for those."
                )

    def call_repr(self) -> str:
        """The non-default options, as they would be typed."""
        defaults = FitOptions()
        parts = []
        for f in fields(self):
            if f.name in ("layers", "verbose"):
                continue
            value = getattr(self, f.name)
            if isinstance(value, pd.DataFrame):
                parts.append(f"{f.name}=<data frame {value.shape[0]}×{value.shape[1]}>")
            elif value != getattr(defaults, f.name) if not isinstance(value, list) else True:
                parts.append(f"{f.name}={value!r}")
        return ", ".join(parts)


def _number(name: str, value: Any, low: float | None = None, high: float | None = None,
            strict: bool = False, hint: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value:
        raise OptionTypeError(f"{name} must be a number{' (' + hint + ')' if hint else ''}; got "
                              f"{value!r}.")
    if low is not None and (value < low or (strict and value == low)):
        raise OptionError(f"{name} must be {'>' if strict else '>='} {low:g}; got {value!r}.")
    if high is not None and value > high:
        raise OptionError(f"{name} must be <= {high:g}; got {value!r}.")
    if value in (float("inf"), float("-inf")):
        raise OptionError(f"{name} must be finite; got {value!r}.")


def _whole(name: str, value: Any, low: int, hint: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != int(value):
        raise OptionTypeError(f"{name} must be a whole number {hint}; got {value!r}.")
    if value < low:
        raise OptionError(f"{name} must be at least {low} {hint}; got {value!r}.")
