"""Overlapping tiles of an image and merging the people found in them (pure numpy).

MoveNet MultiPose sees the whole frame at its input size (long side 256 px) and returns at most
6 people; people 50-130 px tall in a 640x480 frame are 20-50 px at that input, and many go
unseen. Running it on ``n`` tiles along the image's long side, each as long as the short side
or less and overlapping the next by :data:`TILE_OVERLAP` of the long side, scales each person by
the short side instead of the long one and allows up to ``6 n`` people; anyone narrower than the
overlap is whole in at least one tile, and a person found in two is merged. Someone a tile
edge cuts whom no other tile sees whole is wider than the overlap: only then does the whole
image have to be searched too (:func:`seen_whole_elsewhere`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from pose_lifter.runtime.detection.base import Detections

#: Neighbouring tiles share this fraction of the image's long side (64 px of 640).
TILE_OVERLAP = 0.1
#: Two people are one when their joint boxes overlap by this fraction of the smaller box.
DUPLICATE_OVERLAP = 0.5
#: A tile's person whose joints come this close (fraction of the tile) to an edge it shares
#: with a neighbour is cut by it: the neighbour or the whole image sees that person whole.
EDGE_MARGIN = 0.03


def tile_regions(width: int, height: int, tiles: int) -> list[tuple[int, int, int, int]]:
    """``(x0, y0, x1, y1)`` pixel ranges (end exclusive) of ``tiles`` overlapping tiles.

    The tiles split the long side ``L`` into equal spans ``L (1 + (tiles - 1) o) / tiles`` long,
    each overlapping the next by ``o L`` (``o`` = :data:`TILE_OVERLAP`); the first starts at 0,
    the last ends at ``L``; ``tiles == 1`` is the whole image.
    """
    long_side = max(width, height)
    length = long_side * (1 + (tiles - 1) * TILE_OVERLAP) / tiles
    step = (long_side - length) / (tiles - 1) if tiles > 1 else 0.0
    spans = [(round(i * step), round(i * step + length)) for i in range(tiles)]
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
    whose joints come within :data:`EDGE_MARGIN` of a shared edge is cut (the image's own
    edges cut nobody). Returns ``(clear, cut)``.
    """
    x0, y0, x1, y1 = region
    boxes = joint_boxes(detections)
    margin = EDGE_MARGIN * max(x1 - x0, y1 - y0)
    clear = np.ones(len(detections), bool)
    if x0 > 0:
        clear &= boxes[:, 0] > x0 + margin
    if x1 < width:
        clear &= boxes[:, 2] < x1 - margin
    if y0 > 0:
        clear &= boxes[:, 1] > y0 + margin
    if y1 < height:
        clear &= boxes[:, 3] < y1 - margin
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


def merge_tiles(found: list[Detections], max_persons: int) -> Detections:
    """Merge the people of the whole image (``found[0]``, maybe empty) and of its tiles.

    One view per person. The whole image's people come first (a person wider than the overlap
    is only whole there), then the tiles' in order of score (plus 0.01 per present joint, so
    the whole view of a person cut by a tile edge wins over its part); one whose joint box
    overlaps a taken one's by :data:`DUPLICATE_OVERLAP` of the smaller box is the same person
    and dropped. Returns at most ``max_persons`` (image pixels), sorted by score descending
    (ties: the earlier view).
    """
    views = np.concatenate([np.full(len(d), v) for v, d in enumerate(found)])
    everyone = join(found)
    boxes = joint_boxes(everyone)
    priority = everyone.scores.astype(np.float64) + 0.01 * (everyone.confidence > 0).sum(axis=1)
    priority += np.where(views == 0, 10.0, 0.0)  # scores and bonuses stay below 10
    duplicate = same_person(boxes, boxes)
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
