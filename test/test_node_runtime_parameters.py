"""Every parameter a running node accepts works when it changes, over DDS; the rest are refused.

Each parameter not marked "applied on configure" is set on a running, active node through its
``set_parameters`` service (real DDS) and its effect is checked on what the node publishes next
(keypoints mode, image mode, RGB-D). Every configure-time parameter is refused while the node
is configured, with the reason. A test checks that the three tables below plus the
configure-time list cover every parameter, so a new one cannot slip in untested.
"""

from __future__ import annotations

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticStatus
from rcl_interfaces.srv import SetParameters
from rclpy.parameter import Parameter
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header

from pose_lifter.ros.parameters import FIELDS, applied_on_configure
from pose_lifter.runtime.joints import ROOT
from pose_lifter.tools.sample_bag import openpose_sample_frames, openpose_sample_msg
from pose_lifter_msgs.msg import Skeleton2DArray
from ros_helpers import REPO, RELIABLE_QOS, call_service
from test_node_dds import Io

FRAME = "cam"
K = [1000.0, 0.0, 640.0, 0.0, 1000.0, 360.0, 0.0, 0.0, 1.0]
PHOTO = REPO / "pose_lifter" / "sample_data" / "images" / "vtest_frame600.jpg"
KEYPOINT_PARAMETERS = (
    "min_joint_confidence",
    "min_joints",
    "max_persons",
    "subject_height_m",
    "default_distance_m",
    "camera_info_rectified",
    "tracking.max_distance",
    "tracking.max_missed",
    "smoothing.enabled",
    "smoothing.min_cutoff_hz",
    "smoothing.beta",
    "smoothing.d_cutoff_hz",
    "markers.joint_diameter_m",
    "markers.bone_width_m",
    "markers.text_height_m",
    "markers.lifetime_s",
    "always_process",
    "diagnostics_warn_drop_rate",
    "diagnostics_error_after_s",
)
IMAGE_PARAMETERS = (
    "image.publish_debug",
    "detector.input_size",
    "detector.person_threshold",
    "detector.joint_threshold",
    "detector.max_persons",
)
TEMPORAL_PARAMETERS = (
    "temporal.enabled",
    "temporal.pose_acceleration",
    "temporal.root_acceleration",
    "temporal.root_depth_std",
    "temporal.max_gap_s",
    "temporal.bone_lengths",
    "temporal.history_max_age_s",
    "uncertainty_coverage",
)
DEPTH_PARAMETERS = (
    "depth.slop_s",
    "depth.window_px",
    "depth.min_m",
    "depth.max_m",
    "depth.min_joints",
    "depth.noise_at_1m_m",
    "depth.refine_joints",
)


def test_every_parameter_is_tested_at_runtime_or_applied_on_configure():
    runtime = {name for name in FIELDS if not applied_on_configure(name)}
    tested = set(KEYPOINT_PARAMETERS + IMAGE_PARAMETERS + DEPTH_PARAMETERS + TEMPORAL_PARAMETERS)
    assert runtime == tested
    assert {"target_frame", "tf_timeout_s", "tf_queue_size", "publish_tf"} <= set(FIELDS) - runtime


