"""Rebuild pose_lifter/sample_data/openpose_json/ (the demo's OpenPose --write_json sample).

Real poses: CMU mocap test-split 2D projections (training/data/cmu_mocap_15j.npz), written in
OpenPose's BODY_25 JSON layout (joints 15-24 and missing joints as 0, 0, 0). Two people per
frame: a walking and a jumping subject, the second shifted 500 px right so they do not overlap.
In frames 10-14 the walker's right ankle is marked missing to show missing-joint handling.
"""

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "pose_lifter" / "sample_data" / "openpose_json"
FRAMES = 20


def sequence(data, name, camera):
    keep = (data["test_sequence"] == name) & (data["test_camera"] == camera)
    order = np.argsort(data["test_frame"][keep])
    return data["test_keypoints_2d"][keep][order], data["test_joints_3d"][keep][order]


def person(keypoints_15, missing=()):
    body = np.zeros((25, 3))
    body[:15, :2] = keypoints_15
    body[:15, 2] = 0.9
    for joint in missing:
        body[joint] = 0
    return {
        "person_id": [-1],
        "pose_keypoints_2d": [round(float(v), 2) for v in body.ravel()],
        "face_keypoints_2d": [],
        "hand_left_keypoints_2d": [],
        "hand_right_keypoints_2d": [],
    }


def main() -> int:
    data = np.load(ROOT / "training" / "data" / "cmu_mocap_15j.npz")
    walk_2d, walk_3d = sequence(data, "walking_1", 0)
    jump_2d, jump_3d = sequence(data, "jumping_1", 3)
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    for frame in range(FRAMES):
        missing = (11,) if 10 <= frame < 15 else ()
        people = [person(walk_2d[frame], missing), person(jump_2d[frame] + (500.0, 0.0))]
        document = {"version": 1.3, "people": people}
        (OUT / f"cmu_sample_{frame:012d}_keypoints.json").write_text(json.dumps(document))
    np.savez_compressed(
        OUT.parent / "openpose_json_ground_truth.npz",
        walker_joints_3d=walk_3d[:FRAMES],
        jumper_joints_3d=jump_3d[:FRAMES],
    )
    print(f"wrote {FRAMES} frames to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
