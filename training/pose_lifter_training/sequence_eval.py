"""3D accuracy and steadiness on motion sequences, through the runtime's own per-frame step.

Each sequence (:mod:`pose_lifter_training.sequences`: any frame rate, one static camera) is fed
frame by frame to :class:`pose_lifter.runtime.people_step.PeopleStep`, the step the node and
``pose-lifter replay`` run, with the 2D a detector would give (:class:`Condition`): the exact
projections plus Gaussian noise (5 px on a person 350 px tall by default, about a good
detector's error), optionally the training error model's outliers and left/right swaps
(:mod:`pose_lifter_training.noise`) and joints hidden. Joints outside the image are missing.
What the step publishes is scored against the truth (camera frame, metres):

- ``n_mpjpe_mm``, ``pa_mpjpe_mm``: per frame, root-aligned with a least-squares scale /
  similarity Procrustes;
- ``mpjve_mm``: mean per-joint velocity error (mm/frame) and ``accel_error_mm``: mean
  acceleration error (mm/frame^2) of the root-relative joints, after one least-squares scale per
  sequence (the stature prior's scale error is not motion); ``accel_truth_mm`` is the truth's
  own mean acceleration;
- ``bone_cv``: each bone's length over a sequence, standard deviation over mean, averaged over
  the bones and sequences (the published metres, as a user sees them);
- ``coverage``: the share of true joints (root-relative, the sequence's scale) within the
  published uncertainty radius, to compare with the radius's stated level (NaN for a lifter
  that publishes no radius); ``calibrated_radius_scales``: per coverage level, the radius over
  sigma that would hold exactly that share here (what
  :data:`pose_lifter.runtime.people_step.RADIUS_SCALES_KEY` stores);
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
from pose_lifter.runtime.people_step import CALIBRATED_LEVELS, PeopleStep, StepSettings
from pose_lifter_training.noise import NoiseSection, add_detector_noise
from pose_lifter_training.sequences import (
    CameraRanges,
    Sequence,
    SequenceView,
    resample,
    view_sequence,
)

#: The person height (pixels) at which ``Condition.noise_px`` applies when it is scaled.
REFERENCE_HEIGHT_PX = 350.0


@dataclass(frozen=True)
class Condition:
    """How the 2D is made.

    Attributes:
        rate_hz: the camera's frame rate.
        noise_px: Gaussian noise per coordinate (pixels); with ``scale_noise`` for a person
            :data:`REFERENCE_HEIGHT_PX` tall in the image, in proportion for others (a
            detector's error grows with the person's size).
        scale_noise: see ``noise_px``.
        error_model: add the training error model's outliers and left/right swaps
            (:mod:`pose_lifter_training.noise`).
        missing: random joints hidden for a whole sequence.
    """

    rate_hz: float = 25.0
    noise_px: float = 5.0
    scale_noise: bool = True
    error_model: bool = False
    missing: int = 0


def detector_2d(
    view: SequenceView, condition: Condition, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Make the 2D a detector would give: ``(keypoints (T, 15, 2), confidence (T, 15))``."""
    std = np.full((len(view.pixels), 1, 1), condition.noise_px)
    if condition.scale_noise:
        height = np.ptp(view.pixels[..., 1], axis=1)
        std = std * (height / REFERENCE_HEIGHT_PX)[:, None, None]
    pixels = view.pixels + std * rng.normal(0.0, 1.0, view.pixels.shape)
    visible = view.visible.copy()
    if condition.error_model:  # outliers and swaps as in training (no extra jitter)
        section = NoiseSection(outlier_probability=0.01, swap_probability=0.02)
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
    """Sum every metric over one sequence's answered frames (see the module docstring)."""
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
    radius = radius_m[answered] * scale
    errors = np.linalg.norm(scaled - true_relative, axis=2)
    within = errors <= radius
    known = radius > 0  # a radius of 0 is "unknown"
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
        "coverage": float(within[known].sum()),
        "coverage_joints": float(known.sum()),
        "radius_ratios": errors[known] / radius[known],
    }


#: Which frame count each summed metric is averaged over.
_PER = {
    "n_mpjpe_mm": "answered",
    "pa_mpjpe_mm": "answered",
    "bone_cv": "answered",
    "coverage": "coverage_joints",
    "mpjve_mm": "velocity_frames",
    "accel_error_mm": "accel_frames",
    "accel_truth_mm": "accel_frames",
}


def summarise(sums: list[dict[str, float]]) -> dict[str, float]:
    """Frame-weighted means of :func:`score_sequence` results."""
    total = {key: sum(s[key] for s in sums) for key in sums[0] if key != "radius_ratios"}
    result = {
        key: total[key] / total[per] if total[per] else float("nan") for key, per in _PER.items()
    }
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
    cameras: int = 2,
) -> dict:
    """Score ``lifter`` through the runtime step on every sequence (see the module docstring).

    Each sequence is seen by ``cameras`` cameras in turn (fresh tracks each time). Cameras and
    noise are drawn from ``seed`` (cameras apart from noise), so every lifter and every
    condition sees the same cameras, and every lifter the same 2D.
    """
    camera_rng, noise_rng = np.random.default_rng(seed), np.random.default_rng(seed + 1)
    sums, by_action = [], {}
    for sequence in sequences:
        seen = resample(sequence, condition.rate_hz)
        for _ in range(cameras):
            view = view_sequence(seen, camera_rng, ranges)
            keypoints, confidence = detector_2d(view, condition, noise_rng)
            step = PeopleStep(lifter, settings)
            joints, radius, _ = run_sequence(step, view, keypoints, confidence)
            result = score_sequence(joints, view.joints_cam, radius)
            sums.append(result)
            by_action.setdefault(sequence.action, []).append(result)
    summary = summarise(sums)
    # error / sigma of every joint: its quantile at a level is the radius scale that covers
    # exactly that share here
    ratios = np.concatenate([s["radius_ratios"] for s in sums])
    ratios = ratios * step.radius_scale(settings.uncertainty_coverage)
    summary["calibrated_radius_scales"] = (
        {f"{level:g}": float(np.quantile(ratios, level)) for level in CALIBRATED_LEVELS}
        if len(ratios)
        else {}
    )
    if per_action:
        summary["per_action"] = {action: summarise(s) for action, s in sorted(by_action.items())}
    return summary


#: Columns of :func:`format_sequence_table`: (heading, key, format).
_COLUMNS = (
    ("N-MPJPE mm", "n_mpjpe_mm", "{:.1f}"),
    ("PA-MPJPE mm", "pa_mpjpe_mm", "{:.1f}"),
    ("MPJVE mm/frame", "mpjve_mm", "{:.1f}"),
    ("accel error mm/frame^2", "accel_error_mm", "{:.1f}"),
    ("bone-length CV", "bone_cv", "{:.3f}"),
    ("coverage", "coverage", "{:.2f}"),
    ("answered", "answered", "{:.3f}"),
)


def format_sequence_table(results: dict[str, dict]) -> str:
    """Markdown table: one row per lifter (plus the truth's own acceleration)."""
    lines = [
        "| lifter | " + " | ".join(heading for heading, _, _ in _COLUMNS) + " |",
        "|---|" + "---|" * len(_COLUMNS),
    ]
    for name, result in results.items():
        cells = [fmt.format(result[key]) for _, key, fmt in _COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    truth = next(iter(results.values()))["accel_truth_mm"]
    lines.append(f"| (the truth's own motion) | | | | {truth:.1f} | 0 | | |")
    return "\n".join(lines)