class Running:
    """An active in-process node, its inputs and outputs, and parameter calls over DDS."""

    def __init__(self, ros, lifter_node, namespace: str, *ros_args: str):
        self.ros, self.namespace = ros, namespace
        self.node = lifter_node(namespace, "-p", "diagnostics_period_s:=0.2", *ros_args)
        self.io = Io(ros, namespace)
        self.sec = 2000

    def set(self, name: str, value) -> None:
        result = self.try_set(name, value)
        assert result.successful, (name, value, result.reason)

    def try_set(self, name: str, value):
        request = SetParameters.Request(
            parameters=[Parameter(name, value=value).to_parameter_msg()]
        )
        service = f"{self.namespace}/pose_lifter/set_parameters"
        return call_service(self.ros, self.io.node, SetParameters, service, request).results[0]

    def stamp(self, step_s: float = 1.0) -> Header:
        self.sec += step_s
        sec = int(self.sec)
        return Header(stamp=Time(sec=sec, nanosec=round((self.sec - sec) * 1e9)), frame_id=FRAME)

    def keypoints(self, people: np.ndarray, step_s: float = 1.0) -> Skeleton2DArray:
        return openpose_sample_msg(self.stamp(step_s), people)

    def lift(self, msg, publisher=None, timeout: float = 10.0):
        """Publish ``msg``; return the (skeletons_3d, markers) with its stamp (None if none)."""
        (publisher or self.io.keypoints).publish(msg)

        def mine(messages, stamp_of):
            return next((m for m in messages if stamp_of(m) == msg.header.stamp), None)

        def found():
            skeletons = mine(self.io.skeletons, lambda m: m.header.stamp)
            markers = mine(self.io.markers, lambda m: m.markers[0].header.stamp)
            return skeletons, markers

        self.ros.spin_until(lambda: None not in found(), timeout)
        return found()

    def status(self, after: int) -> DiagnosticStatus:
        """Return the node's first status published after ``after`` diagnostics arrays."""
        name = f"{self.namespace}/pose_lifter: lifting"

        def first():
            for array in self.io.diagnostics[after:]:
                for status in array.status:
                    if status.name == name:
                        return status
            return None

        assert self.ros.spin_until(lambda: first() is not None, 5.0)
        return first()


