"""Overlapping tiles of an image and merging the people found in them (pure numpy).

MoveNet MultiPose sees the whole frame at its input size (long side 256 px) and returns at most
6 people; people 50-130 px tall in a 640x480 frame are 20-50 px at that input, and many go
unseen. Running it on ``n`` tiles along the image's long side, each as long as the short side
or less and overlapping the next by :data:`TILE_OVERLAP` of the long side, scales each person by
the short side instead of the long one and allows up to ``6 n`` people; anyone narrower than
the overlap less two edge margins is whole in at least one tile (:data:`EDGE_MARGIN`), and a
person found in two is merged. Someone a tile edge cuts whom no other tile sees whole is wider
than that: only then does the whole image have to be searched too
(:func:`seen_whole_elsewhere`), and a cut view is kept as the last resort when no other view
has that person (:func:`merge_tiles`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from pose_lifter.runtime.detection.base import Detections

#: Neighbouring tiles share this fraction of the image's long side (64 px of 640).
TILE_OVERLAP = 0.1
#: Two people of different views are one when their joint boxes overlap by this fraction of
#: the smaller box (people of the same network pass are never merged: a child in front of an
#: adult stays two).
DUPLICATE_OVERLAP = 0.5
#: A tile's person whose joints come this close to an edge it shares with a neighbour, as a
#: fraction of the tile's size across that edge (its width for a vertical edge: 11 px of a
#: 352 px wide tile of 640x480), is cut by it: joints beyond the edge are missing, not near it,
#: so the margin must be wide enough to catch a limb the edge took. Anyone narrower than the
#: overlap less two margins (43 px of 64) lies clear of the shared edges in at least one tile.
EDGE_MARGIN = 0.03


def tile_regions(width: int, height: int, tiles: int) -> list[tuple[int, int, int, int]]:
    """``(x0, y0, x1, y1)`` pixel ranges (end exclusive) of ``tiles`` overlapping tiles.

    The tiles split the long side ``L`` into equal spans ``L (1 + (tiles - 1) o) / tiles`` long,
    each overlapping the next by ``o L`` (``o`` = :data:`TILE_OVERLAP`); the first starts at 0,
    the last ends at ``L``; ``tiles == 1`` is the whole image. Every tile has at least one
    pixel: an image shorter than ``tiles`` pixels gets fewer tiles.
    """
    long_side = max(width, height)
    tiles = max(1, min(tiles, long_side))  # a tiny image: no more tiles than pixels
    length = long_side * (1 + (tiles - 1) * TILE_OVERLAP) / tiles
    step = (long_side - length) / (tiles - 1) if tiles > 1 else 0.0
    spans = []
    for i in range(tiles):
        start = min(round(i * step), long_side - 1)
        spans.append((start, max(start + 1, min(round(i * step + length), long_side))))
    if width >= height:
        return [(a, 0, b, height) for a, b in spans]
    return [(0, a, width, b) for a, b in spans]


def joint_boxes(detections: Detections) -> np.ndarray:
    """``(P, 4)`` boxes ``(x0, y0, x1, y1)`` around each person's present joints (pixels)."""
    present = detections.confidence > 0
    keypoints = detections.keypoints_2d.astype(np.float64)
    low = np.where(present[..., None], keypoints, np.inf).min(axis=1)
    high = np.where(present[..., None], keypoints, -np.inf).max(axis=1)
    boxes = np.concatenate([low, high], axis=1)
    return np.where(present.any(axis=1)[:, None], boxes, 0.0)


