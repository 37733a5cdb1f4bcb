"""Random draws and array helpers the simulation shares: categorical picks, nulls, groups, firmographics."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from flywheel_demo.vocabularies import COUNTRIES, FIRST_NAMES, INDUSTRIES, LAST_NAMES


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function: turns a score into a probability."""
    return 1.0 / (1.0 + np.exp(-x))


def pick(rng: np.random.Generator, weights: Sequence[float] | np.ndarray, n: int) -> np.ndarray:
    """Indices drawn with the given (unnormalised) weights."""
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=n, p=p / p.sum())


def pick_rows(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (n, k) probability matrix."""
    cumulative = np.cumsum(probabilities, axis=1)
    u = rng.random(len(probabilities))[:, None] * cumulative[:, -1:]
    return np.minimum((u > cumulative).sum(axis=1), probabilities.shape[1] - 1)


def null_some(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    """A copy of an object or float array with a random share of nulls (bytes become an object array)."""
    out = values.astype(object) if values.dtype.kind == "S" else values.copy()
    hit = rng.random(len(values)) < share
    out[hit] = None if out.dtype == object else np.nan
    return out


def or_null(keep: np.ndarray, values: np.ndarray) -> np.ndarray:
    """An object array with `values` where `keep`, else None."""
    out = np.full(len(keep), None, dtype=object)
    out[keep] = np.asarray(values, dtype=object)[keep]
    return out


def lookup_or_null(vocabulary: np.ndarray, index: np.ndarray) -> np.ndarray:
    """vocabulary[index], with None where index is negative."""
    return or_null(index >= 0, vocabulary[np.maximum(index, 0)])


def concat(parts: Sequence[np.ndarray]) -> np.ndarray:
    """np.concatenate that accepts an empty list."""
    return np.concatenate([np.asarray(p) for p in parts]) if parts else np.empty(0)


def group_offsets(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For np.repeat(arange(len(counts)), counts): the parent index and the rank within the parent."""
    parent = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return parent, np.arange(len(parent)) - starts[parent]


def draw_names(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Random first and last names, as indices into FIRST_NAMES and LAST_NAMES."""
    return rng.integers(0, len(FIRST_NAMES), n), rng.integers(0, len(LAST_NAMES), n)


def firmographics(rng: np.random.Generator, n: int, log_median: np.ndarray | float) -> dict[str, np.ndarray]:
    """Employees (log-normal), segment, industry, country and a correlated annual revenue."""
    employees = np.clip(np.round(np.exp(rng.normal(log_median, 1.3, n))), 1, 250_000)
    segment = (employees >= 100).astype(np.int64) + (employees >= 1_000)
    revenue = np.round(employees * np.exp(rng.normal(np.log(150_000.0), 0.5, n)), -3)
    return {
        "employees": employees,
        "segment": segment,
        "revenue": revenue,
        "industry": pick(rng, [w for _, w, _ in INDUSTRIES], n),
        "country": pick(rng, [w for _, w, _ in COUNTRIES], n),
    }
