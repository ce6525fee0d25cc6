import json

import numpy as np
import pytest

from pose_lifter.runtime.errors import OpenPoseJsonError
from pose_lifter.runtime.openpose_json import (
    list_openpose_json,
    read_openpose_directory,
    read_openpose_json,
)


def _person(offset=0.0, missing=()):
    flat = []
    for j in range(25):
        if j in missing:
            flat += [0, 0, 0]
        else:
            flat += [100.0 + j + offset, 200.0 + j, 0.8]
    return {"person_id": [-1], "pose_keypoints_2d": flat}


def _write(path, people):
    path.write_text(json.dumps({"version": 1.3, "people": people}))
    return path


def test_multi_person_and_missing(tmp_path):
    frame = read_openpose_json(
        _write(tmp_path / "a_keypoints.json", [_person(), _person(50, missing=(11,))])
    )
    assert frame.keypoints_2d.shape == (2, 15, 3)
    assert frame.keypoints_2d[1, 0, 0] == pytest.approx(150.0)
    assert np.all(frame.keypoints_2d[1, 11] == 0)
    assert list(frame.person_ids) == [-1, -1]


def test_empty_people(tmp_path):
    frame = read_openpose_json(_write(tmp_path / "e.json", []))
    assert frame.keypoints_2d.shape == (0, 15, 3)


def test_directory_in_natural_frame_order(tmp_path):
    for i in (10, 2, 1):
        _write(tmp_path / f"video_{i:d}_keypoints.json", [_person(i)])
    names = [p.name for p in list_openpose_json(tmp_path)]
    assert names == ["video_1_keypoints.json", "video_2_keypoints.json", "video_10_keypoints.json"]
    frames = read_openpose_directory(tmp_path)
    assert [f.keypoints_2d[0, 0, 0] for f in frames] == [101.0, 102.0, 110.0]


@pytest.mark.parametrize(
    "content,match",
    [
        ("{not json", "not valid JSON"),
        ('{"people": 3}', "people"),
        ("[1, 2]", "people"),
        ('{"people": [{"pose_keypoints_2d": [1, 2, 3]}]}', "expected 75"),
        ('{"people": [{"face": []}]}', "pose_keypoints_2d"),
        ('{"people": [{"pose_keypoints_2d": ' + json.dumps(["a"] * 75) + "}]}", "non-numeric"),
        (
            '{"people": [{"pose_keypoints_2d": '
            + json.dumps([1e400] * 75).replace("Infinity", "1e999")
            + "}]}",
            "non-finite",
        ),
    ],
)
def test_malformed_files_raise_clear_errors(tmp_path, content, match):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(OpenPoseJsonError, match=match):
        read_openpose_json(path)


def test_truncated_and_binary_files(tmp_path):
    good = json.dumps({"people": [_person()]})
    (tmp_path / "t.json").write_text(good[: len(good) // 2])
    with pytest.raises(OpenPoseJsonError):
        read_openpose_json(tmp_path / "t.json")
    (tmp_path / "b.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(OpenPoseJsonError):
        read_openpose_json(tmp_path / "b.json")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(OpenPoseJsonError, match="no such file"):
        read_openpose_json(tmp_path / "nope.json")
    with pytest.raises(OpenPoseJsonError, match="not a directory"):
        read_openpose_directory(tmp_path / "nodir")
    with pytest.raises(OpenPoseJsonError, match="no \\*.json"):
        read_openpose_directory(tmp_path)