def split_at_inner_edges(
    detections: Detections, region: tuple[int, int, int, int], width: int, height: int
) -> tuple[Detections, Detections]:
    """Split a tile's people into those clear of the edges it shares with others and the cut.

    ``region`` is the tile's ``(x0, y0, x1, y1)`` in the ``width`` x ``height`` image; a person
    whose joints come within :data:`EDGE_MARGIN` of the overlap of a shared edge is cut (the
    image's own edges cut nobody). Returns ``(clear, cut)``.
    """
    x0, y0, x1, y1 = region
    boxes = joint_boxes(detections)
    across_x, across_y = EDGE_MARGIN * (x1 - x0), EDGE_MARGIN * (y1 - y0)
    clear = np.ones(len(detections), bool)
    if x0 > 0:
        clear &= boxes[:, 0] > x0 + across_x
    if x1 < width:
        clear &= boxes[:, 2] < x1 - across_x
    if y0 > 0:
        clear &= boxes[:, 1] > y0 + across_y
    if y1 < height:
        clear &= boxes[:, 3] < y1 - across_y
    return _select(detections, clear), _select(detections, ~clear)


def same_person(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Return ``(A, B)`` bool: boxes that overlap by :data:`DUPLICATE_OVERLAP` of the smaller."""
    size = np.maximum(
        np.minimum(boxes_a[:, None, 2:], boxes_b[None, :, 2:])
        - np.maximum(boxes_a[:, None, :2], boxes_b[None, :, :2]),
        0.0,
    )
    shared = size[..., 0] * size[..., 1]
    smaller = np.minimum(_areas(boxes_a)[:, None], _areas(boxes_b)[None, :])
    return shared > DUPLICATE_OVERLAP * smaller


def seen_whole_elsewhere(cut: Detections, clear: Detections) -> bool:
    """Return whether every person a tile edge ``cut`` is one of the ``clear`` people.

    When it is not, someone is wider than the tiles' overlap (or lies across it) and only
    the whole image sees them whole.
    """
    if not len(cut):
        return True
    if not len(clear):
        return False
    return bool(same_person(joint_boxes(cut), joint_boxes(clear)).any(axis=1).all())


def join(parts: Sequence[Detections]) -> Detections:
    """Concatenate the people of ``parts`` (not sorted)."""
    return Detections(
        np.concatenate([d.keypoints_2d for d in parts]),
        np.concatenate([d.confidence for d in parts]),
        np.concatenate([d.scores for d in parts]),
    )


def merge_tiles(
    found: list[Detections], max_persons: int, cut: Sequence[Detections] = ()
) -> Detections:
    """Merge the people of the whole image (``found[0]``, maybe empty) and of its tiles.

    One view per person. The whole image's people come first (a person wider than the overlap
    is only whole there), then the tiles' in order of score (plus 0.01 per present joint, so
    the whole view of a person cut by a tile edge wins over its part), then the tiles' ``cut``
    people (one list per tile: those a shared edge cut) as the last resort: a cut view is kept
    only when no other view has that person. A view whose joint box overlaps a taken one's of
    another network pass by :data:`DUPLICATE_OVERLAP` of the smaller box is the same person and
    dropped; people of the same pass are never merged. Returns at most ``max_persons`` (image
    pixels), sorted by score descending (ties: the earlier view).
    """
    parts = [*found, *cut]
    views = np.concatenate([np.full(len(d), v) for v, d in enumerate(parts)])
    everyone = join(parts)
    boxes = joint_boxes(everyone)
    priority = everyone.scores.astype(np.float64) + 0.01 * (everyone.confidence > 0).sum(axis=1)
    priority += np.where(views == 0, 10.0, 0.0)  # scores and bonuses stay below 10
    priority -= np.where(views >= len(found), 100.0, 0.0)  # cut views last
    duplicate = same_person(boxes, boxes) & (views[:, None] != views[None, :])
    kept: list[int] = []
    for i in np.argsort(-priority, kind="stable").tolist():
        if not duplicate[i, kept].any():
            kept.append(i)
    scores = everyone.scores
    order = sorted(kept, key=lambda i: (-float(scores[i]), i))[:max_persons]
    return _select(everyone, np.asarray(order, dtype=np.intp))


def _select(detections: Detections, index: np.ndarray) -> Detections:
    return Detections(
        detections.keypoints_2d[index], detections.confidence[index], detections.scores[index]
    )


def _areas(boxes: np.ndarray) -> np.ndarray:
    return np.prod(np.maximum(boxes[:, 2:] - boxes[:, :2], 0.0), axis=1)
