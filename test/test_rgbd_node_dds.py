"""The installed node places people from an aligned depth image, over real DDS, in both modes.

Keypoints mode: the RGB-D sample stream (synthetic depth bodies of CMU test poses, raw 16UC1).
Image mode: a real photo (compressed JPEG) with a compressedDepth image of a wall at a known
distance behind the detected people: they come out SCALE_DEPTH at that distance.
"""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Time
from rclpy.qos import ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header

from pose_lifter.runtime.depth_image import compress_depth_png
from pose_lifter.runtime.joints import ROOT
from pose_lifter.tools.sample_bag import rgbd_sample_messages
from pose_lifter_msgs.msg import Skeleton3D, Skeleton3DArray
from ros_helpers import CONFIG, REPO, RELIABLE_QOS, ros_process
from test_node_dds import Io

CMU = REPO / "training" / "data" / "cmu_mocap_15j.npz"
PHOTO = REPO / "pose_lifter" / "sample_data" / "images" / "vtest_frame600.jpg"
PHOTO_SIZE = (640, 480)  # width, height of the photo


def root_depths(array: Skeleton3DArray) -> list[float]:
    return [s.keypoints[ROOT].position.z for s in array.skeletons]


def test_keypoints_and_raw_depth_give_scale_depth(ros):
    with np.load(CMU) as data:
        poses = data["test_joints_3d"][::12].astype(np.float64)
    messages, truth = rgbd_sample_messages(poses, 6, seed=7, compressed=False)
    depth_topic = "/rgbd/camera/aligned_depth_to_color/image_raw"
    args = ["--params-file", str(CONFIG), "-r", "__ns:=/rgbd", "-p", "depth.enabled:=true"]
    with ros_process("pose_lifter_node", args + ["-r", f"depth:={depth_topic}"]) as node:
        io = Io(ros, "/rgbd")
        depth_pub = io.node.create_publisher(Image, depth_topic, RELIABLE_QOS)
        io.connect()
        ros.wait_for_subscribers(depth_pub, 1, 20.0)

        def depth_reliable():  # qos.depth_reliability auto: follows our reliable publisher
            infos = io.node.get_subscriptions_info_by_topic(depth_topic)
            return [i.qos_profile.reliability for i in infos] == [ReliabilityPolicy.RELIABLE]

        assert ros.spin_until(depth_reliable, 10.0), node.log()
        by_topic = {}
        for topic, msg, _ in messages[:4]:
            by_topic["depth" if "depth" in topic else topic] = msg

        def placed_from_depth():  # until camera_info and depth subscriptions matched too
            io.camera_info.publish(by_topic["/camera/color/camera_info"])
            depth_pub.publish(by_topic["depth"])
            ros.spin_until(lambda: False, 0.05)
            io.keypoints.publish(by_topic["/keypoints_2d"])
            ros.spin_until(lambda: False, 0.1)
            return any(s.scale_source == 2 for a in io.skeletons for s in a.skeletons)

        assert ros.spin_until(placed_from_depth, 20.0), node.log()
        io.skeletons.clear()
        for topic, msg, _ in messages:
            if topic.endswith("camera_info"):
                io.camera_info.publish(msg)
            elif "depth" in topic:
                depth_pub.publish(msg)
                ros.spin_until(lambda: False, 0.05)  # the depth image first, as a camera has it
            elif topic == "/keypoints_2d":
                io.keypoints.publish(msg)
                ros.spin_until(lambda: False, 0.05)
        ros.spin_until_count(io.skeletons, 6, 20.0)
        log = node.log()
    assert len(io.skeletons) == 6, log
    sources = [s.scale_source for a in io.skeletons for s in a.skeletons]
    # a person with too few consistent depth joints (close, half out of the image) falls back
    assert set(sources) <= {Skeleton3D.SCALE_DEPTH, Skeleton3D.SCALE_ASSUMED_HEIGHT}
    assert sources.count(Skeleton3D.SCALE_DEPTH) >= 0.8 * len(sources) > 0, (sources, log)
    errors = []
    for array, frame_truth in zip(io.skeletons, truth):
        for z in root_depths(array):  # match each output person to the nearest true root
            true_z = frame_truth[np.isfinite(frame_truth[:, ROOT, 2]), ROOT, 2]
            errors.append(np.min(np.abs(true_z - z) / true_z))
    print(f"\nRGB-D over DDS: root depth error median {np.median(errors):.4f} ({len(errors)})")
    assert np.median(errors) < 0.015  # measured 0.9% (10 persons, 2026-12-04 default)


