"""Token-budget batching: sort texts by token length and cut batches by padded token count.

Pure Python/numpy (no torch), so the logic is tested on any machine. A batch is a run of texts of
similar length; its *padded* size is ``len(batch) * max_len(batch)``. Batches are cut so that

* the padded size stays within ``max_tokens`` (a single text longer than the budget forms its own
  batch; the model truncates long texts before they get here),
* no batch holds more than ``max_batch_size`` texts,
* each batch's padded / real token ratio stays within ``1 + max_padding``, so the whole plan's
  padding ratio does too.

Texts are ordered longest first, so the largest activations are allocated first (an out-of-memory
error shows up at once, not after minutes) and the allocator's blocks are reused afterwards.
:func:`restore_order` puts per-batch outputs back in input order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Batch:
    """One batch of a :class:`BatchPlan`.

    Attributes:
        indices: Positions of the batch's texts in the input, longest first.
        lengths: Token count of each of those texts.
    """

    indices: np.ndarray
    lengths: np.ndarray

    @property
    def size(self) -> int:
        return len(self.indices)

    @property
    def max_len(self) -> int:
        return int(self.lengths.max()) if len(self.lengths) else 0

    @property
    def real_tokens(self) -> int:
        return int(self.lengths.sum())

    @property
    def padded_tokens(self) -> int:
        return self.size * self.max_len


@dataclass(frozen=True)
class BatchPlan:
    """Batches covering every input position exactly once."""

    batches: tuple[Batch, ...]
    n_texts: int

    @property
    def real_tokens(self) -> int:
        return sum(b.real_tokens for b in self.batches)

    @property
    def padded_tokens(self) -> int:
        return sum(b.padded_tokens for b in self.batches)

    @property
    def padding_ratio(self) -> float:
        """Padded tokens / real tokens (1.0 = no padding; 1.0 for an empty plan)."""
        real = self.real_tokens
        return self.padded_tokens / real if real else 1.0

    @property
    def order(self) -> np.ndarray:
        """Input positions in the order the batches process them."""
        if not self.batches:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([b.indices for b in self.batches])


def plan_batches(
    lengths: Sequence[int] | np.ndarray,
    *,
    max_tokens: int = 65_536,
    max_batch_size: int = 1024,
    max_padding: float = 0.05,
) -> BatchPlan:
    """Group texts into length-sorted batches bounded by a padded-token budget.

    Args:
        lengths: Token count per text (after truncation), in input order.
        max_tokens: Budget of padded tokens per batch (``batch size * longest text``).
        max_batch_size: Most texts per batch.
        max_padding: Each batch's padded / real ratio stays at most ``1 + max_padding``.

    Returns:
        The plan; every input position appears in exactly one batch.

    Raises:
        ValueError: On a negative length or a non-positive budget.
    """
    if max_tokens < 1 or max_batch_size < 1 or max_padding < 0:
        raise ValueError("max_tokens and max_batch_size must be positive and max_padding >= 0")
    lens = np.asarray(lengths, dtype=np.int64).reshape(-1)
    if lens.size and lens.min() < 0:
        raise ValueError("token lengths must be >= 0")
    # Longest first; ties keep input order (stable sort on the negated lengths).
    order = np.argsort(-lens, kind="stable")
    sorted_lens = lens[order]
    batches: list[Batch] = []
    n = len(order)
    start = 0
    limit = 1.0 + max_padding
    while start < n:
        max_len = max(int(sorted_lens[start]), 1)
        # Texts that fit the token budget and the size cap, all at most max_len long.
        cap = min(max_batch_size, max(1, max_tokens // max_len), n - start)
        stop = start + cap
        # Shrink until the padding bound holds (real tokens grow with every text added, padded
        # tokens grow by max_len, so the ratio is checked on the cumulative sums).
        real = np.cumsum(np.maximum(sorted_lens[start:stop], 1))
        count = np.arange(1, cap + 1)
        ok = count * max_len <= limit * real
        # ok is True for the first element; the batch ends before the first violation.
        bad = np.flatnonzero(~ok)
        if bad.size:
            stop = start + int(bad[0])
        batches.append(Batch(indices=order[start:stop], lengths=sorted_lens[start:stop]))
        start = stop
    return BatchPlan(batches=tuple(batches), n_texts=n)


def restore_order(plan: BatchPlan, outputs: Sequence[np.ndarray]) -> np.ndarray:
    """Put per-batch outputs (rows in each batch's order) back into input order.

    Args:
        plan: The plan the outputs were produced with.
        outputs: One array per batch, ``(batch.size, dim)``.

    Returns:
        ``(plan.n_texts, dim)`` rows in input order.

    Raises:
        ValueError: When the outputs do not match the plan's batches.
    """
    if len(outputs) != len(plan.batches):
        raise ValueError(f"expected {len(plan.batches)} batch outputs, got {len(outputs)}")
    if not outputs:
        return np.zeros((0, 0), dtype=np.float32)
    dim = outputs[0].shape[1]
    result = np.empty((plan.n_texts, dim), dtype=outputs[0].dtype)
    for batch, out in zip(plan.batches, outputs, strict=True):
        if out.shape[0] != batch.size:
            raise ValueError(f"batch of {batch.size} texts got {out.shape[0]} output rows")
        result[batch.indices] = out
    return result
