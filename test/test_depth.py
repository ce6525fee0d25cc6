"""RGB-D: depth decoding, pairing by stamp, placement from depth, and replay of a depth bag."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest
from builtin_interfaces.msg import Time
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header

from pose_lifter.ros.conversions import depth_image_msg
from pose_lifter.ros.parameters import Settings
from pose_lifter.ros.processing import MessageProcessor
from pose_lifter.runtime.depth_image import (
    compress_depth_png,
    depth_from_compressed,
    depth_from_image_fields,
)
from pose_lifter.runtime.depth_placement import place_with_depth
from pose_lifter.runtime.detection import ImageDecodeError
from pose_lifter.runtime.joints import ROOT
from pose_lifter.runtime.lifter import PoseLifter
from pose_lifter.runtime.pairing import StampBuffer
from pose_lifter.tools.bag_io import write_bag
from pose_lifter.tools.replay import replay_offline
from pose_lifter.tools.sample_bag import RGBD_SAMPLE_BAG, pinhole_camera_info, rgbd_sample_messages
from pose_lifter.tools.synthetic_rgbd import CAMERA_MATRIX, HEIGHT, WIDTH, sample_scenes
from pose_lifter_msgs.msg import Skeleton3D

from ros_helpers import REPO

CMU = REPO / "training" / "data" / "cmu_mocap_15j.npz"
FRAME = "camera_color_optical_frame"


@pytest.fixture(scope="module")
def poses():
    with np.load(CMU) as data:
        return data["test_joints_3d"][::12].astype(np.float64)


@pytest.fixture(scope="module")
def lifter():
    return PoseLifter(device="cpu")


def header(sec: int, frame_id: str = FRAME) -> Header:
    return Header(stamp=Time(sec=sec), frame_id=frame_id)


def camera_info() -> CameraInfo:
    return pinhole_camera_info(header(0), CAMERA_MATRIX, WIDTH, HEIGHT)


# -- decoding -------------------------------------------------------------------------------
def test_16uc1_is_millimetres_with_zero_as_hole_in_either_byte_order_and_padded_rows():
    mm = np.array([[0, 1000, 2500], [65535, 1, 800]], dtype=np.uint16)
    for order, big in (("<u2", False), (">u2", True)):
        rows = np.zeros((2, 8), np.uint8)  # step 8 > 3 * 2: padded rows
        rows[:, :6] = mm.astype(order).view(np.uint8).reshape(2, 6)
        depth = depth_from_image_fields(2, 3, "16UC1", 8, rows.tobytes(), big)
        assert np.isnan(depth[0, 0]) and depth[0, 1] == pytest.approx(1.0)
        assert depth[1, 0] == pytest.approx(65.535) and depth[1, 2] == pytest.approx(0.8)


def test_32fc1_is_metres_with_nan_inf_and_zero_as_holes():
    metres = np.array([[1.5, np.nan, np.inf, 0.0, -1.0, 4.25]], np.float32)
    depth = depth_from_image_fields(1, 6, "32FC1", 24, metres.tobytes())
    assert depth[0, 0] == 1.5 and depth[0, 5] == 4.25
    assert np.isnan(depth[0, 1:5]).all()


@pytest.mark.parametrize(
    "fields, match",
    [
        ((2, 2, "rgb8", 6, bytes(12)), "unsupported depth encoding"),
        ((2, 2, "16UC1", 4, bytes(7)), "need 8"),
        ((2, 2, "16UC1", 3, bytes(8)), "smaller than a row"),
        ((0, 2, "16UC1", 4, b""), "zero size"),
    ],
)
def test_malformed_depth_images_raise_a_clear_error(fields, match):
    with pytest.raises(ImageDecodeError, match=match):
        depth_from_image_fields(*fields)


def test_compressed_depth_16uc1_round_trip_and_32fc1_inverse_depth():
    rng = np.random.default_rng(0)
    metres = rng.uniform(0.5, 8.0, size=(48, 64)).astype(np.float32)
    metres[3, 4] = np.nan
    fmt, data = compress_depth_png(metres)
    decoded = depth_from_compressed(fmt, data)
    assert np.isnan(decoded[3, 4])
    assert np.nanmax(np.abs(decoded - metres)) <= 0.0005 + 1e-6  # mm rounding
    # 32FC1: the plugin stores quant_a / z + quant_b as 16-bit (0 = no value)
    quant_a, quant_b = 100.0, 10.0
    stored = np.round(quant_a / np.nan_to_num(metres, nan=np.inf) + quant_b)
    stored[3, 4] = 0
    ok, png = cv2.imencode(".png", stored.astype(np.uint16))
    payload = struct.pack("<iff", 0, quant_a, quant_b) + png.tobytes()
    inverse = depth_from_compressed("32FC1; compressedDepth png", payload)
    assert np.isnan(inverse[3, 4])
    assert np.nanmax(np.abs(inverse - metres) / metres) < 0.05  # quantised inverse depth


@pytest.mark.parametrize(
    "fmt, data, match",
    [
        ("jpeg", b"\xff\xd8", "not a compressedDepth"),
        ("16UC1; compressedDepth rvl", bytes(20), "RVL"),
        ("16UC1; compressedDepth png", bytes(8), "no payload"),
        ("16UC1; compressedDepth png", bytes(12) + b"garbage", "not a 16-bit"),
    ],
)
def test_malformed_compressed_depth_raises(fmt, data, match):
    with pytest.raises(ImageDecodeError, match=match):
        depth_from_compressed(fmt, data)


# -- pairing --------------------------------------------------------------------------------
def test_stamp_buffer_pairs_the_nearest_within_the_slop_and_keeps_the_newest():
    buffer = StampBuffer(3)
    for stamp in (100, 200, 300, 400):  # 100 leaves: bounded
        buffer.add(stamp, f"d{stamp}")
    assert len(buffer) == 3
    assert buffer.nearest(210, 20) == "d200" and buffer.nearest(260, 50) == "d300"
    assert buffer.nearest(250, 49) is None and buffer.nearest(100, 50) is None


# -- placement ------------------------------------------------------------------------------
def lifted_scene(lifter, scene):
    result = lifter.lift(scene.keypoints_2d, scene.confidence)
    return result, scene.confidence > 0


def test_depth_places_real_poses_within_a_few_percent_and_holes_fall_back(lifter, poses):
    errors = []
    for scene in sample_scenes(poses, 30, seed=3, second_person=0.0):
        result, present = lifted_scene(lifter, scene)
        args = (result.joints_3d, result.root_px, result.scale_px, scene.keypoints_2d, present)
        placement = place_with_depth(*args, scene.depth_m, CAMERA_MATRIX)
        truth = scene.joints_3d[0, ROOT, 2]
        assert placement.placed[0] and placement.consistent[0].sum() >= 4
        errors.append(abs(placement.root_depth_m[0] - truth) / truth)
        holes = np.full_like(scene.depth_m, np.nan)  # a sensor that sees nothing
        empty = place_with_depth(*args, holes, CAMERA_MATRIX)
        assert not empty.placed[0] and np.isnan(empty.joints_m[0]).all()
    # measured (2026-12-04 default): median 0.5%, p80 1.4%
    assert np.median(errors) < 0.01 and np.percentile(errors, 80) < 0.025


def test_an_occluder_in_front_is_rejected_not_averaged_in(lifter, poses):
    """A second person 0.8-1.5 m in front hides about half of the first one."""
    errors, naive = [], []
    for scene in sample_scenes(poses, 30, seed=4, occlude=True):
        result, present = lifted_scene(lifter, scene)
        args = (result.joints_3d, result.root_px, result.scale_px, scene.keypoints_2d, present)
        placement = place_with_depth(*args, scene.depth_m, CAMERA_MATRIX)
        truth = scene.joints_3d[0, ROOT, 2]
        if placement.placed[0]:
            errors.append(abs(placement.root_depth_m[0] - truth) / truth)
        # what one pixel at the root would say
        u, v = np.rint(scene.keypoints_2d[0, ROOT]).astype(int)
        naive.append(abs(np.nan_to_num(scene.depth_m[v, u], nan=0.0) - truth) / truth)
    assert len(errors) >= 20
    # measured (2026-12-04 default): median 0.9% (28 of 30 placed)
    assert np.median(errors) < 0.015 and np.median(errors) < np.median(naive)


# -- the per-message step -------------------------------------------------------------------
def test_the_step_pairs_by_stamp_counts_unpaired_mismatched_and_bad_depth(lifter, poses):
    step = MessageProcessor(Settings().replace(depth_enabled=True, depth_slop_s=0.02), lifter)
    step.set_camera_info(camera_info())
    messages, _ = rgbd_sample_messages(poses, 3, seed=5, compressed=False)
    keypoints = [m for t, m, _ in messages if t == "/keypoints_2d"]
    depths = [m for t, m, _ in messages if "depth" in t]
    assert step.set_depth(depths[0])
    out = step.process_keypoints(keypoints[0]).output
    assert {s.scale_source for s in out.skeletons.skeletons} == {Skeleton3D.SCALE_DEPTH}
    # joints whose depth disagreed keep half their 2D confidence; the others keep it all
    confidences = {k.confidence for s in out.skeletons.skeletons for k in s.keypoints}
    as_sent = {float(np.float32(c)) for c in (0.0, 0.45, 0.9)}  # float32 fields, as on the wire
    assert confidences <= as_sent and float(np.float32(0.9)) in confidences
    assert step.counters.persons_depth == len(out.skeletons.skeletons)
    # no depth within the slop: the stature prior, counted
    out = step.process_keypoints(keypoints[1]).output
    assert {s.scale_source for s in out.skeletons.skeletons} == {Skeleton3D.SCALE_ASSUMED_HEIGHT}
    assert step.counters.depth_unpaired == 1
    # another camera's depth image at the right stamp: not used, counted
    other = depth_image_msg(header(0, "other_frame"), np.full((HEIGHT, WIDTH), 2.0))
    other.header.stamp = keypoints[2].header.stamp
    step.set_depth(other)
    out = step.process_keypoints(keypoints[2]).output
    assert {s.scale_source for s in out.skeletons.skeletons} == {Skeleton3D.SCALE_ASSUMED_HEIGHT}
    assert step.counters.depth_mismatch == 1
    # undecodable depth: counted, nothing kept
    broken = Image(header=header(9), height=4, width=4, encoding="16UC1", step=8, data=b"x")
    assert not step.set_depth(broken)
    assert not step.set_depth(CompressedImage(header=header(9), format="png", data=b"x"))
    assert step.counters.dropped["bad_depth_image"] == 2


def test_replay_of_the_shipped_rgbd_bag_places_everyone_from_depth(tmp_path):
    result = replay_offline(RGBD_SAMPLE_BAG, report_dir=tmp_path, html=True)
    summary = result.summary
    assert summary["depth_topics"] == ["/camera/aligned_depth_to_color/image_raw/compressedDepth"]
    assert summary["persons_by_scale_source"]["depth"] == summary["persons_3d"] > 0
    truth = summary["ground_truth"]
    assert truth["root_depth_error_pct"]["p50"] < 3.0 and truth["abs_mpjpe_mm"] < 150
    assert "(depth)" in (tmp_path / "report.html").read_text()


def test_replay_takes_the_depth_topic_from_topics_and_beats_the_prior(tmp_path, poses):
    messages, _ = rgbd_sample_messages(poses, 12, seed=6, compressed=False)
    bag = write_bag(tmp_path / "rgbd", messages, "sqlite3")
    with_depth = replay_offline(
        bag,
        topics=[
            "/keypoints_2d",
            "/camera/color/camera_info",
            "/camera/aligned_depth_to_color/image_raw",
        ],
    ).summary
    without = replay_offline(bag, topics=["/keypoints_2d", "/camera/color/camera_info"]).summary
    assert without["persons_by_scale_source"]["depth"] == 0
    assert with_depth["persons_by_scale_source"]["depth"] > 0
    assert with_depth["counters"]["depth_unpaired"] == 0
    assert 2 * with_depth["ground_truth"]["abs_mpjpe_mm"] < without["ground_truth"]["abs_mpjpe_mm"]


def test_a_joint_behind_the_persons_own_arm_is_not_sampled():
    """The right wrist held in front of the pelvis hides MidHip; held behind, it does not."""
    from pose_lifter.runtime.depth_placement import self_occluded
    from pose_lifter.runtime.joints import MIDHIP, RELBOW, RWRIST

    keypoints = np.zeros((1, 15, 2))
    keypoints[0, :, 0] = np.linspace(100, 240, 15)  # joints spread out, apart from each other
    keypoints[0, :, 1] = 100.0
    keypoints[0, RELBOW] = (170.0, 40.0)
    keypoints[0, RWRIST] = keypoints[0, MIDHIP] + (0.0, 5.0)  # the forearm ends over MidHip
    present = np.ones((1, 15), bool)
    scale = np.array([60.0])
    depth = np.zeros((1, 15))
    depth[0, [RELBOW, RWRIST]] = -0.6  # the arm nearer the camera than the body
    assert self_occluded(keypoints, present, scale, depth, 0.25)[0, MIDHIP]
    depth[0, [RELBOW, RWRIST]] = +0.6  # behind the body: the pelvis is what the sensor sees
    hidden = self_occluded(keypoints, present, scale, depth, 0.25)
    assert not hidden[0, MIDHIP] and hidden[0, RWRIST]  # now the wrist is the hidden one


def test_offline_replay_of_colour_and_depth_images_places_the_detected_people(tmp_path):
    """Image mode in replay: a real photo (JPEG), a compressedDepth wall behind it, CameraInfo."""
    from pose_lifter.runtime.depth_image import compress_depth_png
    from pose_lifter.tools.sample_bag import FIRST_STAMP_NS

    photo = (REPO / "pose_lifter" / "sample_data" / "images" / "vtest_frame600.jpg").read_bytes()
    k = np.array([[600.0, 0.0, 319.5], [0.0, 600.0, 239.5], [0.0, 0.0, 1.0]])
    fmt, data = compress_depth_png(np.full((480, 640), 12.0, np.float32))  # people at 9-16 m
    messages = []
    for i in range(3):
        stamp = FIRST_STAMP_NS + i * 100_000_000
        h = Header(stamp=Time(sec=stamp // 10**9, nanosec=stamp % 10**9), frame_id=FRAME)
        messages += [
            ("/camera/color/camera_info", pinhole_camera_info(h, k, 640, 480), stamp + 1),
            (
                "/camera/depth/compressedDepth",
                CompressedImage(header=h, format=fmt, data=data),
                stamp + 2,
            ),
            (
                "/camera/color/image_raw/compressed",
                CompressedImage(header=h, format="jpeg", data=photo),
                stamp + 3,
            ),
        ]
    bag = write_bag(tmp_path / "photo_rgbd", messages, "mcap")
    settings = Settings().replace(input_mode="image", depth_max_m=40.0)
    result = replay_offline(bag, settings=settings)
    summary = result.summary
    assert summary["depth_topics"] == ["/camera/depth/compressedDepth"]
    assert summary["input_topics"] == ["/camera/color/image_raw/compressed"]
    assert summary["persons_by_scale_source"]["depth"] >= 3  # at least one person per frame
    assert summary["counters"]["depth_unpaired"] == 0
    # every person the wall's depth placed stands at the wall: 12 m (+ the joints lie a few cm
    # behind the skin the sensor sees)
    roots = [
        record.joints_3d[person, ROOT, 2]
        for record in result.records
        for person, source in enumerate(record.scale_sources)
        if source == Skeleton3D.SCALE_DEPTH
    ]
    print(f"\nroot depths placed from the 12 m wall: {sorted(round(float(z), 3) for z in roots)}")
    assert len(roots) >= 3 and all(12.05 <= z <= 12.35 for z in roots), roots  # 12.1-12.29
