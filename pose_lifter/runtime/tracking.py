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

from dataclasses import dataclass

import numpy as np

from pose_lifter.runtime.matching import greedy_pairs


@dataclass
class _Track:
    track_id: str
    keypoints_px: np.ndarray  # (15, 2)
    mask: np.ndarray  # (15,) bool
    scale_px: float
    missed: int = 0


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
    distance = np.linalg.norm(keypoints_a[:, None] - keypoints_b[None], axis=-1)
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
        self._tracks: list[_Track] = []
        self._next = 1

    @property
    def active_ids(self) -> set[str]:
        """Ids of the tracks currently kept."""
        return {track.track_id for track in self._tracks}

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
        count = len(keypoints_px)
        costs = np.full((len(self._tracks), count), np.inf)
        if self._tracks and count:
            costs = cost_matrix(
                np.stack([t.keypoints_px for t in self._tracks]),
                np.stack([t.mask for t in self._tracks]),
                np.array([t.scale_px for t in self._tracks]),
                keypoints_px,
                mask,
                np.asarray(scale_px, dtype=np.float64),
            )
        ids: list[str | None] = [None] * count
        matched_tracks: set[int] = set()
        for t, p in greedy_pairs(costs, self.max_distance):
            matched_tracks.add(t)
            ids[p] = self._tracks[t].track_id
            self._tracks[t] = _Track(
                ids[p], keypoints_px[p].copy(), mask[p].copy(), float(scale_px[p])
            )
        survivors = []
        for t, track in enumerate(self._tracks):
            if t not in matched_tracks:
                track.missed += 1
                if track.missed > self.max_missed:
                    continue
            survivors.append(track)
        self._tracks = survivors
        for p in range(count):
            if ids[p] is None:
                ids[p] = f"{self._prefix}{self._next}"
                self._next += 1
                self._tracks.append(
                    _Track(ids[p], keypoints_px[p].copy(), mask[p].copy(), float(scale_px[p]))
                )
        return ids  # type: ignore[return-value]
