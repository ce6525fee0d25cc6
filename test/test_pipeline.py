"""LiftingPipeline without a ROS graph: the exact code path of the node (and of bag replay)."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from geometry_msgs.msg import Quaternion, Transform, TransformStamped, Vector3
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header
from visualization_msgs.msg import Marker

from pose_lifter.tools.sample_bag import openpose_sample_messages
from pose_lifter.runtime.lifter import PoseLifter
from pose_lifter.ros.parameters import Settings
from pose_lifter.ros.pipeline import LiftingPipeline
from pose_lifter_msgs.msg import Skeleton3D

K = [1000.0, 0.0, 640.0, 0.0, 1000.0, 360.0, 0.0, 0.0, 1.0]


@pytest.fixture(scope="module")
def lifter():
    return PoseLifter(device="cpu")


@pytest.fixture
def messages():  # fresh per test: tests modify them
    return openpose_sample_messages(frame_id="cam", first_sec=100, nanosec=7)


def make(lifter, **changes):
    return LiftingPipeline(Settings().replace(**changes), lifter)


def test_header_copied_ids_stable_scale_source_honest(lifter, messages):
    pipeline = make(lifter)
    outputs = [pipeline.process(msg) for msg in messages[:5]]
    assert pipeline.set_camera_info(CameraInfo(k=K))
    outputs += [pipeline.process(msg) for msg in messages[5:]]
    for msg, out in zip(messages, outputs):
        assert out.skeletons.header == msg.header
        assert all(m.header == msg.header for m in out.markers.markers)
    assert {tuple(s.id for s in out.skeletons.skeletons) for out in outputs} == {("p1", "p2")}
    sources = [out.skeletons.skeletons[0].scale_source for out in outputs]
    assert sources == [Skeleton3D.SCALE_NORMALIZED] * 5 + [Skeleton3D.SCALE_ASSUMED_HEIGHT] * 15
    assert pipeline.counters.persons_out == 40


def test_malformed_persons_dropped_and_counted_valid_ones_kept(lifter, messages):
    pipeline = make(lifter)
    msg = messages[0]
    bad = [copy.deepcopy(msg.skeletons[0]) for _ in range(4)]
    bad[0].keypoints[3].x = math.nan  # NaN at a present joint
    bad[1].keypoints[5].confidence = math.inf
    bad[2].keypoints[6].y = 1e9
    for keypoint in bad[3].keypoints:  # no joint present
        keypoint.confidence = 0.0
    msg.skeletons = [*bad, msg.skeletons[1]]
    out = pipeline.process(msg)
    assert [s.id for s in out.skeletons.skeletons] == ["p1"]
    dropped = pipeline.counters.dropped
    assert (
        dropped["nonfinite_keypoint"],
        dropped["nonfinite_confidence"],
        dropped["huge_keypoint"],
        dropped["too_few_joints"],
    ) == (1, 1, 1, 1)


def test_missing_joint_still_lifted_with_confidence_zero_and_finite(lifter, messages):
    pipeline = make(lifter, min_joints=10)
    msg = messages[3]
    msg.skeletons[0].keypoints[4].x = math.nan  # missing joint: NaN is allowed there
    msg.skeletons[0].keypoints[4].confidence = 0.0
    msg.skeletons[0].keypoints[7].confidence = 0.05  # below min_joint_confidence
    out = pipeline.process(msg)
    person = out.skeletons.skeletons[0]
    assert person.keypoints[4].confidence == 0.0 and person.keypoints[7].confidence == 0.0
    assert person.keypoints[3].confidence > 0.0
    for marker in out.markers.markers:
        assert all(math.isfinite(v) for p in marker.points for v in (p.x, p.y, p.z))


def test_empty_message_gives_empty_array_and_deletes_the_people_shown_before(lifter, messages):
    pipeline = make(lifter)
    shown = pipeline.process(messages[0])  # two people
    assert [m.action for m in shown.markers.markers[:3]] == [Marker.DELETE] * 3  # slot 2
    msg = type(messages[0])(header=messages[0].header)
    out = pipeline.process(msg)
    assert out.skeletons.skeletons == [] and out.skeletons.header == msg.header
    deleted = {(m.ns, m.id) for m in out.markers.markers if m.action == Marker.DELETE}
    assert deleted == {
        (f"p/{kind}", slot) for kind in ("joints", "bones", "ids") for slot in (0, 1)
    }
    assert all(m.header == msg.header for m in out.markers.markers)
    assert Marker.DELETEALL not in {m.action for m in out.markers.markers}


def test_wrong_shapes_and_bad_camera_info_are_counted(lifter):
    pipeline = make(lifter)
    assert (
        pipeline.process_arrays(
            np.zeros((1, 17, 2)), np.ones((1, 17)), np.ones(1), Header(), (0, 0)
        )
        is None
    )
    assert not pipeline.set_camera_info(CameraInfo(k=[0.0] * 9))
    assert not pipeline.set_camera_info(CameraInfo(k=[math.nan] + K[1:]))
    assert pipeline.camera_matrix is None
    assert pipeline.counters.dropped["malformed_message"] == 1
    assert pipeline.counters.dropped["bad_camera_info"] == 2


def test_max_persons_keeps_the_best_scores(lifter, messages):
    pipeline = make(lifter, max_persons=1)
    msg = messages[0]
    msg.skeletons[0].score, msg.skeletons[1].score = 0.2, 0.9
    out = pipeline.process(msg)
    assert len(out.skeletons.skeletons) == 1 and out.skeletons.skeletons[0].score == pytest.approx(
        0.9
    )
    assert pipeline.counters.dropped["too_many_persons"] == 1


def test_target_frame_through_lookup_and_tf_frames(lifter, messages):
    shift = TransformStamped(
        transform=Transform(translation=Vector3(x=1.0, y=2.0, z=3.0), rotation=Quaternion(w=1.0))
    )
    calls = []

    def lookup(target, source, stamp):
        calls.append((target, source, stamp))
        return shift if target == "world" else None

    camera = make(lifter)
    world = LiftingPipeline(
        Settings().replace(target_frame="world", publish_tf=True), lifter, lookup
    )
    a, b = camera.process(messages[0]), world.process(messages[0])
    assert b.skeletons.header.frame_id == "world"
    assert calls == [("world", "cam", messages[0].header.stamp)]
    pa = a.skeletons.skeletons[0].keypoints[0].position
    pb = b.skeletons.skeletons[0].keypoints[0].position
    assert (pb.x - pa.x, pb.y - pa.y, pb.z - pa.z) == pytest.approx((1.0, 2.0, 3.0))
    frames = {(t.header.frame_id, t.child_frame_id) for t in b.transforms}
    assert ("world", "body_p1") in frames and ("body_p1", "r_shoulder_p1") in frames
    assert len(b.transforms) == 2 * 16 and a.transforms == []
    assert [s.body_frame for s in b.skeletons.skeletons] == ["body_p1", "body_p2"]
    assert {s.body_frame for s in a.skeletons.skeletons} == {""}  # no TF, no frame
    no_tf = LiftingPipeline(Settings().replace(target_frame="map"), lifter, lookup)
    assert no_tf.process(messages[0]) is None
    assert no_tf.counters.dropped["tf_unavailable"] == 1


def test_smoothing_changes_output_only_when_enabled(lifter, messages):
    plain, smooth = make(lifter), make(
        lifter, smoothing_enabled=True, smoothing_min_cutoff_hz=0.05
    )
    z = [
        [
            out.skeletons.skeletons[1].keypoints[0].position.z
            for out in (p.process(msg) for msg in messages[:6])
        ]
        for p in (plain, smooth)
    ]
    assert z[0][0] == z[1][0] and z[0][1:] != z[1][1:]


def test_source_ids_link_each_3d_person_to_its_2d_input(lifter, messages):
    msg = messages[0]
    msg.skeletons[0].id = "op7"  # an id from the 2D source; the other person has none
    msg.skeletons.insert(0, type(msg.skeletons[0])())  # an empty person first: dropped
    out = make(lifter).process(msg)
    sources = [s.source_id for s in out.skeletons.skeletons]
    assert sources == ["op7", "2"] and out.source_indices == [1, 2]
    assert [s.id for s in out.skeletons.skeletons] == ["p1", "p2"]


def test_ros4hri_bodies_get_rep155_frames_named_after_their_ids(lifter, messages):
    msg = messages[0]
    msg.skeletons[0].id, msg.skeletons[1].id = "anna1", "bob22"  # ROS4HRI body ids
    named = make(lifter, input_mode="hri", publish_tf=True).process(msg)
    assert [s.body_frame for s in named.skeletons.skeletons] == ["body_anna1", "body_bob22"]
    assert {t.child_frame_id for t in named.transforms} >= {"body_anna1", "nose_bob22"}
    pooled = make(lifter, input_mode="hri", publish_tf=True, hri_body_frame_names=False)
    assert [s.body_frame for s in pooled.process(msg).skeletons.skeletons] == [
        "body_p1",
        "body_p2",
    ]
