"""yolo_ros and ROS4HRI as 2D sources, over DDS, lifted exactly as keypoints mode lifts.

With the message packages (yolo_msgs from github.com/mgonzs13/yolo_ros, hri_msgs from
ROS4HRI; here built from their sources in a scratch workspace): a YOLO pose DetectionArray and
ROS4HRI bodies go in, the lifted people come out with the detection's / body's id as
``source_id``, equal to what keypoints mode makes of the same people. Without them, the node
refuses to start with one line naming what to build.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header

from pose_lifter.ros.external_inputs import INPUT_PACKAGES
from pose_lifter.tools.sample_bag import openpose_sample_frames
from pose_lifter_msgs.msg import Keypoint2D, Skeleton2D, Skeleton2DArray, Skeleton3DArray
from ros_helpers import CONFIG, RELIABLE_QOS, ros_process

HAVE = {
    mode: importlib.util.find_spec(package) is not None
    for mode, (package, _) in INPUT_PACKAGES.items()
}
K = [1000.0, 0.0, 640.0, 0.0, 1000.0, 360.0, 0.0, 0.0, 1.0]
#: COCO-17 index of each of our 15 joints (Neck and MidHip have none: midpoints).
COCO_OF = {
    0: 0,
    2: 6,
    3: 8,
    4: 10,
    5: 5,
    6: 7,
    7: 9,
    9: 12,
    10: 14,
    11: 16,
    12: 11,
    13: 13,
    14: 15,
}
#: OpenPose COCO-18 index of each of our joints (MidHip: the hips' midpoint).
COCO18_OF = {
    0: 0,
    1: 1,
    2: 2,
    3: 3,
    4: 4,
    5: 5,
    6: 6,
    7: 7,
    9: 8,
    10: 9,
    11: 10,
    12: 11,
    13: 12,
    14: 13,
}


@pytest.mark.parametrize("mode", sorted(INPUT_PACKAGES))
def test_without_the_message_package_the_node_says_what_to_build(mode):
    package, how = INPUT_PACKAGES[mode]
    if HAVE[mode]:
        pytest.skip(f"{package} is installed here")
    args = ["--params-file", str(CONFIG), "-r", f"__ns:=/no_{mode}", "-p", f"input_mode:={mode}"]
    with ros_process("pose_lifter_node", args) as node:
        assert node.wait(30.0) == 1, node.log()
        assert how in node.log() and "cannot start" in node.log(), node.log()


def coco17_detections(messages, people: np.ndarray, ids: list[str]):
    """Build the yolo_msgs/DetectionArray a YOLO pose model sends for ``people``.

    ``people`` (P, 15, 3) x, y, c; COCO-17 keypoints, 1-based ids, only the present ones.
    """
    array = messages.DetectionArray(header=Header(stamp=Time(sec=20), frame_id="cam"))
    for person, person_id in zip(people, ids):
        detection = messages.Detection(class_id=0, class_name="person", score=0.9, id=person_id)
        for ours, coco in COCO_OF.items():
            x, y, c = person[ours]
            if c > 0:
                keypoint = messages.KeyPoint2D(id=coco + 1, score=float(c))
                keypoint.point.x, keypoint.point.y = float(x), float(y)
                detection.keypoints.data.append(keypoint)
        array.detections.append(detection)
    return array


@pytest.mark.skipif(not HAVE["yolo"], reason="yolo_msgs is not installed")
def test_yolo_detections_are_lifted_as_keypoints_mode_lifts_them(ros):
    import yolo_msgs.msg as messages

    from pose_lifter.ros.parameters import load_params_file
    from pose_lifter.ros.pipeline import LiftingPipeline

    people = openpose_sample_frames()[0]
    msg = coco17_detections(messages, people, ["7", ""])
    node = ros.node()
    detections = node.create_publisher(messages.DetectionArray, "/yolo/detections", RELIABLE_QOS)
    infos = node.create_publisher(CameraInfo, "/yolo/camera_info", RELIABLE_QOS)
    _, lifted = ros.collector(Skeleton3DArray, "/yolo/skeletons_3d", node)
    args = ["--params-file", str(CONFIG), "-r", "__ns:=/yolo", "-p", "input_mode:=yolo"]
    args += ["-p", "qos.input_reliability:=reliable"]
    info = CameraInfo(header=Header(frame_id="cam"), width=1280, height=720, k=K)
    with ros_process("pose_lifter_node", args) as process:
        ros.wait_for_subscribers(detections, 1, 30.0)
        ros.wait_for_subscribers(infos, 1, 30.0)
        for sec in range(20, 40):  # until the node has the CameraInfo and answers
            infos.publish(info)
            ros.spin_until(lambda: False, 0.1)
            msg.header.stamp = Time(sec=sec)
            detections.publish(msg)
            if ros.spin_until(
                lambda: any(a.skeletons and a.skeletons[0].scale_source == 1 for a in lifted), 1.0
            ):
                break
        log = process.log()
    out = next((a for a in lifted if a.skeletons and a.skeletons[0].scale_source == 1), None)
    assert out is not None, (log, [len(a.skeletons) for a in lifted])
    assert [s.source_id for s in out.skeletons] == ["7", "1"], log  # the track id, else the index
    # keypoints mode on the same people, built by hand: COCO-17 has no neck and no mid-hip, so
    # a YOLO person's are the midpoints of the shoulders and of the hips (the lower confidence)
    same = np.array(people[:2], np.float64)
    for joint, (a, b) in ((1, (2, 5)), (8, (9, 12))):
        both = (same[:, a, 2] > 0) & (same[:, b, 2] > 0)
        same[:, joint, :2] = 0.5 * (same[:, a, :2] + same[:, b, :2])
        same[:, joint, 2] = np.where(both, np.minimum(same[:, a, 2], same[:, b, 2]), 0.0)
    keypoints_mode = Skeleton2DArray(
        header=out.header,
        skeletons=[
            Skeleton2D(
                id=person_id,
                score=0.9,
                keypoints=[
                    Keypoint2D(x=float(x), y=float(y), confidence=float(c)) for x, y, c in p
                ],
            )
            for person_id, p in zip(["7", ""], same)
        ],
    )
    reference = LiftingPipeline(load_params_file(CONFIG), id_prefix="yolo_pose_lifter_p")
    reference.set_camera_info(info)
    expected = reference.process(keypoints_mode).skeletons

    def joints(array):
        return np.array(
            [
                [(k.position.x, k.position.y, k.position.z) for k in p.keypoints]
                for p in array.skeletons
            ]
        )

    assert np.abs(joints(out) - joints(expected)).max() < 1e-9


def hri_body(messages, person: np.ndarray, size=(1280, 720)):
    """Build the ROS4HRI hri_msgs/Skeleton2D of one person (15 joints, px): COCO-18, normalised."""
    skeleton = messages.Skeleton2D(header=Header(frame_id="cam"))
    for ours, coco in COCO18_OF.items():
        x, y, c = person[ours]
        point = skeleton.skeleton[coco]
        point.x, point.y, point.c = float(x / size[0]), float(y / size[1]), float(c)
    return skeleton


@pytest.mark.skipif(not HAVE["hri"], reason="hri_msgs is not installed")
def test_ros4hri_bodies_are_lifted_with_their_body_ids(ros):
    import hri_msgs.msg as messages

    people = openpose_sample_frames()[0]
    node = ros.node()
    tracked = node.create_publisher(messages.IdsList, "/humans/bodies/tracked", RELIABLE_QOS)
    bodies = {
        body_id: node.create_publisher(
            messages.Skeleton2D, f"/humans/bodies/{body_id}/skeleton2d", RELIABLE_QOS
        )
        for body_id in ("anna1", "bob22")
    }
    infos = node.create_publisher(CameraInfo, "/hri/camera_info", RELIABLE_QOS)
    _, lifted = ros.collector(Skeleton3DArray, "/hri/skeletons_3d", node)
    args = ["--params-file", str(CONFIG), "-r", "__ns:=/hri", "-p", "input_mode:=hri"]
    args += ["-p", "qos.input_reliability:=reliable"]
    info = CameraInfo(header=Header(frame_id="cam"), width=1280, height=720, k=K)
    with ros_process("pose_lifter_node", args) as process:
        ros.wait_for_subscribers(tracked, 1, 30.0)
        ros.wait_for_subscribers(infos, 1, 30.0)
        for sec in range(1, 30):
            infos.publish(info)
            for (body_id, publisher), person in zip(bodies.items(), people):
                skeleton = hri_body(messages, person)
                skeleton.header.stamp = Time(sec=sec)
                publisher.publish(skeleton)
            ros.spin_until(lambda: False, 0.1)
            tracked.publish(
                messages.IdsList(
                    header=Header(stamp=Time(sec=sec), frame_id="cam"), ids=list(bodies)
                )
            )
            if ros.spin_until(lambda: any(len(a.skeletons) == 2 for a in lifted), 1.0):
                break
        log = process.log()
    out = next((a for a in lifted if len(a.skeletons) == 2), None)
    assert out is not None, (log, [len(a.skeletons) for a in lifted])
    assert sorted(s.source_id for s in out.skeletons) == ["anna1", "bob22"], log
    assert all(s.scale_source == 1 for s in out.skeletons)
    assert out.header.frame_id == "cam"


@pytest.mark.skipif(not HAVE["hri"], reason="hri_msgs is not installed")
def test_ros4hri_frames_without_bodies_or_with_odd_ones_never_stop_the_node():
    import hri_msgs.msg as messages

    from pose_lifter.ros.external_inputs import hri_skeletons

    empty = hri_skeletons(Header(frame_id="cam"), [], (640, 480))
    assert empty.skeletons == [] and empty.header.frame_id == "cam"
    body = messages.Skeleton2D()
    for point in body.skeleton:
        point.x, point.y, point.c = 0.5, 0.5, 0.0  # nothing seen
    one = hri_skeletons(Header(), [("x1", body)], (640, 480))
    assert [s.id for s in one.skeletons] == ["x1"]
    assert all(k.confidence == 0 for k in one.skeletons[0].keypoints)
