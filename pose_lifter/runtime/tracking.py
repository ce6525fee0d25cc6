"""Stable person ids across frames by 2D keypoint-distance matching (pure numpy, no ROS).

Each message's persons are matched to the tracks of the previous messages by the mean pixel
distance of the joints present in both, divided by the larger of the two 2D scales (so the cost
is scale-free: 0.5 = joints moved half a body "radius" on average). Matching is greedy, cheapest
pair first, and accepts costs up to ``max_distance``. Unmatched persons start new tracks; a track
unmatched for more than ``max_missed`` consecutive messages is forgotten.

Ids follow REP-155 style: short strings starting with a letter (``p1``, ``p2``, ...), never
reused within one tracker.
"""

from __future__ import annotations

import numpy as np

from pose_lifter.runtime.matching import greedy_pairs


def cost_matrix(
    keypoints_a: np.ndarray,
    mask_a: np.ndarray,
    scale_a: np.ndarray,
    keypoints_b: np.ndarray,
    mask_b: np.ndarray,
    scale_b: np.ndarray,
) -> np.ndarray:
    """Return scale-free distances between two sets of 2D poses.

    Scale-free distances ``(A, B)`` between poses ``(A, 15, 2)`` and ``(B, 15, 2)`` (masks ``(A|B,
    15)``, 2D scales ``(A|B,)``): mean distance of the joints present in both, divided by the
    larger scale; inf where no joint is present in both.
    """
    common = mask_a[:, None] & mask_b[None]
    offset = keypoints_a[:, None] - keypoints_b[None]
    distance = np.hypot(offset[..., 0], offset[..., 1])
    counts = common.sum(axis=-1)
    mean = np.where(common, distance, 0.0).sum(axis=-1) / np.maximum(counts, 1)
    scale = np.maximum(np.maximum(scale_a[:, None], scale_b[None]), 1e-9)
    return np.where(counts > 0, mean / scale, np.inf)


class PersonTracker:
    """Assigns stable ids to the persons of consecutive messages.

    Args:
        max_distance: largest accepted :func:`cost_matrix` value (scale-free, > 0).
        max_missed: messages a track survives without a match (>= 0).
        id_prefix: first character(s) of generated ids; must start with a letter.
    """

    def __init__(self, max_distance: float = 1.0, max_missed: int = 10, id_prefix: str = "p"):
        if not id_prefix[:1].isalpha():
            raise ValueError(f"id_prefix must start with a letter, got {id_prefix!r}")
        self.max_distance = float(max_distance)
        self.max_missed = int(max_missed)
        self._prefix = id_prefix
        # The tracks, oldest first: ids, last keypoints (T, 15, 2) px, masks (T, 15), 2D
        # scales (T,) px and messages since their last match (T,).
        self._ids: list[str] = []
        self._keypoints = np.zeros((0, 15, 2))
        self._masks = np.zeros((0, 15), bool)
        self._scales = np.zeros(0)
        self._missed = np.zeros(0, int)
        self._next = 1

    @property
    def active_ids(self) -> set[str]:
        """Ids of the tracks currently kept."""
        return set(self._ids)

    def update(
        self, keypoints_px: np.ndarray, mask: np.ndarray, scale_px: np.ndarray
    ) -> list[str]:
        """Match one message's persons to the tracks and return their ids.

        Args:
            keypoints_px: ``(P, 15, 2)`` pixels. mask: ``(P, 15)`` bool, present joints.
            scale_px: ``(P,)`` 2D scale of each person (pixels).

        Returns:
            ``P`` ids, in input order.
        """
        keypoints_px = np.asarray(keypoints_px, dtype=np.float64)
        mask = np.asarray(mask, dtype=bool)
        scale_px = np.asarray(scale_px, dtype=np.float64)
        count, tracks = len(keypoints_px), len(self._ids)
        pairs = []
        if tracks and count:
            costs = cost_matrix(
                self._keypoints, self._masks, self._scales, keypoints_px, mask, scale_px
            )
            pairs = greedy_pairs(costs, self.max_distance)
        ids: list[str | None] = [None] * count
        self._missed += 1
        if pairs:
            matched_tracks, matched_persons = (list(column) for column in zip(*pairs))
            for t, p in pairs:
                ids[p] = self._ids[t]
            self._keypoints[matched_tracks] = keypoints_px[matched_persons]
            self._masks[matched_tracks] = mask[matched_persons]
            self._scales[matched_tracks] = scale_px[matched_persons]
            self._missed[matched_tracks] = 0
        kept = self._missed <= self.max_missed
        if not kept.all():
            self._ids = [i for i, keep in zip(self._ids, kept.tolist()) if keep]
            self._keypoints, self._masks = self._keypoints[kept], self._masks[kept]
            self._scales, self._missed = self._scales[kept], self._missed[kept]
        new = [p for p in range(count) if ids[p] is None]
        if new:
            for p in new:
                ids[p] = f"{self._prefix}{self._next}"
                self._next += 1
                self._ids.append(ids[p])
            self._keypoints = np.concatenate([self._keypoints, keypoints_px[new]])
            self._masks = np.concatenate([self._masks, mask[new]])
            self._scales = np.concatenate([self._scales, scale_px[new]])
            self._missed = np.concatenate([self._missed, np.zeros(len(new), int)])
        return ids  # type: ignore[return-value]
