"""A dataset's samples looked at before training, in numpy: which poses were not found or are
unsure (low keypoint scores), which sit among another class's samples (likely mislabels: most of
their nearest neighbours in `pose` feature space are of one other class), which are near-duplicates
of another sample, and a 2-D map of the features (PCA) to draw coloured by class.

The thresholds below were read off yoga5 (PoseNet, 40 images per class): see the README's
*Exploring a dataset*."""
from __future__ import annotations

import numpy as np

from .features import MIN_SCORE, pose_matrix

NO_POSE_SEEN = 3  # fewer keypoints than this score >= MIN_SCORE: no pose was found
UNSURE_SEEN = 8  # fewer than this (of 17), or a mean score under UNSURE_MEAN: the pose is unsure
UNSURE_MEAN = 0.3
K = 5  # neighbours looked at for a mislabel
MISLABEL_SHARE = 0.6  # at least this share of the K neighbours of one other class: likely mislabelled
DUPLICATE_DISTANCE = 0.1  # pose vectors closer than this (Euclidean, 97 floats): near-duplicates (1 px of
# jitter on a 300 px yoga5 image moves a vector ~0.2; the closest two yoga5 images are 0.20 apart)
MAX_SAMPLES = 5000  # the pairwise distances are computed in blocks; beyond this the request is refused
BLOCK = 512


def _neighbours(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k nearest other rows: (indices (N, k), distances (N, k)), nearest first."""
    n = len(x)
    k = min(k, n - 1)
    sq = (x * x).sum(1)
    idx, dist = np.zeros((n, k), dtype=int), np.zeros((n, k))
    for start in range(0, n, BLOCK):
        block = x[start:start + BLOCK]
        d2 = np.maximum(sq[start:start + BLOCK, None] + sq[None, :] - 2 * block @ x.T, 0.0)
        d2[np.arange(len(block)), np.arange(start, start + len(block))] = np.inf  # not itself
        part = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < n - 1 else np.argsort(d2, axis=1)[:, :k]
        order = np.take_along_axis(d2, part, 1).argsort(1)
        idx[start:start + BLOCK] = np.take_along_axis(part, order, 1)
        dist[start:start + BLOCK] = np.sqrt(np.take_along_axis(d2, idx[start:start + BLOCK], 1))
    return idx, dist


def pca_2d(x: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """(N, D) -> (N, 2) on the two principal axes, and the share of the variance each explains."""
    if len(x) < 2:
        return np.zeros((len(x), 2)), [0.0, 0.0]
    centred = x - x.mean(0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:2] if len(vt) >= 2 else np.vstack([vt, np.zeros_like(vt)])
    var = s ** 2
    explained = [float(v / var.sum()) if var.sum() else 0.0 for v in list(var[:2]) + [0.0] * (2 - len(var[:2]))]
    return centred @ axes.T, explained


def explore(ids: list[int], labels: list[str], keypoints: np.ndarray) -> dict:
    """ids, labels and (N, 17, 3) COCO-17 keypoints (x, y, score) of every sample -> {points,
    explained, thresholds}: each point {id, label, x, y, seen, mean_score, flags}, flags a list of
    {kind: no_pose | unsure | mislabel | duplicate, ...details}."""
    kps = np.asarray(keypoints, dtype=np.float64).reshape(len(ids), 17, 3)
    scores = kps[..., 2]
    seen = (scores >= MIN_SCORE).sum(1)
    mean = scores.mean(1) if len(ids) else np.zeros(0)
    found = seen >= NO_POSE_SEEN
    x = pose_matrix(kps).astype(np.float64) if len(ids) else np.zeros((0, 97))
    flags: list[list[dict]] = [[] for _ in ids]
    for i in range(len(ids)):
        if not found[i]:
            flags[i].append({"kind": "no_pose", "seen": int(seen[i])})
        elif seen[i] < UNSURE_SEEN or mean[i] < UNSURE_MEAN:
            flags[i].append({"kind": "unsure", "seen": int(seen[i]), "mean_score": round(float(mean[i]), 3)})
    where = np.flatnonzero(found)  # neighbours and the map: only samples with a pose
    coords = np.full((len(ids), 2), np.nan)
    explained = [0.0, 0.0]
    if len(where) >= 2:
        coords[where], explained = pca_2d(x[where])
        idx, dist = _neighbours(x[where], K)
        lab = np.array(labels, dtype=object)[where]
        for row, i in enumerate(where):
            near = lab[idx[row]]
            others = [c for c in near if c != labels[i]]
            if others and len(near) >= 3:
                top = max(set(others), key=others.count)
                share = others.count(top) / len(near)
                if share >= MISLABEL_SHARE:
                    flags[i].append({"kind": "mislabel", "suggested": top, "share": round(share, 2)})
            j, d = idx[row, 0], dist[row, 0]
            if d < DUPLICATE_DISTANCE and ids[where[j]] < ids[i]:  # the later of a pair is the duplicate
                flags[i].append({"kind": "duplicate", "of": int(ids[where[j]]), "of_label": labels[where[j]],
                                 "distance": round(float(d), 4)})
    points = [{"id": int(ids[i]), "label": labels[i],
               "x": None if np.isnan(coords[i, 0]) else round(float(coords[i, 0]), 4),
               "y": None if np.isnan(coords[i, 1]) else round(float(coords[i, 1]), 4),
               "seen": int(seen[i]), "mean_score": round(float(mean[i]), 3), "flags": flags[i]}
              for i in range(len(ids))]
    return {"points": points, "explained": [round(e, 4) for e in explained],
            "thresholds": {"min_score": MIN_SCORE, "no_pose_seen": NO_POSE_SEEN, "unsure_seen": UNSURE_SEEN,
                           "unsure_mean": UNSURE_MEAN, "k": K, "mislabel_share": MISLABEL_SHARE,
                           "duplicate_distance": DUPLICATE_DISTANCE}}
