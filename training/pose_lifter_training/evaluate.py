"""3D accuracy of lifters on data with ground truth, side by side with baselines.

Lifters run through the runtime's per-frame step (:class:`~pose_lifter.runtime.people_step.
PeopleStep`), as the node publishes a person; sequences: :mod:`pose_lifter_training.
sequence_eval`.

Metrics (mm, see :mod:`pose_lifter.runtime.metrics`): N-MPJPE, PA-MPJPE, PCK3D@150 mm after scale
alignment, depth-flip rate; overall, per action, and with 1, 2, 3 random joints removed
(confidence 0; the lifter must still output all 15 joints, scored against all 15).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from pose_lifter.runtime import metrics
from pose_lifter.runtime.joints import MIDHIP
from pose_lifter.runtime.lifter import PoseLifter
from pose_lifter.runtime.normalization import normalize_2d
from pose_lifter.runtime.model_files import SHIPPED_MODELS, shipped_model_path
from pose_lifter.runtime.people_step import PeopleStep, StepSettings
from pose_lifter_training.data import PoseData

LiftFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
PCK_THRESHOLD_MM = 150.0


def model_path(name_or_path: str) -> Path:
    """Return a shipped model's weights by name (:data:`SHIPPED_MODELS`), else the path."""
    if name_or_path in SHIPPED_MODELS:
        return shipped_model_path(name_or_path)
    return Path(name_or_path)


#: Poses lifted as one frame's persons by :func:`model_lifter`.
CHUNK = 256


def model_lifter(path: str | Path, device: str = "cpu") -> LiftFn:
    """Lift poses as the node publishes a person seen for the first time.

    Each chunk of :data:`CHUNK` poses is one frame of a fresh
    :class:`~pose_lifter.runtime.people_step.PeopleStep` (every pose a new track, so no
    history), without intrinsics (the scores are root-relative and scale-aligned).
    """
    lifter = PoseLifter(path, device=device)
    settings = StepSettings(min_joints=1, max_persons=CHUNK, min_joint_confidence=0.0)

    def lift(keypoints: np.ndarray, confidence: np.ndarray) -> np.ndarray:
        poses = []
        for start in range(0, len(keypoints), CHUNK):
            chunk = slice(start, start + CHUNK)
            step = PeopleStep(lifter, settings)
            frame = step.step(
                np.asarray(keypoints[chunk], np.float64),
                np.asarray(confidence[chunk], np.float64),
                np.ones(len(keypoints[chunk])),
                0.0,
                (0, 0),
                None,
            )
            if len(frame.ids) != len(keypoints[chunk]):
                raise ValueError(f"{len(keypoints[chunk]) - len(frame.ids)} poses not lifted")
            order = np.argsort(frame.sources)
            poses.append(frame.joints_m[order])
        return np.concatenate(poses) if poses else np.zeros((0, 15, 3))

    return lift


def zero_depth_lifter(keypoints: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """Baseline: the normalised 2D pose with z = 0 (missing joints at the root)."""
    normalized = normalize_2d(keypoints, confidence)
    flat = np.concatenate([normalized.keypoints, np.zeros_like(normalized.keypoints[..., :1])], -1)
    return flat - flat[:, MIDHIP : MIDHIP + 1]


def drop_random_joints(confidence: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Copy of ``confidence`` with ``count`` random joints per pose set to 0."""
    result = confidence.copy()
    if count:
        order = rng.random(confidence.shape).argsort(axis=1)[:, :count]
        np.put_along_axis(result, order, 0.0, axis=1)
    return result


def score(predicted: np.ndarray, target_m: np.ndarray, actions: np.ndarray | None) -> dict:
    """Metrics dict in mm for predictions (any scale) against metric ground truth."""
    target_mm = target_m.astype(np.float64) * 1000.0
    predicted = predicted.astype(np.float64)
    errors_n = metrics.per_joint_error_n(predicted, target_mm)
    aligned = metrics.procrustes_align(predicted, target_mm)
    errors_pa = np.linalg.norm(aligned - target_mm, axis=2)
    flips = metrics.depth_flipped(predicted, target_mm)

    def block(index) -> dict:
        return {
            "n_mpjpe_mm": float(errors_n[index].mean()),
            "pa_mpjpe_mm": float(errors_pa[index].mean()),
            "pck150": float((errors_n[index] < PCK_THRESHOLD_MM).mean()),
            "flip_rate": float(flips[index].mean()),
            "n": int(np.asarray(index).sum()),
        }

    everything = np.ones(len(predicted), bool)
    result = block(everything)
    if actions is not None:
        per_action = {str(a): block(actions == a) for a in np.unique(actions)}
        result["per_action"] = per_action
        result["action_mean"] = {
            k: float(np.mean([v[k] for v in per_action.values()]))
            for k in ("n_mpjpe_mm", "pa_mpjpe_mm", "pck150", "flip_rate")
        }
    return result


@torch.inference_mode()
def evaluate(
    lifters: dict[str, LiftFn], data: PoseData, dropped_counts=(1, 2, 3), seed: int = 0
) -> dict:
    """Score every lifter with all joints and with joints removed.

    Score every lifter on ``data`` (needs ``joints_3d``) with all joints and with joints removed;
    every lifter sees the same removed joints.
    """
    if data.joints_3d is None:
        raise ValueError("evaluation data has no joints_3d")
    results: dict[str, dict] = {}
    conditions = [0, *dropped_counts]
    confidences = {
        k: drop_random_joints(data.confidence, k, np.random.default_rng(seed + k))
        for k in conditions
    }
    for name, lift in lifters.items():
        entry = score(lift(data.keypoints_2d, confidences[0]), data.joints_3d, data.action)
        for k in dropped_counts:
            dropped = score(lift(data.keypoints_2d, confidences[k]), data.joints_3d, None)
            entry[f"missing_{k}"] = dropped
        results[name] = entry
    return results


def format_table(results: dict) -> str:
    """Markdown table: one row per lifter, all joints and 2 missing."""
    lines = [
        "| lifter | N-MPJPE mm | PA-MPJPE mm | PCK@150 | flip rate | N-MPJPE, 2 missing "
        "| PA-MPJPE, 2 missing |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        two = r.get("missing_2", {})
        lines.append(
            f"| {name} | {r['n_mpjpe_mm']:.1f} | {r['pa_mpjpe_mm']:.1f} | {r['pck150']:.3f} | "
            f"{r['flip_rate']:.3f} | {two.get('n_mpjpe_mm', float('nan')):.1f} | "
            f"{two.get('pa_mpjpe_mm', float('nan')):.1f} |"
        )
    return "\n".join(lines)
