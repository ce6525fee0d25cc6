"""Fuzz suite: OpenPose --write_json files."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from pose_lifter.runtime.errors import OpenPoseJsonError
from pose_lifter.runtime.joints import NUM_JOINTS
from pose_lifter.ros.openpose_bridge import SAMPLE_DIRECTORY
from pose_lifter.runtime.openpose_json import list_openpose_json, read_openpose_json

from fuzzing import fuzz  # shared strategies and checks

SAMPLE_JSON = [p.read_bytes() for p in list_openpose_json(SAMPLE_DIRECTORY)[:3]]
json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**400, -(10**30), 2**63]),
    st.floats(),
    st.text(max_size=5),
)
json_value = st.recursive(
    json_scalar,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=5), c, max_size=3),
    max_leaves=8,
)


@st.composite
def mutated_document(draw) -> bytes:
    doc = json.loads(draw(st.sampled_from(SAMPLE_JSON)))
    for _ in range(draw(st.integers(1, 4))):
        people = doc.get("people") if isinstance(doc, dict) else None
        where = draw(st.sampled_from(["value", "list", "person_id", "person", "people", "doc"]))
        if (
            where in ("value", "list", "person_id", "person")
            and isinstance(people, list)
            and people
        ):
            index = draw(st.integers(0, len(people) - 1))
            p = people[index] if isinstance(people[index], dict) else {}
            flat = p.get("pose_keypoints_2d")
            if where == "value" and isinstance(flat, list) and flat:
                flat[draw(st.integers(0, len(flat) - 1))] = draw(json_value)
            elif where == "list":
                p["pose_keypoints_2d"] = draw(
                    st.one_of(json_value, st.lists(json_scalar, max_size=80))
                )
            elif where == "person_id":
                p["person_id"] = draw(st.one_of(json_value, st.lists(json_scalar, max_size=2)))
            elif where == "person":
                people[index] = draw(json_value)
        elif where == "people" and isinstance(doc, dict):
            doc["people"] = draw(json_value)
        elif where == "doc":
            doc = draw(json_value)
    return json.dumps(doc, allow_nan=True).encode()


@st.composite
def truncated_document(draw) -> bytes:
    data = draw(st.sampled_from(SAMPLE_JSON))
    return data[: draw(st.integers(0, len(data)))]


openpose_bytes = st.one_of(st.binary(max_size=300), truncated_document(), mutated_document())


@pytest.fixture(scope="module")
def json_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("openpose_fuzz")


def _check_openpose(path):
    try:
        frame = read_openpose_json(path)
    except OpenPoseJsonError:
        return
    people = len(frame.person_ids)
    assert frame.keypoints_2d.shape == (people, NUM_JOINTS, 3)
    assert frame.keypoints_2d.dtype == np.float32 and np.isfinite(frame.keypoints_2d).all()
    assert frame.person_ids.dtype == np.int64


@fuzz()
@given(openpose_bytes)
@example(b"[" * 100_000)  # deep nesting: json raises RecursionError
@example(json.dumps({"people": [{"pose_keypoints_2d": [1e39] * 75}]}).encode())  # float32 overflow
@example(b'{"people": [{"pose_keypoints_2d": [' + b",".join([b"1" + b"0" * 400] * 75) + b"]}]}")
@example(
    json.dumps({"people": [{"person_id": [math.nan], "pose_keypoints_2d": [1] * 75}]}).encode()
)
@example(json.dumps({"people": [{"person_id": math.inf, "pose_keypoints_2d": [1] * 75}]}).encode())
@example(json.dumps({"people": [{"person_id": 2**63, "pose_keypoints_2d": [1] * 75}]}).encode())
def test_openpose_json_only_openpose_errors(json_dir, data):
    path = json_dir / "frame_keypoints.json"
    path.write_bytes(data)
    _check_openpose(path)


def test_openpose_json_unreadable_path_is_an_openpose_error(json_dir):
    (json_dir / "a_directory.json").mkdir(exist_ok=True)
    _check_openpose(json_dir / "a_directory.json")  # IsADirectoryError must not escape
