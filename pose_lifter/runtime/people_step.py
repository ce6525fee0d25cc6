"""One frame of people: the 2D keypoints of one image in, tracked 3D skeletons out (pure numpy).

:class:`PeopleStep` is the runtime's one per-frame step. The node and offline replay drive it
through :class:`pose_lifter.ros.pipeline.LiftingPipeline` (which only converts messages to arrays
and back), and ``pose-lifter-train evaluate`` drives it directly on sequences, so the numbers the
evaluation reports are the node's. Per frame:

1. **validate** each person (finite, sane, the ``max_persons`` best scores; drops counted);
2. undistort the joints when the camera has a lens model;
3. **track** in 2D: the persons are matched to the tracks of the previous frames (ids), so the
   lift can read each track's past;
4. **lift** every person in one pass, a temporal lifter with its track's recent 2D frames
   (:mod:`~pose_lifter.runtime.track_history`);
5. **place** in metres (camera optical frame): from an aligned depth image when there is one,
   else the stature prior with the camera's intrinsics, else scaled at a default distance;
6. the **temporal stage** per track (:mod:`~pose_lifter.runtime.temporal`): the pose filtered
   over the track's past, its skeleton's bone lengths kept, velocities;
7. each joint's **uncertainty**: a radius (metres) that holds the true joint, relative to the
   body's root, with probability :attr:`StepSettings.uncertainty_coverage`.

Frames and units: pixels in the image frame (x right, y down); outputs in the camera optical
frame of the input (x right, y down, z forward), metres, m/s; stamps in seconds.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from pose_lifter.runtime.camera import Camera, undistort_pixels_checked
from pose_lifter.runtime.counters import DropCounters
from pose_lifter.runtime.depth_placement import DepthSettings, place_with_depth
from pose_lifter.runtime.joints import NUM_JOINTS, ROOT
from pose_lifter.runtime.lifter import PoseLifter
from pose_lifter.runtime.placement import metres_per_unit, place_with_camera, place_without_camera
from pose_lifter.runtime.smoothing import SkeletonSmoother
from pose_lifter.runtime.temporal import TemporalStage, TemporalSettings
from pose_lifter.runtime.track_history import TrackHistory
from pose_lifter.runtime.tracking import PersonTracker

#: Present joints farther than this from the image origin (pixels) are malformed input.
MAX_ABS_PIXEL = 1e5

#: A root placed from a depth image: its distance error (fraction of the distance) for the
#: temporal stage (measured p90 2% on the synthetic scenes, doc/rgbd.md).
DEPTH_ROOT_STD = 0.02
#: The per-axis error (metres) the temporal stage assumes for a lifter that predicts none.
UNKNOWN_SIGMA_M = 0.05
#: Metadata key of a lifter's calibrated radius scales: JSON ``{coverage: radius / sigma}``,
#: the share of true joints within ``scale x sigma`` at each level (measured on the proxy).
RADIUS_SCALES_KEY = "uncertainty_radius_scales"
#: The ratio of the 90% radius to sigma for an isotropic 3D Gaussian (sqrt of the 90% quantile
#: of chi-square, 3 dof); without calibrated scales the Gaussian's quantiles are used.
GAUSSIAN_RADIUS_SCALE_90 = 2.5003
#: The coverage levels the calibration measures (and the node's parameter may take between).
CALIBRATED_LEVELS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99)


@dataclass(frozen=True)
class OneEuroSettings:
    """The optional One-Euro filter after the temporal stage.

    ``enabled``, ``min_cutoff_hz``, ``beta``, ``d_cutoff_hz``: see
    :mod:`pose_lifter.runtime.smoothing`.
    """

    enabled: bool = False
    min_cutoff_hz: float = 1.0
    beta: float = 0.5
    d_cutoff_hz: float = 1.0


@dataclass(frozen=True)
class StepSettings:
    """What :class:`PeopleStep` does; the node's parameters of the same names set them.

    Attributes:
        min_joint_confidence: joints at or below are missing (predicted, confidence 0).
        min_joints: persons with fewer present joints are not lifted (counted).
        max_persons: persons lifted per frame, best scores first (the rest counted).
        subject_height_m: the stature prior (metres).
        default_distance_m: root depth of persons placed without intrinsics.
        tracking_max_distance: largest accepted 2D match cost (units of the 2D scale).
        tracking_max_missed: frames a track survives unmatched.
        history_max_age_s: the oldest 2D frame of a track a temporal lifter reads.
        temporal: the temporal stage (:class:`~pose_lifter.runtime.temporal.TemporalSettings`).
        one_euro: the optional One-Euro filter after it.
        depth: placement from an aligned depth image (used when a depth image is given).
        uncertainty_coverage: the probability the published radius holds the true joint
            (relative to the body's root); the radius scales with the Gaussian quantile.
    """

    min_joint_confidence: float = 0.1
    min_joints: int = 8
    max_persons: int = 20
    subject_height_m: float = 1.7
    default_distance_m: float = 3.0
    tracking_max_distance: float = 1.0
    tracking_max_missed: int = 10
    history_max_age_s: float = 1.0
    temporal: TemporalSettings = field(default_factory=TemporalSettings)
    one_euro: OneEuroSettings = field(default_factory=OneEuroSettings)
    depth: DepthSettings = field(default_factory=DepthSettings)
    uncertainty_coverage: float = 0.9


class PeopleFrame(NamedTuple):
    """The P people one frame produced (camera optical frame of the input, metres).

    Attributes:
        ids: P track ids. sources: ``(P,)`` each person's index in the input.
        joints_m: ``(P, 15, 3)`` positions. velocity_mps: ``(P, 15, 3)`` velocities (m/s).
        uncertainty_m: ``(P, 15)`` radius holding the true joint (relative to the body's root)
            with probability ``coverage``; 0 where the lifter predicts no uncertainty.
        confidence: ``(P, 15)`` the 2D confidences (0 = missing, predicted; half where a
            depth-placed joint's measured depth disagreed). scores: ``(P,)``.
        from_depth: ``(P,)`` placed from the depth image (else the stature prior).
        placed: whether the positions are metric (a camera was known), else scaled only.
        coverage: the probability of ``uncertainty_m``.
    """

    ids: list[str]
    sources: np.ndarray
    joints_m: np.ndarray
    velocity_mps: np.ndarray
    uncertainty_m: np.ndarray
    confidence: np.ndarray
    scores: np.ndarray
    from_depth: np.ndarray
    placed: bool
    coverage: float


class PeopleStep:
    """The per-frame people step (see the module docstring); keeps tracks, histories, filters.

    Args:
        lifter: a loaded lifter.
        settings: see :class:`StepSettings`.
        id_prefix: first characters of the track ids (a letter first).
        counters: where drops are counted (a new :class:`DropCounters` by default).
    """

    def __init__(
        self,
        lifter: PoseLifter,
        settings: StepSettings = StepSettings(),
        id_prefix: str = "p",
        counters: DropCounters | None = None,
    ):
        self.lifter = lifter
        self.counters = counters if counters is not None else DropCounters()
        self.tracker = PersonTracker(id_prefix=id_prefix)
        self.history = TrackHistory(max(lifter.window - 1, 0))
        self.temporal = TemporalStage()
        self.smoother = SkeletonSmoother()
        scales = json.loads(lifter.metadata.get(RADIUS_SCALES_KEY, "{}"))
        #: ``(coverage levels, radius / sigma)`` of the lifter's file (empty: a Gaussian's).
        self.radius_scales = (
            np.array(sorted(float(level) for level in scales)),
            np.array([scales[key] for key in sorted(scales, key=float)], dtype=np.float64),
        )
        self.configure(settings)

    def configure(self, settings: StepSettings) -> None:
        """Apply (possibly changed) settings; tracks are kept, filters restart on change."""
        self.settings = settings
        self.lifter.min_joint_confidence = settings.min_joint_confidence
        self.lifter.min_joints = settings.min_joints
        self.tracker.max_distance = settings.tracking_max_distance
        self.tracker.max_missed = settings.tracking_max_missed
        self.history.max_age_s = settings.history_max_age_s
        self.temporal.configure(settings.temporal)
        euro = settings.one_euro
        smoothing = (euro.min_cutoff_hz, euro.beta, euro.d_cutoff_hz)
        if smoothing != self.smoother.settings:
            self.smoother.configure(*smoothing)

    @property
    def active_ids(self) -> set[str]:
        """Ids of the tracks kept now."""
        return self.tracker.active_ids

    def step(
        self,
        keypoints_px: np.ndarray,
        confidence: np.ndarray,
        scores: np.ndarray,
        stamp_s: float,
        image_size: tuple[int, int],
        camera: Camera | None,
        depth_m: np.ndarray | None = None,
    ) -> PeopleFrame:
        """Lift the persons of one frame (shapes checked by the caller).

        Args:
            keypoints_px: ``(P, 15, 2)`` pixels (image frame; distorted as the camera saw).
            confidence: ``(P, 15)``; at or below ``min_joint_confidence`` = missing.
            scores: ``(P,)`` person scores.
            stamp_s: the frame's time (seconds; the tracks' clock).
            image_size: ``(width, height)`` pixels; ``(0, 0)`` when unknown.
            camera: the frame's intrinsics (and lens model), or None (scaled output).
            depth_m: an aligned ``(H, W)`` depth image (metres, NaN = hole), or None.
        """
        s = self.settings
        self.counters.persons_in += len(keypoints_px)
        keep = self._valid_persons(keypoints_px, confidence, scores)
        keypoints_px, confidence, scores = keypoints_px[keep], confidence[keep], scores[keep]
        present = confidence > s.min_joint_confidence
        keypoints_px = np.where(present[..., None], keypoints_px, 0.0)
        confidence = np.where(present, np.minimum(confidence, 1.0), 0.0)
        sample_px = keypoints_px  # depth is aligned to the (distorted) colour image
        if camera is not None and camera.distorted and len(keypoints_px):
            undistorted, undone = undistort_pixels_checked(
                keypoints_px, camera.matrix, camera.distortion, camera.model
            )
            self.counters.distortion_kept += int((present & ~undone).sum())
            keypoints_px = np.where(present[..., None], undistorted, 0.0)
        normalized = self.lifter.normalize(keypoints_px, confidence, validated=True)
        enough = normalized.mask.sum(axis=1) >= s.min_joints
        if (~enough).any():
            self.counters.drop("too_few_joints", int((~enough).sum()))
        lifted = np.flatnonzero(enough)
        normalized = type(normalized)(*(part[lifted] for part in normalized))
        ids = self.tracker.update(keypoints_px[lifted], present[lifted], normalized.scale)
        active = self.tracker.active_ids
        self.history.forget(active)

        result = self.lifter.lift_normalized(normalized, self.history.past(ids, stamp_s))
        self.history.add(ids, keypoints_px[lifted], present[lifted], stamp_s)
        joints_units = result.joints_3d.astype(np.float64)
        finite = np.isfinite(joints_units).all(axis=(1, 2))
        if (~finite).any():
            self.counters.drop("nonfinite_output", int((~finite).sum()))
        joints_m, from_depth, consistent = self._place(
            joints_units, result.root_px, result.scale_px, keypoints_px[lifted],
            present[lifted], image_size, camera, depth_m, sample_px[lifted],
        )
        placed = finite & np.isfinite(joints_m).all(axis=(1, 2))
        if (finite & ~placed).any():
            self.counters.drop("degenerate_pose", int((finite & ~placed).sum()))
        chosen = np.flatnonzero(placed)
        ids = [ids[i] for i in chosen]
        joints_m, from_depth = joints_m[chosen], from_depth[chosen]
        sigma_m = self._sigma_m(result.sigma, joints_units, chosen)
        focal_px = 1.0 if camera is None else camera.focal_px
        self.temporal.forget(active)
        root_std = np.where(from_depth, DEPTH_ROOT_STD, s.temporal.root_depth_std)
        joints_m, velocity, sigma_m = self.temporal.update(
            ids, joints_m, sigma_m, stamp_s, focal_px, root_std
        )
        if s.one_euro.enabled:
            joints_m = self.smoother(ids, joints_m, stamp_s, active)
        confidence, scores = confidence[lifted][chosen], np.clip(scores[lifted][chosen], 0, 1)
        # from depth: present joints whose depth disagreed (hidden, off the body) count half
        disagreed = from_depth[:, None] & ~consistent[chosen]
        confidence = np.where(disagreed, 0.5 * confidence, confidence)
        self.counters.persons_out += len(ids)
        return PeopleFrame(
            ids,
            keep[lifted][chosen],
            joints_m,
            velocity,
            self._radius(sigma_m),
            confidence,
            scores,
            from_depth,
            camera is not None,
            s.uncertainty_coverage,
        )

    def _radius(self, sigma_m: np.ndarray) -> np.ndarray:
        """Return the published radius ``(P, 15)`` of per-axis sigmas (0: no uncertainty)."""
        if not self.lifter.predicts_uncertainty:
            return np.zeros_like(sigma_m)
        return self.radius_scale(self.settings.uncertainty_coverage) * sigma_m

    def radius_scale(self, coverage: float) -> float:
        """Return the radius over sigma at ``coverage``.

        The lifter file's calibrated scales, interpolated; a Gaussian's quantile beyond them or
        without them.
        """
        levels, scales = self.radius_scales
        if len(levels) and levels[0] <= coverage <= levels[-1]:
            return float(np.interp(coverage, levels, scales))
        return _chi3_radius(coverage)

    def _sigma_m(
        self, sigma_units: np.ndarray | None, joints_units: np.ndarray, chosen: np.ndarray
    ) -> np.ndarray:
        """Each joint's per-axis error (metres, ``(Q, 15)``) at the stature prior's scale.

        A lifter without an uncertainty head is taken to err by :data:`UNKNOWN_SIGMA_M`.
        """
        if sigma_units is None:
            return np.full((len(chosen), NUM_JOINTS), UNKNOWN_SIGMA_M)
        metres = metres_per_unit(joints_units[chosen], self.settings.subject_height_m)
        return sigma_units[chosen] * metres[:, None]

    def _place(
        self,
        joints_units: np.ndarray,
        root_px: np.ndarray,
        scale_px: np.ndarray,
        keypoints_px: np.ndarray,
        present: np.ndarray,
        image_size: tuple[int, int],
        camera: Camera | None,
        depth_m: np.ndarray | None,
        sample_px: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Metric poses ``(P, 15, 3)`` (NaN rows: not placeable), from depth, consistent."""
        s, count = self.settings, len(joints_units)
        from_depth = np.zeros(count, bool)
        consistent = np.zeros((count, NUM_JOINTS), bool)
        safe = np.where(np.isfinite(joints_units), joints_units, 0.0)
        if camera is None:
            joints_m = place_without_camera(
                safe, root_px, scale_px, s.subject_height_m, s.default_distance_m, image_size
            )
            return joints_m, from_depth, consistent
        joints_m = place_with_camera(safe, root_px, scale_px, camera.matrix, s.subject_height_m)
        if depth_m is not None and count:
            placement = place_with_depth(
                safe,
                root_px,
                scale_px,
                keypoints_px,
                present,
                depth_m,
                camera.matrix,
                s.depth,
                prior_root_depth_m=joints_m[:, ROOT, 2],
                sample_px=sample_px,
            )
            from_depth, consistent = placement.placed, placement.consistent
            joints_m = np.where(from_depth[:, None, None], placement.joints_m, joints_m)
            self.counters.depth_fallback += int((~from_depth).sum())
            self.counters.persons_depth += int(from_depth.sum())
        return joints_m, from_depth, consistent

    def _valid_persons(
        self, keypoints_px: np.ndarray, confidence: np.ndarray, scores: np.ndarray
    ) -> np.ndarray:
        """Return the indices (ascending) of the persons to lift; count every rejected one.

        Finite, sane, and among the ``max_persons`` best scores.
        """
        count, limit = len(scores), self.settings.max_persons
        threshold = self.settings.min_joint_confidence
        present = confidence > threshold  # NaN: not present
        sane = np.abs(keypoints_px) <= MAX_ABS_PIXEL  # NaN, inf and huge: not sane
        if (
            np.isfinite(confidence).all()
            and np.isfinite(scores).all()
            and sane.all(axis=2)[present].all()
        ):  # every person valid (the usual message): one pass
            if count <= limit:
                return np.arange(count)
            return np.sort(self._best(np.arange(count), scores, limit))
        finite_conf = np.isfinite(confidence).all(axis=1) & np.isfinite(scores)
        present = np.where(finite_conf[:, None], confidence, 0.0) > threshold
        finite_xy = np.isfinite(keypoints_px).all(axis=2)
        finite_kp = ~(present & ~finite_xy).any(axis=1)
        far = (np.abs(np.nan_to_num(keypoints_px)) > MAX_ABS_PIXEL).any(axis=2)
        huge = (present & finite_xy & far).any(axis=1)
        checks = (
            ("nonfinite_confidence", ~finite_conf),
            ("nonfinite_keypoint", finite_conf & ~finite_kp),
            ("huge_keypoint", finite_conf & finite_kp & huge),
        )
        for reason, rejected in checks:
            if rejected.any():
                self.counters.drop(reason, int(rejected.sum()))
        valid = np.flatnonzero(finite_conf & finite_kp & ~huge)
        return np.sort(self._best(valid, scores, limit))

    def _best(self, candidates: np.ndarray, scores: np.ndarray, limit: int) -> np.ndarray:
        """Keep the ``limit`` best-scoring ``candidates`` (ties: the earlier); count the rest."""
        if len(candidates) <= limit:
            return candidates
        self.counters.drop("too_many_persons", len(candidates) - limit)
        return candidates[np.argsort(-scores[candidates], kind="stable")[:limit]]


@functools.lru_cache(maxsize=16)
def _chi3_radius(coverage: float) -> float:
    """Radius (in sigmas) holding ``coverage`` of an isotropic 3D Gaussian's mass."""
    low, high = 0.0, 10.0
    for _ in range(60):  # bisection on the chi(3) distribution function
        middle = 0.5 * (low + high)
        if _chi3_cdf(middle) < coverage:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


def _chi3_cdf(radius: float) -> float:
    """P(|x| <= radius) for x ~ N(0, I_3)."""
    from math import erf, exp, pi, sqrt

    return erf(radius / sqrt(2.0)) - sqrt(2.0 / pi) * radius * exp(-radius * radius / 2.0)