def test_image_mode_with_compressed_depth_places_the_detected_people_at_the_wall(ros):
    namespace = "/rgbd_image"
    args = [
        "--params-file",
        str(CONFIG),
        "-r",
        f"__ns:={namespace}",
        "-p",
        "input_mode:=image",
        "-p",
        "image.transport:=compressed",
        "-p",
        "depth.enabled:=true",
        "-p",
        "depth.transport:=compressedDepth",
        "-p",
        "depth.max_m:=40.0",  # the photo's people stand 9-16 m away
    ]
    frame = "camera_color_optical_frame"
    width, height = PHOTO_SIZE
    k = [600.0, 0.0, (width - 1) / 2, 0.0, 600.0, (height - 1) / 2, 0.0, 0.0, 1.0]
    info = CameraInfo(header=Header(frame_id=frame), width=width, height=height, k=k)
    jpeg = PHOTO.read_bytes()
    with ros_process("pose_lifter_node", args) as node:
        node_ros = ros.node()
        image_pub = node_ros.create_publisher(
            CompressedImage, f"{namespace}/image/compressed", RELIABLE_QOS
        )
        depth_pub = node_ros.create_publisher(
            CompressedImage, f"{namespace}/depth/compressedDepth", RELIABLE_QOS
        )
        info_pub = node_ros.create_publisher(CameraInfo, f"{namespace}/camera_info", RELIABLE_QOS)
        sub, skeletons = ros.collector(Skeleton3DArray, f"{namespace}/skeletons_3d", node_ros)
        for publisher in (image_pub, depth_pub, info_pub):
            ros.wait_for_subscribers(publisher, 1, 30.0)
        ros.wait_for_publishers(sub, 1, 30.0)

        def lifted(sec: int, wall_m: float | None) -> Skeleton3DArray | None:
            header = Header(stamp=Time(sec=sec), frame_id=frame)
            info.header = header
            info_pub.publish(info)
            if wall_m is not None:
                fmt, data = compress_depth_png(np.full((height, width), wall_m, np.float32))
                depth_pub.publish(CompressedImage(header=header, format=fmt, data=data))
            ros.spin_until(lambda: False, 0.1)
            image_pub.publish(CompressedImage(header=header, format="jpeg", data=jpeg))
            found = lambda: [a for a in skeletons if a.header.stamp.sec == sec]  # noqa: E731
            ros.spin_until(lambda: bool(found()), 10.0)
            return found()[0] if found() else None

        prior = None
        for sec in range(1, 20):  # until the node's subscriptions (camera_info too) matched ours
            prior = lifted(sec, None)
            if prior is not None and any(s.scale_source for s in prior.skeletons):
                break
        assert prior is not None and prior.skeletons, node.log()
        assert {s.scale_source for s in prior.skeletons} == {Skeleton3D.SCALE_ASSUMED_HEIGHT}
        wall_m = 1.15 * float(
            np.median(root_depths(prior))
        )  # a plausible distance, not the prior's
        placed = None
        for sec in range(100, 110):  # the depth subscription may match a little later
            placed = lifted(sec, wall_m)
            if placed is not None and any(
                s.scale_source == Skeleton3D.SCALE_DEPTH for s in placed.skeletons
            ):
                break
        log = node.log()
    assert placed is not None, log
    from_depth = [s for s in placed.skeletons if s.scale_source == Skeleton3D.SCALE_DEPTH]
    assert from_depth, (placed, log)
    for skeleton in from_depth:  # a flat wall: the root is a little behind it (body surface)
        assert wall_m < skeleton.keypoints[ROOT].position.z < wall_m + 0.3
