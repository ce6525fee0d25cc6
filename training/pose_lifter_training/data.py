"""Training and evaluation data: npz files and OpenPose ``--write_json`` directories.

Every loader returns a :class:`PoseData` with 2D keypoints in pixels, a per-joint confidence,
and, when the source has it, 3D joints in metres in the camera frame (x right, y down, z forward).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pose_lifter.runtime.errors import PoseInputError
from pose_lifter.runtime.joints import NUM_JOINTS
from pose_lifter.runtime.openpose_json import read_openpose_directory


@dataclass
class PoseData:
    """N poses.

    ``keypoints_2d`` (N,15,2) px; ``confidence`` (N,15); ``joints_3d`` (N,15,3) m or None;
    ``action`` (N,) str or None.
    """

    keypoints_2d: np.ndarray
    confidence: np.ndarray
    joints_3d: np.ndarray | None = None
    action: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.keypoints_2d)


def _key(files, name: str, split: str | None) -> str | None:
    if split and f"{split}_{name}" in files:
        return f"{split}_{name}"
    if name in files:
        return name
    return None


def load_npz(path: str | Path, split: str | None = None, limit: int | None = None) -> PoseData:
    """Read 2D keypoints (and optional 3D) from an npz file.

    Read ``keypoints_2d`` (N,15,2|3) [+ ``joints_3d`` (N,15,3), ``confidence``, ``action``], keys
    optionally prefixed ``<split>_``.
    """
    path = Path(path)
    with np.load(path, allow_pickle=False) as archive:
        files = set(archive.files)
        key_2d = _key(files, "keypoints_2d", split)
        if key_2d is None:
            raise PoseInputError(
                f"{path}: no 'keypoints_2d' array"
                + (f" (nor '{split}_keypoints_2d')" if split else "")
            )
        keypoints = np.asarray(archive[key_2d][:limit], dtype=np.float32)
        if (
            keypoints.ndim != 3
            or keypoints.shape[1] != NUM_JOINTS
            or keypoints.shape[2] not in (2, 3)
        ):
            raise PoseInputError(f"{path}:{key_2d} must be (N, 15, 2|3), got {keypoints.shape}")
        key_conf = _key(files, "confidence", split)
        if keypoints.shape[2] == 3:
            confidence = keypoints[..., 2].copy()
            keypoints = keypoints[..., :2].copy()
        elif key_conf is not None:
            confidence = np.asarray(archive[key_conf][:limit], dtype=np.float32)
        else:
            confidence = np.ones(keypoints.shape[:2], np.float32)
        key_3d = _key(files, "joints_3d", split)
        joints_3d = None
        if key_3d is not None:
            joints_3d = np.asarray(archive[key_3d][:limit], dtype=np.float32)
            if joints_3d.shape != keypoints.shape[:2] + (3,):
                raise PoseInputError(
                    f"{path}:{key_3d} must be {keypoints.shape[:2] + (3,)}, "
                    f"got {joints_3d.shape}"
                )
        key_action = _key(files, "action", split)
        action = (
            None if key_action is None else np.asarray(archive[key_action][:limit]).astype(str)
        )
    if confidence.shape != keypoints.shape[:2]:
        raise PoseInputError(
            f"{path}: confidence must be {keypoints.shape[:2]}, got {confidence.shape}"
        )
    return PoseData(keypoints, confidence, joints_3d, action)


@dataclass
class WorldPoses:
    """F distinct 3D poses in their capture world (metres, y up, floor at y = 0).

    ``joints_world`` (F,15,3); ``action`` and ``sequence`` (F,) str. Training draws its own
    cameras around them (:mod:`pose_lifter_training.cameras`).
    """

    joints_world: np.ndarray
    action: np.ndarray
    sequence: np.ndarray

    def __len__(self) -> int:
        return len(self.joints_world)


def load_world_poses(path: str | Path, split: str | None = None) -> WorldPoses:
    """Read the distinct world poses of a mocap npz (``joints_3d`` seen through ``R``, ``t``).

    Each sample of the file is one frame seen by one of its fixed cameras
    (``X_cam = R X_world + t``); the frame's world pose is ``R^T (X_cam - t)``, kept once per
    ``(sequence, frame)``, in file order.

    Raises:
        PoseInputError: no 3D or no camera poses (``R``, ``t``) in the file.
    """
    path = Path(path)
    with np.load(path, allow_pickle=False) as archive:
        files = set(archive.files)
        keys = {
            name: _key(files, name, split)
            for name in ("joints_3d", "R", "t", "sequence", "frame", "action")
        }
        missing = [name for name, key in keys.items() if key is None]
        if missing:
            raise PoseInputError(
                f"{path}: world poses need {sorted(keys)} (split {split!r}); missing {missing}"
            )
        arrays = {name: archive[key] for name, key in keys.items()}
    identity = np.char.add(
        np.char.add(arrays["sequence"].astype(str), "#"), arrays["frame"].astype(str)
    )
    _, first = np.unique(identity, return_index=True)
    first = np.sort(first)
    joints = arrays["joints_3d"][first].astype(np.float64)
    rotation, translation = arrays["R"][first].astype(np.float64), arrays["t"][first]
    world = np.einsum("nji,nkj->nki", rotation, joints - translation[:, None, :])
    return WorldPoses(
        world.astype(np.float32),
        arrays["action"][first].astype(str),
        arrays["sequence"][first].astype(str),
    )


def load_openpose(directory: str | Path, limit: int | None = None) -> PoseData:
    """Every person of every frame of an OpenPose ``--write_json`` directory (2D only)."""
    frames = read_openpose_directory(directory)
    people = [frame.keypoints_2d for frame in frames if len(frame.keypoints_2d)]
    if not people:
        raise PoseInputError(f"{directory}: no people in any frame")
    stacked = np.concatenate(people)[:limit]
    return PoseData(stacked[..., :2].copy(), stacked[..., 2].copy())


def load_source(path: str | Path, split: str | None = None, limit: int | None = None) -> PoseData:
    """Return an npz file or an OpenPose JSON directory."""
    path = Path(path)
    if path.is_dir():
        return load_openpose(path, limit)
    if not path.is_file():
        raise FileNotFoundError(f"data source {path} does not exist")
    return load_npz(path, split, limit)


def concatenate(parts: list[PoseData]) -> PoseData:
    """Join sources; 3D and actions are kept only when every part has them."""
    if not parts:
        raise PoseInputError("no data sources")
    joints = [p.joints_3d for p in parts]
    actions = [p.action for p in parts]
    return PoseData(
        np.concatenate([p.keypoints_2d for p in parts]),
        np.concatenate([p.confidence for p in parts]),
        np.concatenate(joints) if all(j is not None for j in joints) else None,
        np.concatenate(actions) if all(a is not None for a in actions) else None,
    )