def test_temporal_parameters_change_a_running_node(ros, lifter_node):
    node = Running(ros, lifter_node, "/rt_tm", "-p", "qos.input_reliability:=reliable")
    node.io.connect()
    node.io.camera_info.publish(
        CameraInfo(header=Header(frame_id=FRAME), width=1280, height=720, k=K)
    )
    assert node.ros.spin_until(lambda: node.node.processor.pipeline.camera is not None, 5.0)
    one = openpose_sample_frames()[0][:1]

    def walk(frames: int, step_px: float = 8.0, step_s: float = 0.1, person=one):
        """Publish a person moving right; return the last skeletons."""
        for frame in range(frames):
            moved = person.copy()
            moved[0, :, 0] += step_px * frame
            out, _ = node.lift(node.keypoints(moved, step_s))
        return out

    def velocity(skeletons) -> np.ndarray:
        keypoints = skeletons.skeletons[0].keypoints
        return np.array([(k.velocity.x, k.velocity.y, k.velocity.z) for k in keypoints])

    # temporal.enabled: velocities of a walking person; off: zero
    assert np.abs(velocity(walk(6))[ROOT, 0]) > 0.1
    node.set("temporal.enabled", False)
    assert (velocity(walk(3)) == 0).all()
    node.set("temporal.enabled", True)

    # temporal.max_gap_s: after a gap longer than it, a track's filter starts afresh
    walk(4)
    gap, _ = node.lift(node.keypoints(one, step_s=0.8))
    node.set("temporal.max_gap_s", 0.5)
    walk(4)
    restarted, _ = node.lift(node.keypoints(one, step_s=0.8))
    assert np.abs(velocity(gap)).max() > 0 and (velocity(restarted) == 0).all()
    node.set("temporal.max_gap_s", 1.0)

    # temporal.pose_acceleration: a sudden arm swing moves a stiff filter less than a loose one
    swung = one.copy()
    swung[0, 3:5, 1] -= 20.0  # the right elbow and wrist up (no reset: within 6 sigma)

    def swing_reach() -> float:
        still = walk(20, step_px=0.0)  # the filter settled
        swing, _ = node.lift(node.keypoints(swung, 0.1))
        relative = [joints(a)[0, 4] - joints(a)[0, ROOT] for a in (swing, still)]
        return float(np.abs(relative[0] - relative[1]).max())  # the wrist, from the root

    node.set("temporal.pose_acceleration", 0.001)
    stiff = swing_reach()
    node.set("temporal.pose_acceleration", 10000.0)
    loose = swing_reach()
    assert stiff < 0.3 * loose, (stiff, loose)
    node.set("temporal.pose_acceleration", 10.0)

    # temporal.root_acceleration and temporal.root_depth_std: a sideways step of the whole body
    def step_reach() -> float:
        still = walk(20, step_px=0.0)
        moved = one.copy()
        moved[0, :, 0] += 10.0  # within 6 sigma of the root: no reset
        stepped, _ = node.lift(node.keypoints(moved, 0.1))
        return float(abs(root_x(stepped) - root_x(still)))

    node.set("temporal.root_acceleration", 0.001)
    slow = step_reach()
    node.set("temporal.root_acceleration", 10000.0)
    fast = step_reach()
    assert slow < 0.3 * fast, (slow, fast)
    node.set("temporal.root_acceleration", 10.0)

    def depth_reach() -> float:  # the person 20% bigger in the image: nearer
        still = walk(20, step_px=0.0)
        bigger = one.copy()
        centre = bigger[0, ROOT, :2].copy()
        bigger[0, :, :2] = centre + 1.2 * (bigger[0, :, :2] - centre)
        near, _ = node.lift(node.keypoints(bigger, 0.1))
        return float(abs(root_z(near)[0] - root_z(still)[0]))

    node.set("temporal.root_depth_std", 0.0001)
    trusted = depth_reach()
    node.set("temporal.root_depth_std", 1.0)
    doubted = depth_reach()
    assert doubted < 0.3 * trusted, (doubted, trusted)
    node.set("temporal.root_depth_std", 0.05)

    # temporal.bone_lengths: a frame with longer forearms keeps the track's lengths
    stretched = one.copy()
    stretched[0, 4, :2] += 0.6 * (stretched[0, 4, :2] - stretched[0, 3, :2])  # right wrist

    def forearm_change() -> float:
        before = joints(walk(6, step_px=0.0))[0]
        after = joints(node.lift(node.keypoints(stretched, 0.1))[0])[0]
        return float(
            abs(np.linalg.norm(after[4] - after[3]) - np.linalg.norm(before[4] - before[3]))
        )

    kept = forearm_change()
    node.set("temporal.bone_lengths", False)
    free = forearm_change()
    assert kept < 0.5 * free, (kept, free)
    node.set("temporal.bone_lengths", True)

    # temporal.history_max_age_s: 0 = no past for the lifter: a frame lifts as after any past
    node.set("temporal.enabled", False)  # the lift itself
    node.set("temporal.history_max_age_s", 0.0)
    after_walk = joints(walk(6))[0]
    after_other = joints(walk(6, step_px=-8.0, person=walk_end(one, 80.0)))[0]
    node.set("temporal.history_max_age_s", 1.0)
    with_past_walk = joints(walk(6))[0]
    with_past_other = joints(walk(6, step_px=-8.0, person=walk_end(one, 80.0)))[0]
    assert np.abs(after_walk - after_other).max() < 1e-6  # the same last frame, no past
    assert np.abs(with_past_walk - with_past_other).max() > 1e-4  # the past counts
    node.set("temporal.enabled", True)

    # uncertainty_coverage: the radius of 50% against 90% (the model's calibrated scales)
    node.set("temporal.history_max_age_s", 0.0)  # the same lift each time: the same sigmas
    at_90 = radii(walk(2))
    node.set("uncertainty_coverage", 0.5)
    at_50 = radii(walk(2))
    assert (at_90 > 0).all()
    step = node.node.processor.pipeline.step
    np.testing.assert_allclose(at_50 / at_90, step.radius_scale(0.5) / step.radius_scale(0.9))
    node.set("uncertainty_coverage", 0.9)
    node.set("temporal.history_max_age_s", 1.0)


def walk_end(person: np.ndarray, shift_px: float) -> np.ndarray:
    """Return ``person`` shifted right by ``shift_px`` (a walk that ends where another begins)."""
    moved = person.copy()
    moved[0, :, 0] += shift_px
    return moved


def root_x(skeletons) -> float:
    return skeletons.skeletons[0].keypoints[ROOT].position.x


def radii(skeletons) -> np.ndarray:
    return np.array([k.uncertainty_radius for k in skeletons.skeletons[0].keypoints])


