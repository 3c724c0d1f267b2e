"""The sizes of the steps of an epoch, which ``verbose=2`` prints."""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._step_terms import per_entry, step_sizes


@dataclass
class StepStats:
    """Sizes of the steps of an epoch, for ``verbose=2``."""

    steps: int = 0
    active_features: int = 0
    nonzeros: int = 0
    step_size_sum: float = 0.0
    coordinates: int = 0

    def record(self, planned, shards, rate, eps):
        """Count a step of ``planned`` whose ``shards`` (gathered, then stepped)
        hold their new accumulators."""
        self.steps += 1
        for shard in shards:
            G, block = planned.path.stepped_accumulators(shard), shard.block
            # A coordinate that has had no gradient yet takes steps of 0,
            # whatever its step size (rate / eps): not counted in the mean.
            entries = np.flatnonzero(G > 0)
            outputs = entries % G.shape[1]
            sizes = step_sizes(
                G.reshape(-1)[entries],
                per_entry(eps, outputs),
                per_entry(rate, outputs),
            )
            self.active_features += G.shape[0]
            self.nonzeros += (
                block.nnz if sp.issparse(block) else np.count_nonzero(block)
            )
            self.step_size_sum += float(sizes.sum())
            self.coordinates += sizes.size

    def summary(self):
        steps = max(self.steps, 1)
        mean_step = self.step_size_sum / max(self.coordinates, 1)
        return (
            f"{self.steps} steps, {self.nonzeros / steps:.0f} nonzeros and "
            f"{self.active_features / steps:.0f} active features per step, "
            f"mean step size {mean_step:.3g} (of the coordinates that have had "
            "a gradient)"
        )
