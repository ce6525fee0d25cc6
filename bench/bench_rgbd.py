"""RGB-D benchmark: how well each way of finding the metric scale places real people.

Scenes (:mod:`pose_lifter.tools.synthetic_rgbd`): CMU mocap test poses (every 12th of the
4,320, real people in their own orientation) placed 1-6 m in front of a 640x480 camera
(f = 525 px), one or two people, rendered as capsule bodies with human radii (random build
0.8-1.2), z-buffered, with the sensor model (noise 1% at 1 m growing with distance^2, holes at
depth edges, 2% dropouts, mm rounding) and 2D keypoints = the projections + 1.5 px noise
(joints out of the image missing). Every person goes through the node's pipeline
(:class:`~pose_lifter.ros.pipeline.LiftingPipeline`, shipped lifter, shipped parameters):

- ``prior 1.7 m``: no depth, stature prior ``subject_height_m`` = 1.7 (the default);
- ``prior, true height``: the same at each person's true stature (placement is linear in the
  stature, so this is the 1.7 m result times true/1.7);
- ``depth``: ``depth.enabled`` with the shipped depth parameters (persons that fall back to the
  prior are counted, and scored as placed).

Conditions: ``beside`` (a second person beside the first in half the scenes, everyone scored)
and ``half occluded`` (a second person in front hides about half of the first; the hidden one
is scored). Root-depth error = |MidHip z - true| / true; absolute MPJPE = mean joint distance in
the camera frame, no alignment.

    source scripts/env.sh && python bench/bench_rgbd.py [--scenes 300] [--seed 1]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from builtin_interfaces.msg import Time
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header

from pose_lifter.ros.parameters import load_params_file
from pose_lifter.ros.pipeline import LiftingPipeline
from pose_lifter.runtime.joints import ROOT
from pose_lifter.runtime.placement import CHAIN_TO_STATURE, chain_length
from pose_lifter.tools.replay import default_params_file
from pose_lifter.tools.sample_bag import pinhole_camera_info
from pose_lifter.tools.synthetic_rgbd import CAMERA_MATRIX, HEIGHT, WIDTH, sample_scenes

FRAME = "camera_color_optical_frame"
CMU = Path(__file__).resolve().parents[1] / "training" / "data" / "cmu_mocap_15j.npz"


def cmu_test_poses(path: Path = CMU, every: int = 12) -> np.ndarray:
    """Every ``every``-th CMU test pose ``(N, 15, 3)`` (metres, its camera's frame)."""
    with np.load(path) as data:
        return data["test_joints_3d"][::every].astype(np.float64)


def camera_info() -> CameraInfo:
    return pinhole_camera_info(Header(frame_id=FRAME), CAMERA_MATRIX, WIDTH, HEIGHT)


def run(condition: str, scenes: int, seed: int) -> dict:
    """Score the three methods on ``scenes`` scenes of one condition."""
    settings = load_params_file(default_params_file())
    prior = LiftingPipeline(settings.replace(depth_enabled=False))
    depth = LiftingPipeline(settings.replace(depth_enabled=True), prior.lifter)
    for pipeline in (prior, depth):
        pipeline.set_camera_info(camera_info())
    rows = {"prior 1.7 m": [], "prior, true height": [], "depth": []}
    distances, occluded, placing_s = [], [], []
    occlude = condition == "half occluded"
    for i, scene in enumerate(sample_scenes(cmu_test_poses(), scenes, seed, occlude=occlude)):
        header = Header(stamp=Time(sec=i + 1), frame_id=FRAME)
        depth.set_depth(header, scene.depth_m)
        args = (scene.keypoints_2d, scene.confidence, np.ones(len(scene.confidence)), header)
        a = prior.process_arrays(*args, (WIDTH, HEIGHT))
        started = time.perf_counter()
        b = depth.process_arrays(*args, (WIDTH, HEIGHT))
        placing_s.append(time.perf_counter() - started)
        scored = [0] if occlude else range(len(scene.joints_3d))
        for method, out in (("prior 1.7 m", a), ("depth", b)):
            for skeleton, source in zip(out.skeletons.skeletons, out.source_indices):
                if source not in scored:
                    continue
                joints = np.array(
                    [(k.position.x, k.position.y, k.position.z) for k in skeleton.keypoints]
                )
                truth = scene.joints_3d[source]
                rows[method].append(_errors(joints, truth))
                if method == "prior 1.7 m":
                    height = chain_length(truth) / CHAIN_TO_STATURE
                    rows["prior, true height"].append(_errors(joints * height / 1.7, truth))
                    distances.append(truth[ROOT, 2])
                    occluded.append(scene.occluded_fraction[source])
    counters = depth.counters
    return dict(
        rows={k: np.array(v) for k, v in rows.items()},
        distances=np.array(distances),
        occluded=float(np.median(occluded)),
        fallback=counters.depth_fallback,
        persons=counters.depth_fallback + counters.persons_depth,
        placing_ms=1000 * float(np.median(placing_s)),
    )


def _errors(joints: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    root_error = abs(joints[ROOT, 2] - truth[ROOT, 2]) / truth[ROOT, 2]
    return root_error, 1000 * float(np.linalg.norm(joints - truth, axis=1).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=300, help="scenes per condition")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    print(
        "| condition | scale from | persons | root depth err median | p90 | abs MPJPE mean mm "
        "| median mm |"
    )
    print("|---|---|---|---|---|---|---|")
    notes = []
    for condition in ("beside", "half occluded"):
        result = run(condition, options.scenes, options.seed)
        for method, values in result["rows"].items():
            root, mpjpe = values[:, 0], values[:, 1]
            print(
                f"| {condition} | {method} | {len(values)} | {100 * np.median(root):.1f}% "
                f"| {100 * np.percentile(root, 90):.1f}% | {mpjpe.mean():.0f} "
                f"| {np.median(mpjpe):.0f} |"
            )
        depth_rows, distances = result["rows"]["depth"], result["distances"]
        if condition == "beside" and len(depth_rows) == len(distances):
            for low, high in ((1, 2), (2, 4), (4, 6)):
                inside = (distances >= low) & (distances < high)
                root = depth_rows[inside, 0]
                notes.append(
                    f"  depth, {low}-{high} m ({inside.sum()} persons): root error median "
                    f"{100 * np.median(root):.1f}%, p90 {100 * np.percentile(root, 90):.1f}%, "
                    f"abs MPJPE mean {depth_rows[inside, 1].mean():.0f} mm"
                )
        notes.append(
            f"  {condition}: {result['fallback']} of {result['persons']} persons fell back to "
            f"the stature prior; median hidden share {100 * result['occluded']:.0f}%; "
            f"pipeline step with depth {result['placing_ms']:.2f} ms per frame (median)"
        )
    print("\n".join(notes))


if __name__ == "__main__":
    main()
