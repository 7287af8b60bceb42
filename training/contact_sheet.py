"""The contact sheet of an evaluation's mistakes: one self-contained HTML page (no file beside it,
nothing fetched), each misclassified image as a thumbnail (a JPEG data URL) with the skeleton the
model classified drawn over it in SVG, the true class, what the model said and its confidence.
Every text is HTML-escaped (labels and file names come from folders)."""
from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np

from core.tables import EDGES

THUMB = 240  # the thumbnail's longer side, px
MIN_SCORE = 0.2  # keypoints under this are not drawn (core/features.py MIN_SCORE)

STYLE = """
body { font: 14px system-ui, sans-serif; margin: 1.5rem; color: #222; }
.grid { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; width: 240px; border: 1px solid #ccc; border-radius: 6px; overflow: hidden; }
svg { display: block; width: 240px; height: 240px; background: #111; }
figcaption { padding: 6px 8px; line-height: 1.35; }
.true { color: #1a7f37; font-weight: 600; } .said { color: #c62828; font-weight: 600; }
.path { color: #666; font-size: 12px; word-break: break-all; }
table { border-collapse: collapse; margin: 0 0 1rem; } th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: right; }
td.diag { background: #e6f4ea; font-weight: 600; }
line { stroke: #00e5ff; stroke-linecap: round; } circle { fill: #ffeb3b; }
"""


def thumbnail(rgb: np.ndarray, side: int = THUMB) -> bytes:
    """The image scaled so its longer side is `side`, as JPEG bytes."""
    import tensorflow as tf

    h, w = rgb.shape[:2]
    scale = side / max(h, w)
    small = tf.image.resize(rgb, (max(1, round(h * scale)), max(1, round(w * scale))), antialias=True)
    return tf.io.encode_jpeg(tf.cast(tf.clip_by_value(small, 0, 255), tf.uint8), quality=80).numpy()


def skeleton_svg(keypoints: list[dict] | None, scale: float = 1.0) -> str:
    """Lines and dots of the keypoints scoring >= MIN_SCORE, in the image's pixels; scale: image
    pixels per thumbnail pixel (so lines stay ~3 px wide on the thumbnail)."""
    if not keypoints:
        return ""
    by_name = {k["name"]: k for k in keypoints if k["score"] >= MIN_SCORE}
    parts = [f'<line x1="{by_name[a]["x"]:.1f}" y1="{by_name[a]["y"]:.1f}" x2="{by_name[b]["x"]:.1f}" '
             f'y2="{by_name[b]["y"]:.1f}"/>' for a, b in EDGES if a in by_name and b in by_name]
    parts += [f'<circle cx="{k["x"]:.1f}" cy="{k["y"]:.1f}" r="{4 * scale:.1f}"/>' for k in by_name.values()]
    return f'<g class="skeleton" style="stroke-width:{3 * scale:.1f}px">{"".join(parts)}</g>'


def figure(result, jpeg: bytes) -> str:
    """One mistake: the image with its skeleton (the SVG's viewBox is the image's pixels, so the
    keypoints need no scaling), and what was expected and said."""
    w, h = result.width, result.height
    seen = (f"{sum(k['score'] >= MIN_SCORE for k in result.keypoints)}/{len(result.keypoints)} keypoints seen"
            if result.keypoints else "no pose")
    said = result.said if result.best is None or result.said == result.best else f"{result.said} (best: {result.best})"
    return (
        f'<figure data-true="{html.escape(result.true)}" data-said="{html.escape(result.said)}">'
        f'<svg viewBox="0 0 {w} {h}" preserveAspectRatio="xMidYMid meet">'
        f'<image href="data:image/jpeg;base64,{base64.b64encode(jpeg).decode()}" width="{w}" height="{h}"/>'
        f'{skeleton_svg(result.keypoints, max(w, h) / THUMB)}</svg>'
        f'<figcaption>true <span class="true">{html.escape(result.true)}</span> · said '
        f'<span class="said">{html.escape(said)}</span> {100 * result.confidence:.0f} %'
        f'<div class="path">{html.escape(result.path.name)} · {seen}</div></figcaption></figure>')


def confusion_table(summary: dict) -> str:
    """training/evaluate_folder.py summary's confusion matrix as an HTML table (rows true, columns said)."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in summary["columns"])
    rows = "".join(
        f"<tr><th>{html.escape(name)}</th>" + "".join(
            f'<td{" class=diag" if col == name else ""}>{n}</td>' for col, n in zip(summary["columns"], row)) + "</tr>"
        for name, row in zip(summary["rows"], summary["confusion"]))
    return (f"<p>Accuracy {summary['accuracy']:.3f} ({summary['right']} of {summary['images']}). Rows: the true "
            f"class; columns: what the model said; the diagonal is right.</p>"
            f"<table><tr><th>true \\ said</th>{head}</tr>{rows}</table>")


def write(results, path: Path, *, title: str, summary: dict | None = None, load_image=None) -> int:
    """Write the contact sheet of the results that are wrong (after the confusion matrix when
    summary is given); returns how many it shows."""
    if load_image is None:
        from .posenet import load_image
    mistakes = [r for r in results if not r.right]
    figures = [figure(r, thumbnail(load_image(r.path))) for r in mistakes]
    body = "".join(figures) or "<p>No mistakes: every image was classified right.</p>"
    path.write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{confusion_table(summary) if summary else ''}"
        f"<p>{len(mistakes)} of {len(results)} images misclassified. Each shows the skeleton the model classified "
        f"(none: no pose found), the true class, what the model said (<i>unknown</i>: rejected under the "
        f"model's threshold; <i>no pose</i>: nobody found) and its confidence.</p>"
        f'<div class="grid">{body}</div></body></html>', encoding="utf-8")
    return len(mistakes)
