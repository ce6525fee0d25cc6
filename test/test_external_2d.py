"""yolo_ros and ROS4HRI people as the 15 joints, and ROS4HRI frames by stamp: by hand, no packages.

The DDS tests with the real message packages (test/test_external_inputs_dds.py) run where they
are built (scripts/external_inputs_test.sh); these run everywhere.
"""

from __future__ import annotations

import numpy as np

from pose_lifter.runtime.external_2d import hri_people, yolo_people
from pose_lifter.runtime.hri_frames import FrameAssembler
from pose_lifter.runtime.joints import (
    LANKLE,
    LSHOULDER,
    MIDHIP,
    NECK,
    NOSE,
    RHIP,
    RSHOULDER,
    RWRIST,
)

MS = 1_000_000


def test_yolo_keypoints_with_one_based_coco_ids_land_on_their_joints():
    # COCO-17 (0-based): 0 nose, 5 left shoulder, 6 right shoulder, 10 right wrist, 11 left hip,
    # 12 right hip, 15 left ankle; yolo_ros numbers them from 1
    person = [
        (1, 100.0, 50.0, 0.9),  # nose
        (6, 120.0, 80.0, 0.8),  # left shoulder
        (7, 80.0, 80.0, 0.7),  # right shoulder
        (11, 70.0, 140.0, 0.6),  # right wrist
        (12, 115.0, 150.0, 0.9),  # left hip
        (13, 85.0, 150.0, 0.5),  # right hip
        (16, 118.0, 250.0, 0.4),  # left ankle
        (18, 0.0, 0.0, 1.0),  # no such COCO id: ignored
    ]
    keypoints, confidence = yolo_people([person, []])
    assert keypoints.shape == (2, 15, 2) and not confidence[1].any()  # nobody: all missing
    np.testing.assert_allclose(keypoints[0, NOSE], (100, 50))
    np.testing.assert_allclose(keypoints[0, LSHOULDER], (120, 80))
    np.testing.assert_allclose(keypoints[0, RSHOULDER], (80, 80))
    np.testing.assert_allclose(keypoints[0, RWRIST], (70, 140))
    np.testing.assert_allclose(keypoints[0, RHIP], (85, 150))
    np.testing.assert_allclose(keypoints[0, LANKLE], (118, 250))
    np.testing.assert_allclose(keypoints[0, NECK], (100, 80))  # the shoulders' midpoint
    assert confidence[0, NECK] == 0.7  # the lower of the two
    np.testing.assert_allclose(keypoints[0, MIDHIP], (100, 150))
    assert confidence[0, MIDHIP] == 0.5
    assert (confidence[0] > 0).sum() == 9  # the rest (elbows, knees, ...) missing


def test_hri_points_are_scaled_from_normalised_coordinates_to_pixels():
    # OpenPose COCO-18: 0 nose, 1 neck, 2 right shoulder, 8 right hip, 11 left hip
    points = np.zeros((1, 18, 3))
    points[0, 0] = (0.5, 0.25, 0.9)
    points[0, 1] = (0.5, 0.4, 0.8)
    points[0, 2] = (0.4, 0.4, 0.7)
    points[0, 8] = (0.45, 0.7, 0.6)
    points[0, 11] = (0.55, 0.7, 0.5)
    keypoints, confidence = hri_people(points, (640, 480))
    np.testing.assert_allclose(keypoints[0, NOSE], (320, 120))
    np.testing.assert_allclose(keypoints[0, NECK], (320, 192))
    np.testing.assert_allclose(keypoints[0, RSHOULDER], (256, 192))
    np.testing.assert_allclose(keypoints[0, MIDHIP], (320, 336))  # the hips' midpoint
    assert confidence[0, MIDHIP] == 0.5 and confidence[0, NOSE] == 0.9


def test_a_frame_takes_the_skeletons_of_its_stamp_whatever_comes_first():
    frames = FrameAssembler(slop_ns=5 * MS, wait_ns=100 * MS)
    # skeletons first, then the list
    assert frames.skeleton("a", 1000 * MS, "a@1000") == []
    assert frames.skeleton("b", 1000 * MS, "b@1000") == []
    (frame,) = frames.frame("h1000", 1000 * MS, ["a", "b"], now_ns=0)
    assert frame.header == "h1000" and frame.bodies == [("a", "a@1000"), ("b", "b@1000")]
    # the list first: frame 1033 waits for its skeletons (never takes the 1000 ones)
    assert frames.frame("h1033", 1033 * MS, ["a", "b"], now_ns=1 * MS) == []
    assert frames.skeleton("a", 1033 * MS, "a@1033") == []  # b still missing
    (frame,) = frames.skeleton("b", 1033 * MS, "b@1033")
    assert frame.header == "h1033" and frame.bodies == [("a", "a@1033"), ("b", "b@1033")]


def test_an_occluded_body_is_left_out_not_repeated_with_an_old_skeleton():
    frames = FrameAssembler(slop_ns=5 * MS, wait_ns=100 * MS)
    frames.skeleton("a", 1000 * MS, "a@1000")
    frames.skeleton("b", 1000 * MS, "b@1000")
    frames.frame("h1000", 1000 * MS, ["a", "b"], now_ns=0)
    frames.skeleton("a", 1033 * MS, "a@1033")  # b is occluded: no skeleton at 1033
    assert frames.frame("h1033", 1033 * MS, ["a", "b"], now_ns=10 * MS) == []  # waits for b
    assert frames.expire(now_ns=50 * MS) == []
    (frame,) = frames.expire(now_ns=111 * MS)  # waited 100 ms: goes without b
    assert frame.bodies == [("a", "a@1033")]
    assert frames.waiting == 0


def test_frames_leave_in_the_order_their_lists_came():
    frames = FrameAssembler(slop_ns=5 * MS, wait_ns=100 * MS)
    assert frames.frame("h1", 1000 * MS, ["a"], now_ns=0) == []
    frames.skeleton("b", 1033 * MS, "b@1033")
    assert frames.frame("h2", 1033 * MS, ["b"], now_ns=1 * MS) == []  # complete, behind h1
    released = frames.skeleton("a", 1000 * MS, "a@1000")
    assert [f.header for f in released] == ["h1", "h2"]
