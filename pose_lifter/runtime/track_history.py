"""Each track's recent 2D frames, for the temporal lifter (pure numpy, no ROS).

A temporal lifter reads a person's current 2D and up to ``frames`` earlier ones of the same track
(:class:`pose_lifter.runtime.model.LifterModel`, ``window`` = ``frames + 1``). This keeps them per
track id, by input stamp: frames older than ``max_age_s`` are not offered, a stamp that does not
advance (a bag played again, a clock jump) clears the track's history, and histories of tracks
that ended are dropped. Pixels are the image frame's (x right, y down).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from pose_lifter.runtime.joints import NUM_JOINTS


class PastFrames(NamedTuple):
    """The earlier frames of P persons, most recent first (F frames; absent ones all-missing).

    Attributes:
        keypoints_px: ``(P, F, 15, 2)`` pixels. present: ``(P, F, 15)`` bool.
        age_s: ``(P, F)`` seconds before the current frame (0 where absent).
    """

    keypoints_px: np.ndarray
    present: np.ndarray
    age_s: np.ndarray


class _Track:
    """One track's ring of frames (newest at ``count - 1`` modulo ``frames``)."""

    __slots__ = ("keypoints", "present", "stamps", "count")

    def __init__(self, frames: int):
        self.keypoints = np.zeros((frames, NUM_JOINTS, 2))
        self.present = np.zeros((frames, NUM_JOINTS), bool)
        self.stamps = np.full(frames, -np.inf)
        self.count = 0


class TrackHistory:
    """The last ``frames`` 2D frames of every track, at most ``max_age_s`` old."""

    def __init__(self, frames: int, max_age_s: float = 2.0):
        if frames < 0:
            raise ValueError(f"frames must be >= 0, got {frames}")
        self.frames = int(frames)
        self.max_age_s = float(max_age_s)
        self._tracks: dict[str, _Track] = {}

    def past(self, ids: list[str], stamp_s: float) -> PastFrames:
        """Return the stored frames of tracks ``ids`` before ``stamp_s`` (s), newest first."""
        count, frames = len(ids), self.frames
        keypoints = np.zeros((count, frames, NUM_JOINTS, 2))
        present = np.zeros((count, frames, NUM_JOINTS), bool)
        age = np.zeros((count, frames))
        for row, track_id in enumerate(ids):
            track = self._tracks.get(track_id)
            if track is None or not track.count:
                continue
            taken = min(track.count, frames)
            slots = (track.count - 1 - np.arange(taken)) % frames  # newest first
            ages = stamp_s - track.stamps[slots]
            usable = (ages > 0) & (ages <= self.max_age_s)
            keypoints[row, :taken] = track.keypoints[slots]
            present[row, :taken] = track.present[slots] & usable[:, None]
            age[row, :taken] = np.where(usable, ages, 0.0)
        return PastFrames(keypoints, present, age)

    def add(
        self, ids: list[str], keypoints_px: np.ndarray, present: np.ndarray, stamp_s: float
    ) -> None:
        """Store the current frame ``(P, 15, 2)`` / ``(P, 15)`` of tracks ``ids``."""
        if not self.frames:
            return
        for row, track_id in enumerate(ids):
            track = self._tracks.get(track_id)
            if track is None:
                track = self._tracks[track_id] = _Track(self.frames)
            newest = track.stamps[(track.count - 1) % self.frames] if track.count else -np.inf
            if stamp_s <= newest:  # time went backwards or stood still: a fresh history
                track.count = 0
                track.stamps[:] = -np.inf
            slot = track.count % self.frames
            track.keypoints[slot] = keypoints_px[row]
            track.present[slot] = present[row]
            track.stamps[slot] = stamp_s
            track.count += 1

    def forget(self, active_ids: set[str]) -> None:
        """Drop the histories of tracks not in ``active_ids``."""
        for track_id in set(self._tracks) - active_ids:
            del self._tracks[track_id]

    def clear(self) -> None:
        self._tracks.clear()
