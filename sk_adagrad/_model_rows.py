"""Some rows of a model's state with all of the rest of it: what a
data-parallel epoch sends between workers, and lays over a model to make it
another (see ``_merge``)."""

import copy
from dataclasses import dataclass

import numpy as np

from ._base import BaseAdagrad


@dataclass
class ModelRows:
    """Some rows of a model's state, as stored, with all of the rest of it.

    ``rows`` (ascending) index the features; ``values`` maps each row field
    of the engine state to its values at ``rows``; ``small`` holds the
    engine's other fields and ``attributes`` the estimator's own (its
    ``classes_``, ``lr_``, ...). Laid over a model whose other rows are those
    of the model it was taken from, it makes that model exactly.
    """

    rows: np.ndarray
    values: dict
    small: dict
    attributes: dict

    @classmethod
    def of(cls, model: BaseAdagrad, rows: np.ndarray) -> "ModelRows":
        """The rows ``rows`` of a fitted ``model``, and the rest of its state."""
        values, small = model.optimizer_.export_rows(rows)
        attributes = {
            name: copy.deepcopy(value)
            for name, value in vars(model).items()
            if name != "optimizer_"
        }
        return cls(np.asarray(rows, dtype=np.int64), values, small, attributes)

    @property
    def nbytes(self) -> int:
        """The bytes of the row arrays, what sending these rows costs."""
        return self.rows.nbytes + sum(
            value.nbytes for value in self.values.values() if value is not None
        )

    def lay_over(self, model: BaseAdagrad) -> None:
        """Make ``model`` (the model these rows were taken from, or one
        differing from it only at these rows) the model they describe."""
        model.optimizer_.import_rows(self.rows, self.values, self.small)
        for name, value in self.attributes.items():
            setattr(model, name, copy.deepcopy(value))

    def then(self, newer: "ModelRows") -> "ModelRows":
        """These rows with ``newer``'s laid over them: the rows of either, each
        with ``newer``'s values where it has some, and ``newer``'s small state."""
        rows = np.union1d(self.rows, newer.rows)
        values = {}
        for name, older in self.values.items():
            latest = newer.values[name]
            if latest is None:
                values[name] = None
                continue
            merged = np.empty((len(rows),) + latest.shape[1:], latest.dtype)
            merged[np.searchsorted(rows, self.rows)] = older
            merged[np.searchsorted(rows, newer.rows)] = latest
            values[name] = merged
        return ModelRows(rows, values, newer.small, newer.attributes)


def no_rows(model: BaseAdagrad) -> ModelRows:
    """A fitted ``model`` as :class:`ModelRows` without rows: laid over the
    model itself, it changes nothing."""
    return ModelRows.of(model, np.empty(0, dtype=np.int64))


def stored_rows(base: BaseAdagrad, changes: ModelRows, rows: np.ndarray) -> dict:
    """The stored row fields at ``rows`` of ``base`` with ``changes`` laid over
    it, read without changing ``base``."""
    values, _ = base.optimizer_.export_rows(rows)
    position = np.searchsorted(changes.rows, rows)
    found = position < len(changes.rows)
    found[found] = changes.rows[position[found]] == rows[found]
    for name in values:
        if values[name] is not None:
            values[name][found] = changes.values[name][position[found]]
    return values
