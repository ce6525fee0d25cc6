"""Overlapping tiles of an image and merging the people found in them (pure numpy).

MoveNet MultiPose sees the whole frame at its input size (long side 256 px) and returns at most
6 people; people 50-130 px tall in a 640x480 frame are 20-50 px at that input, and many go
unseen. Running it on ``n`` overlapping tiles along the image's long side gives each person
``(2n + 1) / 3`` times the pixels and up to ``6 n`` people; a person in the overlap (a third of
a tile, so anyone narrower than that is whole in at least one tile) is found twice and merged.
"""

from __future__ import annotations

import numpy as np

from pose_lifter.runtime.detection.base import Detections

#: Two people are one when their joint boxes overlap by this fraction of the smaller box.
DUPLICATE_OVERLAP = 0.5
#: A tile's person whose joints come this close (fraction of the tile) to an edge it shares
#: with a neighbour is cut by it: the neighbour or the whole image sees that person whole.
EDGE_MARGIN = 0.03


def tile_regions(width: int, height: int, tiles: int) -> list[tuple[int, int, int, int]]:
    """``(x0, y0, x1, y1)`` pixel ranges (end exclusive) of ``tiles`` overlapping tiles.

    The tiles split the long side; each is ``3 L / (2 tiles + 1)`` long and overlaps the next
    by a third of that; ``tiles == 1`` is the whole image.
    """
    long_side = max(width, height)
    length = 3 * long_side / (2 * tiles + 1)
    spans = [
        (round(i * 2 * length / 3), min(long_side, round(i * 2 * length / 3 + length)))
        for i in range(tiles)
    ]
    if tiles == 1:
        spans = [(0, long_side)]
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


def away_from_inner_edges(
    detections: Detections, region: tuple[int, int, int, int], width: int, height: int
) -> Detections:
    """Keep the people of a tile whose joints stay clear of the edges it shares with others."""
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
    return Detections(
        detections.keypoints_2d[clear], detections.confidence[clear], detections.scores[clear]
    )


def merge_tiles(found: list[Detections], max_persons: int) -> Detections:
    """Merge the people of the whole image (``found[0]``) and of its tiles: one per person.

    The whole image's people come first (a person larger than a tile is only whole there),
    then the tiles' in order of score (plus 0.01 per present joint, so the whole view of a
    person cut by a tile edge wins over its part); one whose joint box overlaps a taken one's
    by :data:`DUPLICATE_OVERLAP` of the smaller box is the same person and dropped. Returns at
    most ``max_persons`` (image pixels), sorted by score descending (ties: the earlier view).
    """
    views = np.concatenate([np.full(len(d), v) for v, d in enumerate(found)])
    keypoints = np.concatenate([d.keypoints_2d for d in found])
    confidence = np.concatenate([d.confidence for d in found])
    scores = np.concatenate([d.scores for d in found])
    everyone = Detections(keypoints, confidence, scores)
    boxes = joint_boxes(everyone)
    areas = np.prod(np.maximum(boxes[:, 2:] - boxes[:, :2], 0.0), axis=1)
    priority = scores.astype(np.float64) + 0.01 * (confidence > 0).sum(axis=1)
    priority += np.where(views == 0, 10.0, 0.0)  # scores and bonuses stay below 10
    kept: list[int] = []
    for i in np.argsort(-priority, kind="stable").tolist():
        if kept:
            k = np.asarray(kept)
            size = np.maximum(
                np.minimum(boxes[k, 2:], boxes[i, 2:]) - np.maximum(boxes[k, :2], boxes[i, :2]),
                0.0,
            )
            shared = size[:, 0] * size[:, 1]
            if (shared > DUPLICATE_OVERLAP * np.minimum(areas[k], areas[i])).any():
                continue
        kept.append(i)
    order = sorted(kept, key=lambda i: (-float(scores[i]), i))[:max_persons]
    return Detections(keypoints[order], confidence[order], scores[order])
