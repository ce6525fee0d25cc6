"""CameraInfo checks: distortion undone before lifting, P for rectified streams, mismatches.

Ground truth: CMU test poses (metres, camera frame) projected through their real intrinsics
and a strong distortion model (cv2.projectPoints / cv2.fisheye.projectPoints), so the true root
depth of every person is known.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header

from pose_lifter.ros.parameters import Settings
from pose_lifter.ros.pipeline import LiftingPipeline
from pose_lifter.runtime.camera import undistort_pixels
from pose_lifter.runtime.errors import CameraError
from pose_lifter.runtime.joints import MIDHIP
from pose_lifter.runtime.lifter import PoseLifter
from ros_helpers import REPO

CMU = REPO / "training" / "data" / "cmu_mocap_15j.npz"
PLUMB_BOB = np.array([-0.28, 0.09, 0.001, -0.0005, -0.012])
EQUIDISTANT = np.array([0.05, -0.02, 0.004, -0.001])
SIZE = (1280, 720)


@pytest.fixture(scope="module")
def cmu():
    with np.load(CMU) as data:
        every = slice(0, 4320, 12)  # 360 poses
        return data["test_joints_3d"][every].astype(np.float64), data["test_K"][0].astype(float)


@pytest.fixture(scope="module")
def lifter():
    return PoseLifter(device="cpu")


def project(joints_m: np.ndarray, k: np.ndarray, d: np.ndarray | None, model: str) -> np.ndarray:
    """Pixels of camera-frame points through ``k`` and a distortion model (None: pinhole)."""
    points = joints_m.reshape(-1, 1, 3)
    zero = np.zeros(3)
    if d is None:
        pixels, _ = cv2.projectPoints(points, zero, zero, k, np.zeros(5))
    elif model == "equidistant":
        pixels, _ = cv2.fisheye.projectPoints(points, zero, zero, k, d)
    else:
        pixels, _ = cv2.projectPoints(points, zero, zero, k, d)
    return pixels.reshape(joints_m.shape[:-1] + (2,))


def info(k, d, model, frame_id="cam", size=SIZE) -> CameraInfo:
    p = np.hstack([k, np.zeros((3, 1))])
    return CameraInfo(
        header=Header(frame_id=frame_id),
        width=size[0],
        height=size[1],
        distortion_model=model,
        d=list(d),
        k=k.reshape(-1).tolist(),
        p=p.reshape(-1).tolist(),
    )


def root_depths(pipeline, keypoints_px) -> np.ndarray:
    """Return the placed root (MidHip) depth of every pose, metres."""
    depths = []
    for keypoints in keypoints_px:
        out = pipeline.process_arrays(
            keypoints[None], np.ones((1, 15)), np.ones(1), Header(frame_id="cam"), SIZE
        )
        depths.append(out.skeletons.skeletons[0].keypoints[MIDHIP].position.z)
    return np.array(depths)


@pytest.mark.parametrize("model, d", [("plumb_bob", PLUMB_BOB), ("equidistant", EQUIDISTANT)])
def test_undistort_pixels_inverts_the_distortion_model(cmu, model, d):
    joints, k = cmu
    pinhole = project(joints, k, None, model)
    distorted = project(joints, k, d, model)
    assert np.abs(distorted - pinhole).max() > 5.0  # a distortion worth undoing
    assert np.abs(undistort_pixels(distorted, k, d, model) - pinhole).max() < 0.05


def test_undistort_pixels_refuses_what_it_cannot_undo(cmu):
    _, k = cmu
    with pytest.raises(CameraError, match="unsupported"):
        undistort_pixels(np.zeros((1, 2)), k, PLUMB_BOB, "fov")
    with pytest.raises(CameraError):
        undistort_pixels(np.zeros((1, 2)), k, [0.1, 0.2], "plumb_bob")


@pytest.mark.parametrize("model, d", [("plumb_bob", PLUMB_BOB), ("equidistant", EQUIDISTANT)])
def test_distorted_camera_places_people_as_a_pinhole_one(cmu, lifter, model, d):
    joints, k = cmu
    distorted, pinhole = project(joints, k, d, model), project(joints, k, None, model)
    reference = LiftingPipeline(Settings(), lifter)
    assert reference.set_camera_info(info(k, np.zeros(5), "plumb_bob"))
    handled = LiftingPipeline(Settings(), lifter)
    assert handled.set_camera_info(info(k, d, model))
    ignored = LiftingPipeline(Settings(), lifter)  # what the node did before: D unused
    assert ignored.set_camera_info(info(k, np.zeros(5), "plumb_bob"))
    expected = root_depths(reference, pinhole)
    off_handled = np.abs(root_depths(handled, distorted) / expected - 1)
    off_ignored = np.abs(root_depths(ignored, distorted) / expected - 1)
    truth = np.abs(expected / joints[:, MIDHIP, 2] - 1)
    print(
        f"{model}: placed root depth vs the pinhole camera's, median (p90): D used "
        f"{np.median(off_handled):.4f} ({np.percentile(off_handled, 90):.4f}), D ignored "
        f"{np.median(off_ignored):.4f} ({np.percentile(off_ignored, 90):.4f}); pinhole vs "
        f"ground truth (1.7 m prior) {np.median(truth):.3f}"
    )
    assert np.percentile(off_handled, 90) < 0.002
    assert np.percentile(off_ignored, 90) > 0.01 and off_ignored.max() > 0.05


def test_rectified_stream_uses_p(cmu, lifter):
    joints, k = cmu
    pixels = project(joints[:20], k, None, "plumb_bob")
    reference = LiftingPipeline(Settings(), lifter)
    assert reference.set_camera_info(info(k, np.zeros(5), "plumb_bob"))
    rectified = LiftingPipeline(Settings().replace(camera_info_rectified=True), lifter)
    camera = info(k, PLUMB_BOB, "plumb_bob")  # D describes the raw image: not applied
    camera.k = [500.0, 0, 100.0, 0, 500.0, 100.0, 0, 0, 1.0]  # K of the raw image: not used
    assert rectified.set_camera_info(camera)
    assert np.allclose(rectified.camera_matrix, k) and not rectified.camera.distorted
    assert np.allclose(root_depths(rectified, pixels), root_depths(reference, pixels))


def test_camera_info_of_another_frame_or_size_is_not_used(cmu, lifter):
    joints, k = cmu
    pixels = project(joints[:1], k, np.zeros(5), "plumb_bob")
    for other in (info(k, [], "", frame_id="other_cam"), info(k, [], "", size=(640, 360))):
        pipeline = LiftingPipeline(Settings(), lifter)
        assert pipeline.set_camera_info(other)
        out = pipeline.process_arrays(
            pixels, np.ones((1, 15)), np.ones(1), Header(frame_id="cam"), SIZE
        )
        assert out.skeletons.skeletons[0].scale_source == 0  # SCALE_NORMALIZED, not metric
        assert pipeline.counters.camera_info_mismatch == 1
    unknown = LiftingPipeline(Settings(), lifter)  # empty frame and 0x0 size match anything
    assert unknown.set_camera_info(info(k, [], "", frame_id="", size=(0, 0)))
    out = unknown.process_arrays(
        pixels, np.ones((1, 15)), np.ones(1), Header(frame_id="cam"), SIZE
    )
    assert (
        out.skeletons.skeletons[0].scale_source == 1 and unknown.counters.camera_info_mismatch == 0
    )
