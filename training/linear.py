"""Logistic regression in numpy: binary and multinomial, L2-regularised, fitted by L-BFGS.

Rows are hashed sparse features plus a dense block. Full-batch L-BFGS has no randomness, so the same
data always gives the same weights; training needs nothing beyond numpy (no scikit-learn, no scipy).
The objective is sklearn's `LogisticRegression(C=c, class_weight="balanced")`: the class-weighted sum
of log losses times C plus half the squared norm of the weights (the bias unpenalised).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from checker.features import Hashed


@dataclass
class SparseRows:
    """Rows in coordinate form: row id, column, value for each stored entry."""

    rows: np.ndarray  # int64, one per entry
    cols: np.ndarray  # int64
    values: np.ndarray  # float64
    n_rows: int
    n_cols: int

    @classmethod
    def of(cls, hashed: Sequence[Hashed], n_cols: int) -> "SparseRows":
        lengths = np.array([len(h.indices) for h in hashed], dtype=np.int64)
        rows = np.repeat(np.arange(len(hashed), dtype=np.int64), lengths)
        cols = np.concatenate([h.indices for h in hashed]) if hashed else np.zeros(0, dtype=np.int64)
        values = np.concatenate([h.values for h in hashed]).astype(np.float64) if hashed else np.zeros(0)
        return cls(rows, cols.astype(np.int64), values, len(hashed), n_cols)

    def take(self, keep: np.ndarray) -> "SparseRows":
        """The rows where `keep` (a boolean per row) holds, renumbered."""
        new_id = np.cumsum(keep) - 1
        mask = keep[self.rows]
        return SparseRows(new_id[self.rows[mask]], self.cols[mask], self.values[mask], int(keep.sum()), self.n_cols)

    def dot(self, w: np.ndarray) -> np.ndarray:
        """X @ w for w of shape (n_cols,) or (n_cols, k)."""
        if w.ndim == 1:
            return np.bincount(self.rows, weights=self.values * w[self.cols], minlength=self.n_rows)
        products = self.values[:, None] * w[self.cols]
        return np.stack([np.bincount(self.rows, weights=products[:, j], minlength=self.n_rows)
                         for j in range(w.shape[1])], axis=1)

    def tdot(self, g: np.ndarray) -> np.ndarray:
        """X.T @ g for g of shape (n_rows,) or (n_rows, k)."""
        if g.ndim == 1:
            return np.bincount(self.cols, weights=self.values * g[self.rows], minlength=self.n_cols)
        products = self.values[:, None] * g[self.rows]
        return np.stack([np.bincount(self.cols, weights=products[:, j], minlength=self.n_cols)
                         for j in range(g.shape[1])], axis=1)


@dataclass
class LinearModel:
    """Weights of one classifier: sparse block, dense block, bias; k columns for k classes (1 if binary)."""

    sparse: np.ndarray  # (n_cols,) or (n_cols, k)
    dense: np.ndarray  # (n_dense,) or (n_dense, k)
    bias: np.ndarray  # () or (k,)
    shared: np.ndarray | None = None  # (n_shared_cols,): weights of the rows' shared (draft) block


def balanced_weights(y: np.ndarray) -> np.ndarray:
    """n / (k * count of the row's class), as sklearn's class_weight="balanced"."""
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    return (len(y) / (len(classes) * counts))[inverse]


def fit(X: SparseRows, D: np.ndarray, y: np.ndarray, n_classes: int = 2, C: float = 1.0,
        iterations: int = 300, tolerance: float = 1e-6,
        shared: tuple[SparseRows, np.ndarray] | None = None) -> LinearModel:
    """Fit binary (n_classes=2, y in {0, 1}) or multinomial (y in 0..n_classes-1) logistic regression.

    `shared` (binary only) is a block of rows many examples share, with the index of each example's
    row: a sentence reads its whole draft's words without the draft being copied into every row."""
    y = np.asarray(y, dtype=np.int64)
    sample = balanced_weights(y)
    k = 1 if n_classes == 2 else n_classes
    if shared is not None and k != 1:
        raise ValueError("a shared block is supported for binary models only")
    G, group_of = shared if shared is not None else (None, None)
    n_sparse, n_dense = X.n_cols, D.shape[1]
    n_shared = G.n_cols if G is not None else 0
    size = (n_sparse + n_shared + n_dense + 1) * k
    onehot = np.eye(n_classes)[y] if k > 1 else None

    def unpack(theta):
        if k == 1:
            return (theta[:n_sparse], theta[n_sparse:n_sparse + n_shared],
                    theta[n_sparse + n_shared:n_sparse + n_shared + n_dense], theta[-1])
        m = theta.reshape(n_sparse + n_dense + 1, k)
        return m[:n_sparse], None, m[n_sparse:n_sparse + n_dense], m[-1]

    def loss_and_grad(theta):
        ws, wg, wd, b = unpack(theta)
        z = X.dot(ws) + D @ wd + b
        if G is not None:
            z = z + G.dot(wg)[group_of]
        if k == 1:
            # log(1 + exp(-s z)) with s = +-1, computed stably
            s = 2.0 * y - 1.0
            margin = s * z
            loss = np.sum(sample * np.logaddexp(0.0, -margin))
            dz = sample * (-s / (1.0 + np.exp(margin)))
        else:
            z = z - z.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            loss = -np.sum(sample * (onehot * logp).sum(axis=1))
            dz = sample[:, None] * (np.exp(logp) - onehot)
        loss = C * loss + 0.5 * (np.sum(ws * ws) + np.sum(wd * wd))
        gs = C * X.tdot(dz) + ws
        gd = C * (D.T @ dz) + wd
        gb = C * dz.sum(axis=0)
        if k == 1:
            gg = np.zeros(0)
            if G is not None:
                loss += 0.5 * np.sum(wg * wg)
                gg = C * G.tdot(np.bincount(group_of, weights=dz, minlength=G.n_rows)) + wg
            grad = np.concatenate([gs, gg, gd, [gb]])
        else:
            grad = np.concatenate([gs, gd, gb[None, :]]).ravel()
        return loss, grad

    theta = _lbfgs(loss_and_grad, np.zeros(size), iterations, tolerance)
    ws, wg, wd, b = unpack(theta)
    return LinearModel(ws.astype(np.float32), wd.astype(np.float32), np.asarray(b, dtype=np.float32),
                       wg.astype(np.float32) if G is not None else None)


def _lbfgs(f, x, iterations: int, tolerance: float, memory: int = 10):
    """Minimise f (returning loss, gradient) by L-BFGS with a backtracking Armijo line search."""
    loss, grad = f(x)
    s_hist: list[np.ndarray] = []
    y_hist: list[np.ndarray] = []
    for _ in range(iterations):
        q = grad.copy()
        alphas = []
        for s, yv in zip(reversed(s_hist), reversed(y_hist)):
            rho = 1.0 / np.dot(yv, s)
            a = rho * np.dot(s, q)
            alphas.append((rho, a))
            q -= a * yv
        if s_hist:
            q *= np.dot(s_hist[-1], y_hist[-1]) / np.dot(y_hist[-1], y_hist[-1])
        else:
            q /= max(1.0, float(np.linalg.norm(q)))
        for (s, yv), (rho, a) in zip(zip(s_hist, y_hist), reversed(alphas)):
            b = rho * np.dot(yv, q)
            q += s * (a - b)
        direction = -q
        slope = np.dot(grad, direction)
        if slope >= 0:  # not a descent direction: restart from the gradient
            s_hist.clear(), y_hist.clear()
            direction, slope = -grad, -np.dot(grad, grad)
        step = 1.0
        for _ in range(30):
            new_x = x + step * direction
            new_loss, new_grad = f(new_x)
            if new_loss <= loss + 1e-4 * step * slope:
                break
            step *= 0.5
        else:
            break
        s_vec, y_vec = new_x - x, new_grad - grad
        if np.dot(s_vec, y_vec) > 1e-10:
            s_hist.append(s_vec)
            y_hist.append(y_vec)
            if len(s_hist) > memory:
                s_hist.pop(0), y_hist.pop(0)
        converged = abs(loss - new_loss) <= tolerance * max(1.0, abs(loss))
        x, loss, grad = new_x, new_loss, new_grad
        if converged:
            break
    return x
