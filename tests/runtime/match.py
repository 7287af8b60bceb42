"""Pairing poses from two estimators (same pixels) and measuring how far apart they are."""
from __future__ import annotations

import math


def mean_distance(a: list[dict], b: list[dict], min_score: float) -> float:
    d = [math.dist((p["x"], p["y"]), (q["x"], q["y"])) for p, q in zip(a, b)
         if p["score"] >= min_score and q["score"] >= min_score]
    return sum(d) / len(d) if d else math.inf


def pair(ours: list, theirs: list, min_score: float = 0.3) -> list[tuple]:
    """Greedy pairs of (our keypoints, their keypoints), closest first; unpaired poses are left out."""
    ours = [getattr(p, "keypoints", p) for p in ours]
    theirs = [p["keypoints"] if isinstance(p, dict) else getattr(p, "keypoints", p) for p in theirs]
    candidates = sorted((mean_distance(a, b, min_score), i, j)
                        for i, a in enumerate(ours) for j, b in enumerate(theirs))
    used_i, used_j, out = set(), set(), []
    for d, i, j in candidates:
        if i in used_i or j in used_j or d == math.inf:
            continue
        used_i.add(i)
        used_j.add(j)
        out.append((ours[i], theirs[j]))
    return out
