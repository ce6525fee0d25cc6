"""``detections_3d`` (vision_msgs/Detection3DArray) over DDS: one detection per lifted person.

With vision_msgs installed (it is in rosdistro for Humble, Jazzy and Kilted; here it is built
from its sources in a scratch workspace): every Detection3DArray matches its Skeleton3DArray id
for id, with the header, class ``person``, the score, a box around the joints and a covariance
that follows the scale source. Without it the node starts and says once that the output is off.
"""

from __future__ import annotations

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header

from pose_lifter.ros.detections import PERSON_CLASS, VISION_MSGS
from pose_lifter.tools.sample_bag import openpose_sample_frames, openpose_sample_msg
from test_node_dds import Io

K = [1000.0, 0.0, 640.0, 0.0, 1000.0, 360.0, 0.0, 0.0, 1.0]


def test_without_vision_msgs_the_node_starts_and_says_the_output_is_off(ros, lifter_node):
    node = lifter_node("/no_vision")
    if VISION_MSGS is None:
        assert node._detections_pub is None and node.processor is not None
        assert ros.spin_until(lambda: True, 0.1)
    else:  # installed: the publisher is there
        assert node._detections_pub.topic_name == "/no_vision/detections_3d"


@pytest.mark.skipif(VISION_MSGS is None, reason="vision_msgs is not installed")
def test_every_skeleton_array_has_its_detection_array_id_for_id(ros, lifter_node):
    lifter_node("/vision")
    io = Io(ros, "/vision")
    detections_sub, detections = ros.collector(
        VISION_MSGS.Detection3DArray, "/vision/detections_3d", io.node
    )
    ros.wait_for_publishers(detections_sub, 1, 20.0)
    io.connect()
    detections.clear()
    people = openpose_sample_frames()[0]
    sent = []
    for sec, with_camera in ((10, False), (11, True), (12, True)):
        header = Header(stamp=Time(sec=sec), frame_id="cam")
        if with_camera:
            io.camera_info.publish(CameraInfo(header=header, width=1280, height=720, k=K))
            ros.spin_until(lambda: False, 0.3)
        msg = openpose_sample_msg(header, people)
        io.keypoints.publish(msg)
        sent.append(msg)
        ros.spin_until(lambda: False, 0.1)
    ros.spin_until_count(io.skeletons, 3, 10.0)
    ros.spin_until_count(detections, 3, 10.0)
    by_stamp = {d.header.stamp.sec: d for d in detections}
    for skeletons in io.skeletons:
        array = by_stamp[skeletons.header.stamp.sec]
        assert array.header == skeletons.header
        assert [d.id for d in array.detections] == [s.id for s in skeletons.skeletons]
        for detection, skeleton in zip(array.detections, skeletons.skeletons):
            joints = np.array(
                [(k.position.x, k.position.y, k.position.z) for k in skeleton.keypoints]
            )
            (result,) = detection.results
            assert result.hypothesis.class_id == PERSON_CLASS
            assert result.hypothesis.score == pytest.approx(skeleton.score)
            centre = result.pose.pose.position
            assert [centre.x, centre.y, centre.z] == pytest.approx(joints.mean(axis=0))
            box, size = detection.bbox.center.position, detection.bbox.size
            low = np.array([box.x, box.y, box.z]) - np.array([size.x, size.y, size.z]) / 2
            assert (joints >= low - 1e-9).all() and (joints.min(axis=0) == pytest.approx(low))
            position = np.array(result.pose.covariance).reshape(6, 6)[:3, :3]
            values, vectors = np.linalg.eigh(position)  # the largest: along the camera ray
            ray = joints.mean(axis=0) / np.linalg.norm(joints.mean(axis=0))
            distance = np.linalg.norm(joints.mean(axis=0))
            expected = {0: 100.0**2, 1: (0.12 * distance) ** 2}[skeleton.scale_source]
            assert values[-1] == pytest.approx(expected, rel=1e-6), skeleton.scale_source
            assert abs(vectors[:, -1] @ ray) == pytest.approx(1.0, abs=1e-6)
    assert {s.scale_source for a in io.skeletons for s in a.skeletons} == {0, 1}
