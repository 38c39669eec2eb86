"""Token-budget batching: budget, order, completeness and padding (pure numpy, fast)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.embedders.batching import plan_batches, restore_order


def _lognormal_lengths(n: int, seed: int = 0) -> np.ndarray:
    """Feedback-like token lengths: median ~40, p99 ~320, capped at 2048."""
    rng = np.random.default_rng(seed)
    sigma = np.log(320 / 40) / 2.326
    return np.clip(np.round(rng.lognormal(np.log(40), sigma, n)), 1, 2048).astype(np.int64)


@settings(max_examples=200, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 600), min_size=0, max_size=300),
    max_tokens=st.integers(1, 4096),
    max_batch_size=st.integers(1, 64),
)
def test_every_text_once_within_budget(lengths: list[int], max_tokens: int, max_batch_size: int) -> None:
    plan = plan_batches(lengths, max_tokens=max_tokens, max_batch_size=max_batch_size)
    order = plan.order
    assert sorted(order.tolist()) == list(range(len(lengths)))  # nothing lost or duplicated
    for batch in plan.batches:
        assert 1 <= batch.size <= max_batch_size
        # Over budget only for a lone text longer than the budget.
        assert batch.padded_tokens <= max_tokens or batch.size == 1
        np.testing.assert_array_equal(batch.lengths, np.asarray(lengths, dtype=np.int64)[batch.indices])
        assert max(batch.lengths.max(), 1) * batch.size <= 1.05 * np.maximum(batch.lengths, 1).sum() + 1e-9
    assert plan.padding_ratio <= 1.05 + 1e-9 or plan.real_tokens == 0


@settings(max_examples=100, deadline=None)
@given(lengths=st.lists(st.integers(1, 300), min_size=1, max_size=200), dim=st.integers(1, 5))
def test_restore_order_inverts_the_plan(lengths: list[int], dim: int) -> None:
    plan = plan_batches(lengths, max_tokens=512, max_batch_size=16)
    values = np.arange(len(lengths) * dim, dtype=np.float32).reshape(len(lengths), dim)
    outputs = [values[b.indices] for b in plan.batches]  # what a model would return per batch
    np.testing.assert_array_equal(restore_order(plan, outputs), values)


def test_realistic_mix_padding_and_budget() -> None:
    lengths = _lognormal_lengths(100_000)
    assert 35 <= np.median(lengths) <= 45 and 250 <= np.percentile(lengths, 99) <= 400
    plan = plan_batches(lengths, max_tokens=65_536, max_batch_size=2048)
    assert plan.padding_ratio <= 1.05
    assert plan.real_tokens == int(lengths.sum())
    # Budget is actually used: the bulk of tokens go through large batches.
    big = sum(b.real_tokens for b in plan.batches if b.padded_tokens >= 32_768)
    assert big / plan.real_tokens > 0.9
    # Longest texts come first.
    assert plan.batches[0].max_len == lengths.max()
    # A random-order fixed-size loop, for contrast, pads several times over.
    rng = np.random.default_rng(0)
    shuffled = rng.permutation(lengths)
    naive_padded = sum(len(c) * c.max() for c in np.array_split(shuffled, len(shuffled) // 64))
    assert naive_padded / lengths.sum() > 3


def test_fixed_lengths_have_no_padding() -> None:
    plan = plan_batches([128] * 1000, max_tokens=8192, max_batch_size=1000)
    assert plan.padding_ratio == 1.0
    assert all(b.size == 64 for b in plan.batches[:-1])


def test_errors() -> None:
    with pytest.raises(ValueError):
        plan_batches([1, -1])
    with pytest.raises(ValueError):
        plan_batches([1], max_tokens=0)
    plan = plan_batches([3, 2])
    with pytest.raises(ValueError):
        restore_order(plan, [])
    assert plan_batches([]).padding_ratio == 1.0
