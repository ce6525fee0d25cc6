"""Reader for OpenPose ``--write_json`` output (one JSON file per frame, several people each).

Each person's ``pose_keypoints_2d`` is a flat list of 25 x (x, y, c) for BODY_25 (18 for COCO
models is refused); a joint that was not detected is (0, 0, 0). Only the first 15 BODY_25 joints
are kept (the seed's skeleton).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pose_lifter.runtime.errors import OpenPoseJsonError
from pose_lifter.runtime.joints import NUM_JOINTS

BODY25_JOINTS = 25


@dataclass(frozen=True)
class OpenPoseFrame:
    """One OpenPose JSON file.

    Attributes:
        path: the file read.
        keypoints_2d: ``(P, 15, 3)`` float32 (x px, y px, confidence); P may be 0.
        person_ids: ``(P,)`` int, OpenPose's ``person_id`` (-1 when untracked, the default).
    """

    path: Path
    keypoints_2d: np.ndarray
    person_ids: np.ndarray


_FLOAT32_MAX = float(np.finfo(np.float32).max)
_INT64 = np.iinfo(np.int64)


def _is_float32(value: object) -> bool:
    """Return a JSON number (not bool) that is finite as float32 (huge ints and 1e39 are not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value) and abs(float(value)) <= _FLOAT32_MAX
    except OverflowError:  # int too large to convert to float
        return False


def _person_id(value: object) -> int:
    """Return OpenPose's ``person_id`` as an int64 (-1 when untracked).

    OpenPose's ``person_id`` as an int64; -1 (untracked) for anything else.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return -1
    if isinstance(value, float) and not math.isfinite(value):
        return -1
    value = int(value)
    return value if _INT64.min <= value <= _INT64.max else -1


def parse_openpose_people(
    document: object, source: str = "<json>"
) -> tuple[np.ndarray, np.ndarray]:
    """Parse an already-decoded OpenPose document into ``(keypoints (P,15,3), person_ids (P,))``.

    Raises:
        OpenPoseJsonError: not an object with a ``people`` list, wrong keypoint count, or
            non-numeric / non-finite values.
    """
    if not isinstance(document, dict) or not isinstance(document.get("people"), list):
        raise OpenPoseJsonError(f"{source}: expected an object with a 'people' list")
    keypoints, ids = [], []
    for index, person in enumerate(document["people"]):
        flat = person.get("pose_keypoints_2d") if isinstance(person, dict) else None
        if not isinstance(flat, list):
            raise OpenPoseJsonError(f"{source}: people[{index}] has no 'pose_keypoints_2d' list")
        if len(flat) != 3 * BODY25_JOINTS:
            raise OpenPoseJsonError(
                f"{source}: people[{index}].pose_keypoints_2d has {len(flat)} values; "
                f"expected {3 * BODY25_JOINTS} (BODY_25 x (x, y, c))"
            )
        if not all(_is_float32(v) for v in flat):
            raise OpenPoseJsonError(
                f"{source}: people[{index}].pose_keypoints_2d has non-numeric or non-finite values"
            )
        keypoints.append(np.asarray(flat, dtype=np.float32).reshape(BODY25_JOINTS, 3)[:NUM_JOINTS])
        person_id = person.get("person_id", -1)
        if isinstance(person_id, list):  # OpenPose writes [-1]
            person_id = person_id[0] if person_id else -1
        ids.append(_person_id(person_id))
    array = np.stack(keypoints) if keypoints else np.zeros((0, NUM_JOINTS, 3), np.float32)
    return array, np.asarray(ids, dtype=np.int64)


def read_openpose_json(path: str | Path) -> OpenPoseFrame:
    """Read one OpenPose JSON file. Raises :class:`OpenPoseJsonError` on any malformed input."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise OpenPoseJsonError(f"{path}: no such file") from error
    except OSError as error:  # a directory, no permission, I/O error
        raise OpenPoseJsonError(f"{path}: cannot read ({error})") from error
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise OpenPoseJsonError(f"{path}: not valid JSON ({error})") from error
    keypoints, ids = parse_openpose_people(document, str(path))
    return OpenPoseFrame(path, keypoints, ids)


def _natural_key(path: Path):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]


def list_openpose_json(directory: str | Path) -> list[Path]:
    """Return the ``*.json`` files of a ``--write_json`` directory in frame (natural) order."""
    directory = Path(directory)
    if not directory.is_dir():
        raise OpenPoseJsonError(f"{directory}: not a directory")
    return sorted(directory.glob("*.json"), key=_natural_key)


def read_openpose_directory(directory: str | Path) -> list[OpenPoseFrame]:
    """Read every frame of a ``--write_json`` directory, in frame order."""
    files = list_openpose_json(directory)
    if not files:
        raise OpenPoseJsonError(f"{directory}: no *.json files")
    return [read_openpose_json(path) for path in files]
