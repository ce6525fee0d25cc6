"""3D accuracy and steadiness on motion sequences, through the runtime's own per-frame step.

Each sequence (:mod:`pose_lifter_training.sequences`: any frame rate, one static camera) is fed
frame by frame to :class:`pose_lifter.runtime.people_step.PeopleStep`, the step the node and
``pose-lifter replay`` run, with the 2D a detector would give: the exact projections plus
Gaussian noise of ``noise_px`` pixels per coordinate, or the training error model
(:mod:`pose_lifter_training.noise`) at a fraction of the person's size. Joints outside the image
are missing. What the step publishes is scored against the truth (camera frame, metres):

- ``n_mpjpe_mm``, ``pa_mpjpe_mm``: per frame, root-aligned with a least-squares scale /
  similarity Procrustes;
- ``mpjve_mm``: mean per-joint velocity error (mm/frame) and ``accel_error_mm``: mean
  acceleration error (mm/frame^2) of the root-relative joints, after one least-squares scale per
  sequence (the stature prior's scale error is not motion); ``accel_truth_mm`` is the truth's
  own mean acceleration;
- ``bone_cv``: each bone's length over a sequence, standard deviation over mean, averaged over
  the bones and sequences (the published metres, as a user sees them);
- ``coverage``: the share of true joints (root-relative, the sequence's scale) within the
  published uncertainty radius, to compare with the radius's stated level;
- ``answered``: the share of frames with a published person.

Means are over frames (sequences weighted by their length).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from pose_lifter.runtime import metrics
from pose_lifter.runtime.camera import Camera
from pose_lifter.runtime.joints import NUM_JOINTS, ROOT
from pose_lifter.runtime.lifter import PoseLifter
from pose_lifter.runtime.people_step import PeopleStep, StepSettings
from pose_lifter_training.noise import NoiseSection, add_detector_noise
from pose_lifter_training.sequences import (
    CameraRanges,
    Sequence,
    SequenceView,
    resample,
    view_sequence,
)

@dataclass(frozen=True)
class Condition:
    """How the 2D is made: ``rate_hz``, ``noise_px`` (Gaussian, per coordinate) or
    ``relative_noise`` (the training error model: jitter of this fraction of the box diagonal,
    plus its outliers and left/right swaps), and ``missing``: random joints hidden per
    sequence."""

    rate_hz: float = 25.0
    noise_px: float = 5.0
    relative_noise: float = 0.0
    missing: int = 0


def detector_2d(
    view: SequenceView, condition: Condition, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The 2D a detector would give for ``view``: ``(keypoints (T, 15, 2), confidence (T, 15))``."""
    pixels = view.pixels + rng.normal(0.0, condition.noise_px, view.pixels.shape)
    visible = view.visible.copy()
    if condition.relative_noise > 0:
        level = condition.relative_noise
        section = NoiseSection((level, level), 0.3, 0.01, (0.05, 0.3), 0.02)
        generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
        noisy, seen = add_detector_noise(
            torch.from_numpy(pixels)[None], torch.from_numpy(visible)[None], section, generator
        )
        pixels, visible = noisy[0].numpy(), seen[0].numpy()
    if condition.missing:
        hidden = rng.permutation(NUM_JOINTS)[: condition.missing]
        visible[:, hidden] = False
    return pixels, visible.astype(np.float64)


