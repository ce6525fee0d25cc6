"""The causal temporal stage: each track's 3D skeleton filtered over its own past (pure numpy).

One :class:`TrackFilter` per track id holds what that person's past says about the present:

- **Pose** (root-relative joints, metres): a constant-velocity Kalman filter per coordinate.
  Each frame's lifted pose is a measurement whose noise is the lifter's own predicted error
  (``sigma`` per joint), so a joint the lifter is unsure of (hidden, noisy) moves the estimate
  little, and a sure one a lot. The state's velocity is the joint's velocity relative to the
  root.
- **Root** (the MidHip position, metres): the same filter, with its own noise: lateral from the
  2D error at the root's distance, along the optical axis a fraction of the distance (the metric
  scale comes from the stature prior or a depth image, and wobbles with the 2D scale).
- **Skeleton**: the person's bone lengths, averaged over the track's frames (each weighted by
  how sure the lifter was of both ends). The published pose keeps the filtered bone directions
  with these lengths, so a body does not stretch from frame to frame.

Only the past is used (no added latency). Time comes from the input stamps (seconds), so any
frame rate works and dropped frames are simply a longer step; a gap longer than ``max_gap_s``
or a stamp that does not advance starts the track's filter afresh. A measurement far outside
what the filter expects (``reset_distance``, in standard deviations: a pose or a root position
the track's past cannot explain, as when the tracker hands this id to someone else) also starts
it afresh: one person's history never bends another's pose.

Frames: the camera optical frame (x right, y down, z forward) of the input; metres, seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from pose_lifter.runtime.joints import CHAIN, JOINT_NAMES, NUM_JOINTS, ROOT

_PARENTS = np.array([parent for parent, _ in CHAIN])
_CHILDREN = np.array([child for _, child in CHAIN])


@dataclass(frozen=True)
class TemporalSettings:
    """How much each track's past counts (see the module docstring).

    Attributes:
        enabled: filter each track's pose (off: each frame's placed pose as it is).
        pose_acceleration: spectral density of the root-relative joints' random acceleration
            (m^2/s^3): larger follows fast motion sooner, smaller is steadier.
        root_acceleration: the same for the root's position (m^2/s^3).
        root_lateral_std_px: 2D error of the root across the image (pixels).
        root_depth_std: error of the root's distance along the optical axis, as a fraction of
            the distance.
        initial_speed_mps: standard deviation of a new track's unknown velocities (m/s).
        max_gap_s: a longer gap between a track's frames restarts its filter.
        reset_distance: a measurement this many standard deviations from the prediction
            (root-mean-square over the joints' coordinates, or over the root's) restarts the
            filter.
        bone_lengths: keep each track's bone lengths constant (the running weighted mean).
        bone_prior_frames: how many frames an average body's proportions count for at the
            start of a track (0: none).
    """

    enabled: bool = True
    pose_acceleration: float = 10.0
    root_acceleration: float = 10.0
    root_lateral_std_px: float = 5.0
    root_depth_std: float = 0.05
    initial_speed_mps: float = 1.0
    max_gap_s: float = 1.0
    reset_distance: float = 6.0
    bone_lengths: bool = True
    bone_prior_frames: float = 5.0


class FilteredPose(NamedTuple):
    """One track's output for one frame (camera optical frame, metres, m/s).

    Attributes:
        joints_m: ``(15, 3)`` positions. velocity_mps: ``(15, 3)`` velocities.
        sigma_m: ``(15,)`` the lifter's error per joint (metres, per axis), passed through.
    """

    joints_m: np.ndarray
    velocity_mps: np.ndarray
    sigma_m: np.ndarray


class KalmanCV:
    """Constant-velocity Kalman filters on independent coordinates of any shape (vectorised)."""

    def __init__(self, position: np.ndarray, variance: np.ndarray, speed_variance: float):
        self.position = np.array(position, dtype=np.float64)
        self.velocity = np.zeros_like(self.position)
        self.p_pp = np.array(variance, dtype=np.float64) * np.ones_like(self.position)
        self.p_pv = np.zeros_like(self.position)
        self.p_vv = np.full_like(self.position, speed_variance)

    def predict(self, dt_s: float, acceleration: float | np.ndarray) -> None:
        """Move the state ``dt_s`` seconds ahead.

        ``acceleration``: the density of the white random acceleration, one value or one per
        coordinate (broadcast).
        """
        q = acceleration
        self.position = self.position + dt_s * self.velocity
        self.p_pp = (
            self.p_pp + 2.0 * dt_s * self.p_pv + dt_s * dt_s * self.p_vv + q * dt_s**3 / 3.0
        )
        self.p_pv = self.p_pv + dt_s * self.p_vv + q * dt_s * dt_s / 2.0
        self.p_vv = self.p_vv + q * dt_s

    def innovation(self, measured: np.ndarray, variance: np.ndarray) -> np.ndarray:
        """Normalised innovation of a measurement: ``(z - x) / sqrt(P + R)`` per coordinate."""
        return (measured - self.position) / np.sqrt(self.p_pp + variance)

    def update(self, measured: np.ndarray, variance: np.ndarray) -> None:
        """Fold in a measurement of the positions with per-coordinate ``variance``."""
        total = self.p_pp + variance
        gain_p, gain_v = self.p_pp / total, self.p_pv / total
        residual = measured - self.position
        self.position = self.position + gain_p * residual
        self.velocity = self.velocity + gain_v * residual
        self.p_vv = self.p_vv - gain_v * self.p_pv
        self.p_pv = (1.0 - gain_p) * self.p_pv
        self.p_pp = (1.0 - gain_p) * self.p_pp


def _ancestors() -> np.ndarray:
    """``(15, B)``: 1 where bone b of :data:`CHAIN` lies between the root and the joint."""
    matrix = np.zeros((NUM_JOINTS, len(CHAIN)))
    for index, (parent, child) in enumerate(CHAIN):  # parents are placed first
        matrix[child] = matrix[parent]
        matrix[child, index] = 1.0
    return matrix


#: A pose from bone vectors: ``joints = ANCESTORS @ bones`` (root at 0).
ANCESTORS = _ancestors()

#: An average adult's bone lengths as shares of stature (anthropometric segment tables,
#: Drillis & Contini / Winter, and our mocap skeletons' medians where the 15 joints differ
#: from theirs: the estimated nose, the mid-hip), by bone name ``parent-child``.
_SHARES_BY_NAME = {
    ("Neck", "Nose"): 0.085,
    ("Neck", "RShoulder"): 0.125,
    ("RShoulder", "RElbow"): 0.175,
    ("RElbow", "RWrist"): 0.14,
    ("MidHip", "RHip"): 0.055,
    ("RHip", "RKnee"): 0.245,
    ("RKnee", "RAnkle"): 0.245,
    ("MidHip", "Neck"): 0.30,
}


def _bone_shares() -> np.ndarray:
    names = []
    for parent, child in CHAIN:
        a, b = JOINT_NAMES[parent], JOINT_NAMES[child]
        key = tuple(n.replace("L", "R", 1) if n[0] == "L" else n for n in (a, b))
        names.append(_SHARES_BY_NAME.get(key, _SHARES_BY_NAME.get(key[::-1])))
    return np.array(names, dtype=np.float64)


#: :data:`_SHARES_BY_NAME` in :data:`CHAIN` order (the prior of a new track's bones).
BONE_SHARES = _bone_shares()


class TrackFilter:
    """The temporal state of one track (see the module docstring).

    One :class:`KalmanCV` holds 16 rows of 3 coordinates: the 15 root-relative joints and, last,
    the root's position.
    """

    def __init__(self, settings: TemporalSettings):
        self.settings = settings
        self._state: KalmanCV | None = None
        self._stamp_s: float | None = None
        self._bone_sum = np.zeros(len(CHAIN))
        self._bone_weight = np.zeros(len(CHAIN))
        self._acceleration = np.array(
            [[settings.pose_acceleration]] * NUM_JOINTS + [[settings.root_acceleration]]
        )

    @property
    def started(self) -> bool:
        return self._state is not None

    def step(
        self,
        joints_m: np.ndarray,
        sigma_m: np.ndarray,
        stamp_s: float,
        focal_px: float,
        root_depth_std: float | None = None,
    ) -> FilteredPose:
        """Filter one frame's placed pose.

        Args:
            joints_m: ``(15, 3)`` the frame's pose, metres, camera optical frame.
            sigma_m: ``(15,)`` the lifter's error per joint (metres, per axis).
            stamp_s: the frame's stamp (seconds).
            focal_px: the camera's focal length (pixels; for the root's lateral error).
            root_depth_std: this frame's root distance error as a fraction of the distance
                (placed from a depth image: smaller); None = ``settings.root_depth_std``.
        """
        s = self.settings
        root = joints_m[ROOT]
        measured = np.empty((NUM_JOINTS + 1, 3))
        measured[:NUM_JOINTS] = joints_m - root
        measured[NUM_JOINTS] = root
        depth = max(float(root[2]), 1e-3)
        lateral = s.root_lateral_std_px * depth / max(focal_px, 1e-6)
        variance = np.empty((NUM_JOINTS + 1, 3))
        variance[:NUM_JOINTS] = (sigma_m * sigma_m)[:, None]
        along = (s.root_depth_std if root_depth_std is None else root_depth_std) * depth
        variance[NUM_JOINTS] = (lateral * lateral, lateral * lateral, along * along)
        dt = None if self._stamp_s is None else stamp_s - self._stamp_s
        state = self._state
        if state is None or dt is None or not 0.0 < dt <= s.max_gap_s:
            state = self._start(measured, variance)
        else:
            state.predict(dt, self._acceleration)
            surprise = state.innovation(measured, variance) ** 2
            pose_surprise = np.sqrt(surprise[:NUM_JOINTS].mean())
            root_surprise = np.sqrt(surprise[NUM_JOINTS].mean())
            if max(pose_surprise, root_surprise) > s.reset_distance:
                state = self._start(measured, variance)
            else:
                state.update(measured, variance)
        self._stamp_s = stamp_s
        relative = state.position[:NUM_JOINTS]
        if s.bone_lengths:
            relative = self._keep_bone_lengths(measured[:NUM_JOINTS], sigma_m, relative)
        velocity = state.velocity[:NUM_JOINTS] + state.velocity[NUM_JOINTS]
        return FilteredPose(relative + state.position[NUM_JOINTS], velocity, sigma_m)

    def _start(self, measured: np.ndarray, variance: np.ndarray) -> KalmanCV:
        self._state = KalmanCV(measured, variance, self.settings.initial_speed_mps**2)
        self._bone_sum[:] = 0.0
        self._bone_weight[:] = 0.0
        return self._state

    def _keep_bone_lengths(
        self, measured: np.ndarray, sigma_m: np.ndarray, filtered: np.ndarray
    ) -> np.ndarray:
        """Fold this frame's bone lengths into the track's; lay them along the filtered bones.

        A new track starts from an average body's proportions at its first frame's size
        (:data:`BONE_SHARES`, worth :attr:`TemporalSettings.bone_prior_frames` frames), so its
        bones do not follow its first, noisiest frames.
        """
        bones = measured[_CHILDREN] - measured[_PARENTS]
        lengths = np.sqrt((bones * bones).sum(axis=1))
        weight = 1.0 / (sigma_m[_CHILDREN] ** 2 + sigma_m[_PARENTS] ** 2 + 1e-12)
        if not self._bone_weight.any() and self.settings.bone_prior_frames > 0:
            size = float(lengths @ BONE_SHARES) / float(BONE_SHARES @ BONE_SHARES)
            prior = self.settings.bone_prior_frames * weight
            self._bone_sum += prior * size * BONE_SHARES
            self._bone_weight += prior
        self._bone_sum += weight * lengths
        self._bone_weight += weight
        mean_lengths = self._bone_sum / self._bone_weight
        directions = filtered[_CHILDREN] - filtered[_PARENTS]
        norms = np.sqrt((directions * directions).sum(axis=1))
        scaled = directions * (mean_lengths / np.maximum(norms, 1e-9))[:, None]
        return ANCESTORS @ scaled


class TemporalStage:
    """One :class:`TrackFilter` per track id (tracks that ended are forgotten)."""

    def __init__(self, settings: TemporalSettings = TemporalSettings()):
        self.settings = settings
        self._filters: dict[str, TrackFilter] = {}

    def configure(self, settings: TemporalSettings) -> None:
        """Use ``settings`` from now on (the tracks' filters restart when they change)."""
        if settings != self.settings:
            self._filters.clear()
        self.settings = settings

    def forget(self, active_ids: set[str]) -> None:
        """Drop the filters of tracks not in ``active_ids``."""
        for track_id in set(self._filters) - active_ids:
            del self._filters[track_id]

    def update(
        self,
        ids: list[str],
        joints_m: np.ndarray,
        sigma_m: np.ndarray,
        stamp_s: float,
        focal_px: float,
        root_depth_std: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Filter P placed poses of tracks ``ids`` (see :meth:`TrackFilter.step`).

        ``root_depth_std``: ``(P,)`` each person's root distance error (fraction), or None.

        Returns ``(joints_m (P, 15, 3), velocity_mps (P, 15, 3), sigma_m (P, 15))``; with the
        stage off (``enabled`` False) the poses as given, zero velocities and ``sigma_m``.
        """
        count = len(ids)
        if not self.settings.enabled:
            return joints_m, np.zeros_like(joints_m), sigma_m
        joints = np.empty((count, NUM_JOINTS, 3))
        velocity = np.empty((count, NUM_JOINTS, 3))
        sigma = np.empty((count, NUM_JOINTS))
        for row, track_id in enumerate(ids):
            track = self._filters.get(track_id)
            if track is None:
                track = self._filters[track_id] = TrackFilter(self.settings)
            joints[row], velocity[row], sigma[row] = track.step(
                joints_m[row],
                sigma_m[row],
                stamp_s,
                focal_px,
                None if root_depth_std is None else float(root_depth_std[row]),
            )
        return joints, velocity, sigma
