"""Two-dimensional maps of embeddings: principal components (UMAP is not a dependency here).

``pca_2d(X)``: X (n, d) rows (L2-normalised embeddings, as stored); centred, then the top two right
singular vectors of the centred matrix give the axes; coordinates (n, 2) = X_c V_2, and the share
of the total variance each explains is s_k² / Σ s². Signs follow scikit-learn's `svd_flip` (the
largest absolute loading of each axis positive), so the same data always gives the same picture.
Reference: Jolliffe (2002), Principal Component Analysis; ``sklearn.decomposition.PCA``.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def pca_2d(X: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(coordinates (n, 2), explained variance ratio (2,)); fewer than 2 rows or no variance: zeros."""
    A = np.asarray(X, dtype=np.float64)
    n = A.shape[0]
    if n < 2:
        return np.zeros((n, 2)), np.zeros(2)
    centred = A - A.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    total = float((s**2).sum())
    if total <= 0:
        return np.zeros((n, 2)), np.zeros(2)
    k = min(2, vt.shape[0])
    axes = vt[:k]
    signs = np.sign(axes[np.arange(k), np.argmax(np.abs(axes), axis=1)])
    axes = axes * signs[:, None]
    coords = np.zeros((n, 2))
    coords[:, :k] = centred @ axes.T
    ratio = np.zeros(2)
    ratio[:k] = s[:k] ** 2 / total
    return coords, ratio