def run_sequence(
    step: PeopleStep, view: SequenceView, keypoints: np.ndarray, confidence: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feed one person's frames to ``step``; ``(joints (T, 15, 3), radius (T, 15), answered)``.

    Frames with no published person are NaN and not ``answered``.
    """
    camera = Camera(view.camera_matrix, size=view.image_size)
    count = len(keypoints)
    joints = np.full((count, NUM_JOINTS, 3), np.nan)
    radius = np.full((count, NUM_JOINTS), np.nan)
    answered = np.zeros(count, bool)
    for t in range(count):
        frame = step.step(
            keypoints[t : t + 1],
            confidence[t : t + 1],
            np.ones(1),
            float(view.stamps_s[t]),
            view.image_size,
            camera,
        )
        if len(frame.ids):
            joints[t], radius[t], answered[t] = frame.joints_m[0], frame.uncertainty_m[0], True
    return joints, radius, answered


def score_sequence(
    joints_m: np.ndarray, truth_m: np.ndarray, radius_m: np.ndarray
) -> dict[str, float]:
    """Sums of every metric over one sequence's answered frames (see the module docstring)."""
    answered = np.isfinite(joints_m).all(axis=(1, 2))
    predicted, truth = joints_m[answered], truth_m[answered]
    relative = predicted - predicted[:, ROOT : ROOT + 1]
    true_relative = truth - truth[:, ROOT : ROOT + 1]
    n_errors = metrics.per_joint_error_n(relative, true_relative)
    aligned = metrics.procrustes_align(relative, true_relative)
    pa_errors = np.linalg.norm(aligned - true_relative, axis=2)
    scale = np.sum(relative * true_relative) / max(np.sum(relative * relative), 1e-12)
    scaled = relative * scale
    # motion over consecutive answered frames only
    steps = np.flatnonzero(answered)
    consecutive = np.diff(steps) == 1
    velocity = np.diff(scaled, axis=0) - np.diff(true_relative, axis=0)
    acceleration = np.diff(scaled, 2, axis=0) - np.diff(true_relative, 2, axis=0)
    both = consecutive[1:] & consecutive[:-1]
    within = np.linalg.norm(scaled - true_relative, axis=2) <= radius_m[answered] * scale
    return {
        "frames": float(len(answered)),
        "answered": float(answered.sum()),
        "n_mpjpe_mm": 1000.0 * n_errors.mean(axis=1).sum(),
        "pa_mpjpe_mm": 1000.0 * pa_errors.mean(axis=1).sum(),
        "mpjve_mm": 1000.0 * np.linalg.norm(velocity, axis=2).mean(axis=1)[consecutive].sum(),
        "velocity_frames": float(consecutive.sum()),
        "accel_error_mm": 1000.0
        * np.linalg.norm(acceleration, axis=2).mean(axis=1)[both].sum(),
        "accel_truth_mm": 1000.0
        * np.linalg.norm(np.diff(true_relative, 2, axis=0), axis=2).mean(axis=1)[both].sum(),
        "accel_frames": float(both.sum()),
        "bone_cv": metrics.bone_length_cv(predicted) * answered.sum(),
        "coverage": float(within.mean(axis=1).sum()),
    }


#: Which frame count each summed metric is averaged over.
_PER = {
    "n_mpjpe_mm": "answered",
    "pa_mpjpe_mm": "answered",
    "bone_cv": "answered",
    "coverage": "answered",
    "mpjve_mm": "velocity_frames",
    "accel_error_mm": "accel_frames",
    "accel_truth_mm": "accel_frames",
}


def summarise(sums: list[dict[str, float]]) -> dict[str, float]:
    """Frame-weighted means of :func:`score_sequence` results."""
    total = {key: sum(s[key] for s in sums) for key in sums[0]}
    result = {key: total[key] / max(total[per], 1.0) for key, per in _PER.items()}
    result["answered"] = total["answered"] / max(total["frames"], 1.0)
    result["frames"] = total["frames"]
    return result


def evaluate_sequences(
    lifter: PoseLifter,
    sequences: list[Sequence],
    condition: Condition = Condition(),
    settings: StepSettings = StepSettings(),
    seed: int = 0,
    ranges: CameraRanges = CameraRanges(),
    per_action: bool = False,
) -> dict:
    """Score ``lifter`` through the runtime step on every sequence (see the module docstring).

    Cameras and noise are drawn from ``seed``, so every lifter sees the same 2D.
    """
    rng = np.random.default_rng(seed)
    sums, by_action = [], {}
    for sequence in sequences:
        seen = resample(sequence, condition.rate_hz)
        view = view_sequence(seen, rng, ranges)
        keypoints, confidence = detector_2d(view, condition, rng)
        step = PeopleStep(lifter, settings)
        joints, radius, _ = run_sequence(step, view, keypoints, confidence)
        result = score_sequence(joints, view.joints_cam, radius)
        sums.append(result)
        by_action.setdefault(sequence.action, []).append(result)
    summary = summarise(sums)
    if per_action:
        summary["per_action"] = {action: summarise(s) for action, s in sorted(by_action.items())}
    return summary
