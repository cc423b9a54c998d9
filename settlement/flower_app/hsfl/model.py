"""Logistic regression in numpy: what every node trains and the coordinator evaluates.

Weights are one vector: a coefficient per feature, then the intercept. Pure functions, so the
tests and the coordinator use exactly what the nodes run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

Vector = NDArray[np.float64]


def initial(features: int) -> Vector:
    return np.zeros(features + 1)


def _logits(w: Vector, x: Vector) -> Vector:
    return np.asarray(x @ w[:-1] + w[-1], dtype=np.float64)


def predict(w: Vector, x: Vector) -> Vector:
    return np.asarray(1.0 / (1.0 + np.exp(-_logits(w, x))), dtype=np.float64)


def train(w: Vector, x: Vector, y: Vector, epochs: int, lr: float, l2: float = 1e-3) -> Vector:
    """Full-batch gradient descent on the mean log loss (small clinic datasets fit in memory)."""
    w = w.copy()
    n = max(len(y), 1)
    for _ in range(epochs):
        error = predict(w, x) - y
        grad = np.concatenate([x.T @ error / n + l2 * w[:-1], [error.mean() if len(y) else 0.0]])
        w -= lr * grad
    return w


def accuracy(w: Vector, x: Vector, y: Vector) -> float:
    """Share of correct predictions at threshold 0.5 (the coalition utility, × 100)."""
    if len(y) == 0:
        return 0.0
    return float(((predict(w, x) >= 0.5) == (y >= 0.5)).mean())


def auc(w: Vector, x: Vector, y: Vector) -> float | None:
    """Area under the ROC curve (Mann–Whitney, ties counted half); None with one class only."""
    scores = predict(w, x)
    positive, negative = scores[y >= 0.5], scores[y < 0.5]
    if len(positive) == 0 or len(negative) == 0:
        return None
    greater = (positive[:, None] > negative[None, :]).sum()
    ties = (positive[:, None] == negative[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(positive) * len(negative)))


def log_loss(w: Vector, x: Vector, y: Vector) -> float:
    p = np.clip(predict(w, x), 1e-9, 1 - 1e-9)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()) if len(y) else 0.0


def average(models: Sequence[Vector], weights: Sequence[float]) -> Vector:
    """FedAvg: the example-weighted mean of the members' models."""
    total = float(sum(weights))
    if total <= 0:
        raise ValueError("no examples to average")
    return np.asarray(
        sum(m * (k / total) for m, k in zip(models, weights, strict=True)), dtype=np.float64
    )


def digest(w: Vector) -> str:
    """SHA-256 of a model's float64 little-endian bytes: what the ledger records per update."""
    return "sha256:" + hashlib.sha256(np.asarray(w, dtype="<f8").tobytes()).hexdigest()


def coalition_key(members: Sequence[str]) -> str:
    return ",".join(sorted(members))
