"""Everything the Adagrad engine stores about a model, in one object.

The fields are of two kinds. *Row fields* have one row per feature (the weights,
their accumulators, the step each row was last brought up to date and the
running sums of the average); a step writes only the rows of its active
features. *Small fields* are the rest (the intercept and its accumulator, the
counters, the rate history, the averaging state, the hyperparameters); their
size does not grow with the number of features. The journal that makes calls
transactional saves and restores fields by kind, from this list alone: a field
added here is journaled without anything else to change.
"""

import copy
from dataclasses import dataclass, field, fields
from functools import cache, partial
from operator import attrgetter
from typing import Any

import numpy as np

from ._pages import HUGE_PAGE_ADVICE_BYTES, zeros
from ._rows import put_rows, take_rows

_ROW = {"rows": True}


@dataclass(eq=False)
class EngineState:
    """The arrays, counters and hyperparameters of one model's training."""

    coef: np.ndarray = field(metadata=_ROW)
    coef_accumulator: np.ndarray = field(metadata=_ROW)
    # The step up to which each row has taken its penalty steps.
    last_step: np.ndarray = field(metadata=_ROW)
    # Running sums of the iterates once averaging has begun; None without it.
    coef_sum: np.ndarray | None = field(metadata=_ROW)
    intercept: np.ndarray
    intercept_accumulator: np.ndarray
    intercept_sum: np.ndarray
    t: int
    samples_seen: int
    rate_history: "RateHistory"
    # The average covers steps average_start..t once averaging has begun.
    average_start: int | None
    average_from_sample: int
    loss: Any
    schedule: Any
    penalty: Any
    eps: float
    fit_intercept: bool

    @classmethod
    def new(
        cls,
        n_features: int,
        n_outputs: int,
        *,
        initial_accumulator_value: float,
        average_from_sample: int,
        dtype=np.float64,
        small_pages_from: float = HUGE_PAGE_ADVICE_BYTES,
        map_at_once: bool = False,
        **hyperparameters,
    ) -> "EngineState":
        """The state of an untrained model: every array of the state is made
        here, of ``dtype`` (the step counters excepted); the row fields are
        mapped as ``_pages.zeros`` maps them from ``small_pages_from`` bytes,
        all at once with ``map_at_once``."""
        shape = (n_features, n_outputs)
        zeros_ = partial(zeros, small_pages_from=small_pages_from, at_once=map_at_once)
        return cls(
            coef=zeros_(shape, dtype),
            coef_accumulator=_filled(zeros_(shape, dtype), initial_accumulator_value),
            last_step=zeros_(n_features, np.int64),
            coef_sum=zeros_(shape, dtype) if average_from_sample else None,
            intercept=np.zeros(n_outputs, dtype=dtype),
            intercept_accumulator=_filled(
                np.zeros(n_outputs, dtype), initial_accumulator_value
            ),
            intercept_sum=np.zeros(n_outputs, dtype=dtype),
            t=0,
            samples_seen=0,
            rate_history=RateHistory(),
            average_start=None,
            average_from_sample=average_from_sample,
            **hyperparameters,
        )

    # The journal asks for these at every step: listed once, not per call.
    @classmethod
    @cache
    def row_fields(cls) -> tuple[str, ...]:
        """Names of the fields with one row per feature."""
        return tuple(f.name for f in fields(cls) if f.metadata.get("rows"))

    @classmethod
    @cache
    def small_fields(cls) -> tuple[str, ...]:
        """Names of the other fields."""
        return tuple(f.name for f in fields(cls) if not f.metadata.get("rows"))

    @property
    def n_rows(self) -> int:
        return self.coef.shape[0]

    def export_rows(self, rows):
        """``(row_values, small_values)``: copies of the row fields at ``rows``
        (an ascending index array; None for a field the state lacks) as they
        are stored, pending penalty steps and all, and of the small fields."""
        row_values = {
            name: None if value is None else take_rows(value, rows)
            for name in self.row_fields()
            for value in [getattr(self, name)]
        }
        small_values = {
            name: copy.deepcopy(getattr(self, name)) for name in self.small_fields()
        }
        return row_values, small_values

    def import_rows(self, rows, row_values, small_values):
        """Write what :meth:`export_rows` gave for ``rows`` of a state of the
        same shape into this one."""
        for name, values in row_values.items():
            field_ = getattr(self, name)
            if values is None or field_ is None:
                if (values is None) != (field_ is None):
                    raise ValueError(f"Rows of {name!r} do not fit this model.")
                continue
            if field_.ndim == 2:
                put_rows(field_, rows, values)
            else:
                field_[rows] = values
        for name, value in small_values.items():
            setattr(self, name, copy.deepcopy(value))


def _filled(array, value):
    """The zeros ``array`` filled with ``value``. Zeros are left as they are:
    their pages are mapped only where first written (see ``_pages``), where
    filling would write every page of a wide model (hashed features) up front."""
    if value != 0:
        array.fill(value)
    return array


class RateHistory:
    """``sums[t]``: the sum of the rates of steps 1..t (``sums[0] = 0``), which the
    lazy L1 catch-up searches under ``lr_decay``. Grows by doubling, so an append
    costs O(1) amortised."""

    def __init__(self):
        self._buffer = np.zeros(1024)
        self._size = 1

    @property
    def sums(self):
        return self._buffer[: self._size]

    def append(self, rate):
        if self._size == self._buffer.size:
            self._buffer = np.concatenate([self._buffer, np.zeros_like(self._buffer)])
        self._buffer[self._size] = self._buffer[self._size - 1] + rate
        self._size += 1

    def __getstate__(self):
        # Only the filled part is state: the spare room beyond it may hold what a
        # rolled-back call wrote there.
        return {"sums": self.sums.copy()}

    def __setstate__(self, state):
        self._size = state["sums"].size
        self._buffer = np.zeros(max(1024, 2 * self._size))
        self._buffer[: self._size] = state["sums"]

    def __copy__(self):
        # Appends write past the copy's size or into a new buffer, so the two
        # may share the one they have.
        clone = RateHistory.__new__(RateHistory)
        clone._buffer, clone._size = self._buffer, self._size
        return clone


def state_field(name):
    """A property of an object that holds an :class:`EngineState` as ``state``,
    which is the state's field ``name``: the engine's code reads ``self.coef``
    while everything it stores stays in one object. Reads go through a C-level
    getter, as fast as a plain attribute lookup."""

    def set_field(holder, value):
        setattr(holder.state, name, value)

    return property(attrgetter(f"state.{name}"), set_field)