def root_z(skeletons) -> list[float]:
    return [s.keypoints[ROOT].position.z for s in skeletons.skeletons]


def joints(skeletons) -> np.ndarray:
    return np.array(
        [
            [(k.position.x, k.position.y, k.position.z) for k in s.keypoints]
            for s in skeletons.skeletons
        ]
    )


def level_of(value) -> int:
    """Return a DiagnosticStatus level (rclpy gives bytes), or a status's, as an int."""
    value = getattr(value, "level", value)
    return value[0] if isinstance(value, bytes) else int(value)


def test_keypoints_mode_parameters_change_a_running_node(ros, lifter_node):
    node = Running(
        ros,
        lifter_node,
        "/rt_kp",
        "-p",
        "qos.input_reliability:=reliable",
        "-p",
        "temporal.enabled:=false",  # each frame as lifted: the effects below are exact
    )
    node.io.connect()
    people = openpose_sample_frames()[0]  # two people, pixels of a 1280x720 image
    one = people[:1]

    # default_distance_m: before any CameraInfo, people are scaled to stand that far away
    before, _ = node.lift(node.keypoints(one))
    node.set("default_distance_m", 7.5)
    after, _ = node.lift(node.keypoints(one))
    assert root_z(after) == pytest.approx([7.5]) and root_z(before) != pytest.approx([7.5])

    # subject_height_m: with a CameraInfo the distance scales with the assumed stature
    node.io.camera_info.publish(
        CameraInfo(header=Header(frame_id=FRAME), width=1280, height=720, k=K)
    )
    assert node.ros.spin_until(lambda: node.node.processor.pipeline.camera is not None, 5.0)
    tall, _ = node.lift(node.keypoints(one))
    node.set("subject_height_m", 0.85)
    short, _ = node.lift(node.keypoints(one))
    assert root_z(short)[0] == pytest.approx(root_z(tall)[0] / 2, rel=1e-6)
    node.set("subject_height_m", 1.7)

    # camera_info_rectified: the next CameraInfo is read from P (here twice K's focal length)
    p = [2000.0, 0.0, 640.0, 0.0, 0.0, 2000.0, 360.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    node.set("camera_info_rectified", True)
    node.io.camera_info.publish(
        CameraInfo(header=Header(frame_id=FRAME), width=1280, height=720, k=K, p=p)
    )
    assert node.ros.spin_until(
        lambda: node.node.processor.pipeline.camera.matrix[0, 0] == 2000.0, 5.0
    )
    rectified, _ = node.lift(node.keypoints(one))
    assert root_z(rectified)[0] == pytest.approx(2 * root_z(tall)[0], rel=1e-6)
    node.set("camera_info_rectified", False)
    node.io.camera_info.publish(
        CameraInfo(header=Header(frame_id=FRAME), width=1280, height=720, k=K)
    )
    assert node.ros.spin_until(
        lambda: node.node.processor.pipeline.camera.matrix[0, 0] == 1000.0, 5.0
    )

    # max_persons: only the best-scored persons are lifted
    both, _ = node.lift(node.keypoints(people))
    node.set("max_persons", 1)
    capped, _ = node.lift(node.keypoints(people))
    assert len(both.skeletons) == 2 and len(capped.skeletons) == 1
    node.set("max_persons", 20)

    # min_joints: a person with 10 present joints is lifted at 8, not at 12
    partial = one.copy()
    partial[0, 10:, 2] = 0.0
    node.set("min_joints", 12)
    dropped, _ = node.lift(node.keypoints(partial))
    node.set("min_joints", 8)
    kept, _ = node.lift(node.keypoints(partial))
    assert len(dropped.skeletons) == 0 and len(kept.skeletons) == 1

    # min_joint_confidence: joints at or below it are published as missing (confidence 0)
    graded = one.copy()
    graded[0, :, 2] = np.linspace(0.2, 0.95, 15)
    node.set("min_joint_confidence", 0.5)
    strict, _ = node.lift(node.keypoints(graded))
    node.set("min_joint_confidence", 0.1)
    loose, _ = node.lift(node.keypoints(graded))
    missing = [sum(k.confidence == 0 for k in a.skeletons[0].keypoints) for a in (strict, loose)]
    assert missing == [int((graded[0, :, 2] <= 0.5).sum()), 0]

    # tracking.max_distance: a person moved by 40 px keeps the id, unless the gate is tiny
    moved = one.copy()
    moved[0, :, 0] += 40.0
    first, _ = node.lift(node.keypoints(one))
    same, _ = node.lift(node.keypoints(moved))
    node.set("tracking.max_distance", 0.01)
    new, _ = node.lift(node.keypoints(one))
    assert same.skeletons[0].id == first.skeletons[0].id != new.skeletons[0].id
    node.set("tracking.max_distance", 1.0)

    # tracking.max_missed: an id survives a message without its person, unless max_missed is 0
    def id_after_a_gap() -> tuple[str, str]:
        seen, _ = node.lift(node.keypoints(one))
        node.lift(node.keypoints(one[:0]))
        back, _ = node.lift(node.keypoints(one))
        return seen.skeletons[0].id, back.skeletons[0].id

    kept_id = id_after_a_gap()
    node.set("tracking.max_missed", 0)
    lost_id = id_after_a_gap()
    assert kept_id[0] == kept_id[1] and lost_id[0] != lost_id[1]
    node.set("tracking.max_missed", 10)

    # smoothing.*: a very low cutoff holds the pose where it was; a high beta follows at once;
    # with a moderate beta, the speed estimate's cutoff decides (each change restarts the filter)
    far = one.copy()
    far[0, :, 0] += 30.0

    def moved_fraction() -> float:
        start, end = (joints(node.lift(node.keypoints(p))[0])[0] for p in (one, far))
        return float(np.abs(end - start).max() / step)

    unsmoothed = [joints(node.lift(node.keypoints(p))[0])[0] for p in (one, far)]
    step = np.abs(unsmoothed[1] - unsmoothed[0]).max()
    node.set("smoothing.enabled", True)
    node.set("smoothing.min_cutoff_hz", 0.001)
    node.set("smoothing.beta", 0.0)
    held = moved_fraction()
    node.set("smoothing.beta", 1000.0)
    followed = moved_fraction()
    node.set("smoothing.beta", 1.0)
    node.set("smoothing.d_cutoff_hz", 100.0)
    quick_speed = moved_fraction()
    node.set("smoothing.d_cutoff_hz", 0.001)
    slow_speed = moved_fraction()
    node.set("smoothing.enabled", False)
    assert moved_fraction() == pytest.approx(1.0, abs=0.1)  # the lift reads the track's past
    assert held < 0.05 and followed > 0.95, (held, followed)
    assert quick_speed > 0.3 and slow_speed < 0.05, (quick_speed, slow_speed)

    # markers.*: sizes and lifetime of the next markers
    node.set("markers.joint_diameter_m", 0.2)
    node.set("markers.bone_width_m", 0.07)
    node.set("markers.text_height_m", 0.4)
    node.set("markers.lifetime_s", 3.0)
    _, markers = node.lift(node.keypoints(one))
    drawn = [m for m in markers.markers if m.action == 0]  # ADD (the rest: stale slots' DELETE)
    by_type = {m.type: m for m in drawn}
    assert by_type[7].scale.x == pytest.approx(0.2)  # SPHERE_LIST
    assert by_type[5].scale.x == pytest.approx(0.07)  # LINE_LIST
    assert by_type[9].scale.z == pytest.approx(0.4)  # TEXT_VIEW_FACING
    assert len(drawn) == 3 and all(m.lifetime.sec == 3 for m in drawn)

    # diagnostics_warn_drop_rate: one of two persons dropped is 50%: WARN at 0.1, OK at 0.9
    half_bad = people.copy()
    half_bad[1, :, 2] = 0.0  # no joint present: too_few_joints
    for threshold, expected in ((0.9, DiagnosticStatus.OK), (0.1, DiagnosticStatus.WARN)):
        node.set("diagnostics_warn_drop_rate", threshold)
        node.ros.spin_until(lambda: False, 0.3)  # a report closes the previous window
        mark = len(node.io.diagnostics)
        node.lift(node.keypoints(half_bad))
        status = node.status(mark)
        assert level_of(status) == level_of(expected), (threshold, status.message)
    node.set("diagnostics_warn_drop_rate", 0.1)

    # diagnostics_error_after_s: silence beyond it is an ERROR while someone listens
    node.set("diagnostics_error_after_s", 0.5)
    node.ros.spin_until(lambda: False, 1.0)
    assert node.status(len(node.io.diagnostics)).message.startswith("no input")
    node.set("diagnostics_error_after_s", 60.0)
    assert level_of(node.status(len(node.io.diagnostics))) != level_of(DiagnosticStatus.ERROR)

    # always_process: without subscribers inputs are skipped, unless always_process
    counters = lambda: node.node.processor.counters  # noqa: E731
    node.io.node.destroy_subscription(node.io.skeleton_sub)
    node.io.node.destroy_subscription(node.io.marker_sub)
    assert node.ros.spin_until(lambda: not node.node._subscribed(), 5.0)
    skipped, processed = counters().skipped_unsubscribed, counters().messages_in
    node.io.keypoints.publish(node.keypoints(one))
    assert node.ros.spin_until(lambda: counters().skipped_unsubscribed == skipped + 1, 5.0)
    node.set("always_process", True)
    node.io.keypoints.publish(node.keypoints(one))
    assert node.ros.spin_until(lambda: counters().messages_in == processed + 1, 5.0)
    assert counters().skipped_unsubscribed == skipped + 1


def test_image_mode_parameters_change_a_running_node(ros, lifter_node):
    args = ("-p", "input_mode:=image", "-p", "image.transport:=compressed")
    node = Running(ros, lifter_node, "/rt_img", *args)
    images = node.io.node.create_publisher(
        CompressedImage, "/rt_img/image/compressed", RELIABLE_QOS
    )
    keypoints_sub, detected = ros.collector(Skeleton2DArray, "/rt_img/keypoints_2d", node.io.node)
    debug_sub, debug = ros.collector(Image, "/rt_img/debug_image", node.io.node)
    ros.wait_for_subscribers(images, 1, 20.0)
    for sub in (node.io.skeleton_sub, keypoints_sub, debug_sub):
        ros.wait_for_publishers(sub, 1, 20.0)
    jpeg = PHOTO.read_bytes()

    def detect():
        """Publish the photo until its detections come back; return them."""
        for _ in range(20):
            header = node.stamp()
            images.publish(CompressedImage(header=header, format="jpeg", data=jpeg))
            mine = lambda: [m for m in detected if m.header.stamp == header.stamp]  # noqa: E731
            if ros.spin_until(lambda: bool(mine()), 3.0):
                ros.spin_until(lambda: False, 0.2)  # the debug image of the same frame
                return mine()[0], [d for d in debug if d.header.stamp == header.stamp]
        raise AssertionError("the node never answered the photo")

    default, no_debug = detect()
    node.set("image.publish_debug", True)
    _, with_debug = detect()
    assert len(default.skeletons) >= 3 and no_debug == [] and len(with_debug) == 1

    node.set("detector.max_persons", 1)
    assert len(detect()[0].skeletons) == 1
    node.set("detector.max_persons", 6)

    node.set("detector.person_threshold", 0.99)
    assert len(detect()[0].skeletons) == 0
    node.set("detector.person_threshold", 0.2)

    def present(msg) -> int:
        return sum(k.confidence > 0 for s in msg.skeletons for k in s.keypoints)

    node.set("detector.joint_threshold", 0.6)
    strict = detect()[0]
    node.set("detector.joint_threshold", 0.2)
    assert present(strict) < present(default)

    node.set("detector.input_size", 384)  # a larger network input finds more small people
    larger = detect()[0]
    assert "input 384" in node.node.processor.image_stage.describe()
    assert len(larger.skeletons) >= len(default.skeletons)
    assert [s.score for s in larger.skeletons] != [s.score for s in default.skeletons]


def test_depth_parameters_change_a_running_node(ros, lifter_node):
    from pose_lifter.tools.sample_bag import rgbd_sample_messages

    with np.load(REPO / "training" / "data" / "cmu_mocap_15j.npz") as data:
        poses = data["test_joints_3d"][::40].astype(np.float64)
    messages, _ = rgbd_sample_messages(poses, 3, seed=3, compressed=False)
    frame = {("depth" if "depth" in t else t.rsplit("/", 1)[-1]): m for t, m, _ in messages[:4]}
    node = Running(
        ros, lifter_node, "/rt_depth", "-p", "depth.enabled:=true", "-p", "temporal.enabled:=false"
    )
    depth = node.io.node.create_publisher(Image, "/rt_depth/depth", RELIABLE_QOS)
    node.io.connect()
    ros.wait_for_subscribers(depth, 1, 20.0)
    counters = lambda: node.node.processor.counters  # noqa: E731

    def lift(depth_offset_ns: int = 0):
        header = node.stamp()
        depth_msg, info = frame["depth"], frame["camera_info"]
        info.header.stamp = header.stamp
        node.io.camera_info.publish(info)
        stamp_ns = header.stamp.sec * 1_000_000_000 + depth_offset_ns
        depth_msg.header.stamp = Time(sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9)
        received = counters().depth_images_in
        depth.publish(depth_msg)
        # the depth image is in the node's buffer before the keypoints come (as a camera's is)
        ros.spin_until(lambda: counters().depth_images_in > received, 5.0)
        keypoints = frame["keypoints_2d"]
        keypoints.header.stamp = header.stamp
        skeletons, _ = node.lift(keypoints)
        assert skeletons is not None
        return skeletons

    for _ in range(20):  # until the depth subscription matched ours
        if any(s.scale_source == 2 for s in lift().skeletons):
            break
    reference = lift()
    assert all(s.scale_source == 2 for s in reference.skeletons)

    def scale_sources(**kwargs) -> list[int]:
        return [s.scale_source for s in lift(**kwargs).skeletons]

    unpaired = counters().depth_unpaired
    node.set("depth.slop_s", 0.005)  # the depth image 10 ms away no longer pairs
    assert set(scale_sources(depth_offset_ns=10_000_000)) == {1}
    assert counters().depth_unpaired == unpaired + 1
    node.set("depth.slop_s", 0.02)
    assert set(scale_sources(depth_offset_ns=10_000_000)) == {2}

    for name, value, default in (
        ("depth.min_joints", 15, 2),
        ("depth.max_m", 0.5, 10.0),
        ("depth.min_m", 9.5, 0.2),
    ):
        node.set(name, value)
        assert set(scale_sources()) == {1}, name  # nobody placed from depth
        node.set(name, default)
        assert set(scale_sources()) == {2}, name

    base = joints(reference)
    for name, value, default in (
        ("depth.refine_joints", False, True),
        ("depth.window_px", 1, 9),
        ("depth.noise_at_1m_m", 0.0, 0.01),  # no noise allowed: fewer joints agree
    ):
        node.set(name, value)
        changed = joints(lift())
        node.set(name, default)
        again = joints(lift())
        assert np.abs(again - base).max() < 1e-9, name  # back to the default's answer
        assert np.abs(changed - base).max() > 1e-4, name  # and the parameter made a difference


def test_configure_time_parameters_are_refused_while_configured(ros, lifter_node):
    node = Running(ros, lifter_node, "/rt_cfg")
    for name, spec in FIELDS.items():
        if not applied_on_configure(name) or name == "autostart":
            continue
        value = spec.default
        other = (
            not value
            if isinstance(value, bool)
            else (value + 1 if isinstance(value, (int, float)) else "x_" + str(value))
        )
        if spec.metadata["choices"]:
            other = next(c for c in spec.metadata["choices"] if c != value)
        if name == "device":
            other = "cpu"
        if name == "tracking.id_prefix":
            other = "robot"
        result = node.try_set(name, other)
        assert not result.successful, name
        assert "applied on configure" in result.reason or "needs tf2" in result.reason, (
            name,
            result.reason,
        )
