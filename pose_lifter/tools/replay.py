"""Replay rosbag2 bags through the pose_lifter processing code path, offline or live.

Offline (:func:`replay_offline`, ``pose-lifter replay BAG``): the bag's image or Skeleton2DArray
messages go, as real rclpy messages and in bag order, through the node's per-message step
(:class:`~pose_lifter.ros.processing.MessageProcessor`, the very object the node drives; CameraInfo
messages go to its ``set_camera_info``), configured from the same parameters file the node reads.
Outputs: a bag
with the inputs plus ``<namespace>/skeletons_3d`` (Skeleton3DArray), ``<namespace>/markers``
(MarkerArray) and, for image inputs, ``<namespace>/keypoints_2d`` (the detector's
Skeleton2DArray), each written at the input's receive time plus the measured processing time;
and a report (``report.json`` + ``report.html``, :mod:`pose_lifter.tools.report`).

Ground truth (optional, for N-MPJPE / PA-MPJPE): a ``pose_lifter_msgs/Skeleton3DArray`` topic
whose name ends in ``joints_3d`` (e.g. ``/ground_truth/joints_3d``: positions in metres in the
camera optical frame, header stamp = the stamp of the input it belongs to), or a side npz
(``--ground-truth FILE.npz``) with ``joints_3d`` ``(N, 15, 3)`` or ``(N, P, 15, 3)`` (NaN rows
= absent persons) aligned to the N processed input messages by order, or by stamp when it also
holds ``stamps_ns`` ``(N,)`` int64.

Live (:func:`replay_live`, ``pose-lifter replay BAG --live``): publishes the bag into a running
graph with its original timing (``rate`` 1), ``rate`` times faster, or as fast as possible
(``rate`` 0), publishes ``/clock`` (bag time) for nodes with ``use_sim_time``, collects what the
node publishes and reports end-to-end latency (publish -> output received, matched by header
stamp) and drops.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from pose_lifter.ros.conversions import stamp_nanoseconds
from pose_lifter.ros.diagnostics import DEPTH_COUNTERS
from pose_lifter.ros.parameters import DEFAULT_NODE_NAME, node_id_prefix
from pose_lifter.tools.bag_io import BagError, BagMessage, BagReader, BagWriter
from pose_lifter.tools.bag_transforms import BagTransformLookup, read_transforms, transform_topics
from pose_lifter.runtime.joints import NUM_JOINTS
from pose_lifter.tools.report import (
    SCALE_SOURCE_NAMES,
    FrameRecord,
    percentiles,
    render_html,
    summarize,
    write_json,
)

LOGGER = logging.getLogger(__name__)

KEYPOINTS_TYPE = "pose_lifter_msgs/msg/Skeleton2DArray"
SKELETONS_3D_TYPE = "pose_lifter_msgs/msg/Skeleton3DArray"
IMAGE_TYPE = "sensor_msgs/msg/Image"
COMPRESSED_TYPE = "sensor_msgs/msg/CompressedImage"
CAMERA_INFO_TYPE = "sensor_msgs/msg/CameraInfo"
INPUT_TYPES = (KEYPOINTS_TYPE, IMAGE_TYPE, COMPRESSED_TYPE)
#: Topic-name suffix of a ground-truth Skeleton3DArray topic.
GROUND_TRUTH_SUFFIX = "joints_3d"
#: Namespace of the outputs written into the output bag.
DEFAULT_OUTPUT_NAMESPACE = "/pose_lifter"
#: Largest width of the images embedded in the HTML report (larger ones are downscaled).
REPORT_IMAGE_WIDTH = 640


@dataclass
class TopicSelection:
    """Which bag topics play which role."""

    inputs: list[str]
    camera_info: list[str]
    ground_truth: list[str]
    types: dict[str, str]
    depth: list[str] = field(default_factory=list)

    @property
    def all(self) -> list[str]:
        return self.inputs + self.camera_info + self.depth + self.ground_truth

    def is_image(self, topic: str) -> bool:
        return self.types[topic] in (IMAGE_TYPE, COMPRESSED_TYPE)


def is_depth_topic(name: str, msgtype: str) -> bool:
    """Whether an image topic carries depth: its name contains ``depth`` (any case)."""
    return msgtype in (IMAGE_TYPE, COMPRESSED_TYPE) and "depth" in name.lower()


def select_topics(types: dict[str, str], requested: Sequence[str] | None = None) -> TopicSelection:
    """Roles of the topics ``{name: type}`` of a bag.

    ``requested`` (``--topics``) names the inputs (image, CompressedImage or Skeleton2DArray
    topics) and optionally CameraInfo / depth / ground-truth topics; without it the bag must
    hold exactly one input topic. Depth: image topics whose name contains ``depth`` (e.g.
    ``/camera/aligned_depth_to_color/image_raw``, ``.../compressedDepth``): the requested ones,
    else the bag's only one; they place people (``depth.enabled`` is switched on).
    CameraInfo: the requested ones, else the bag's only one.
    Ground truth: Skeleton3DArray topics ending in ``joints_3d``.

    Raises:
        BagError: unknown/unsupported topics, no input, or an ambiguous choice.
    """
    if requested:
        missing = [t for t in requested if t not in types]
        if missing:
            raise BagError(f"topics not in the bag: {missing}; it has {sorted(types)}")
        unsupported = [
            t
            for t in requested
            if types[t] not in INPUT_TYPES + (CAMERA_INFO_TYPE, SKELETONS_3D_TYPE)
        ]
        if unsupported:
            raise BagError(
                f"unsupported topic types: {[(t, types[t]) for t in unsupported]}; "
                f"inputs are {list(INPUT_TYPES)}"
            )
        depth = [t for t in requested if is_depth_topic(t, types[t])]
        inputs = [t for t in requested if types[t] in INPUT_TYPES and t not in depth]
        camera = [t for t in requested if types[t] == CAMERA_INFO_TYPE]
        truth = [t for t in requested if types[t] == SKELETONS_3D_TYPE]
    else:
        inputs = sorted(
            t for t, kind in types.items() if kind in INPUT_TYPES and not is_depth_topic(t, kind)
        )
        if len(inputs) > 1:
            raise BagError(f"the bag has several input topics {inputs}: choose with --topics")
        all_depth = sorted(t for t, kind in types.items() if is_depth_topic(t, kind))
        depth = all_depth if len(all_depth) == 1 else []
        camera, truth = [], []
    if not inputs:
        raise BagError(f"no input topic (types {list(INPUT_TYPES)}) in {sorted(types.items())}")
    if not camera:
        all_camera = sorted(t for t, kind in types.items() if kind == CAMERA_INFO_TYPE)
        camera = all_camera if len(all_camera) == 1 else []
    if not truth:
        truth = sorted(
            t
            for t, kind in types.items()
            if kind == SKELETONS_3D_TYPE and t.rstrip("/").endswith(GROUND_TRUTH_SUFFIX)
        )
    if len(depth) > 1:
        raise BagError(f"several depth topics {depth}: choose one with --topics")
    return TopicSelection(inputs, camera, truth, dict(types), depth)


def default_params_file() -> Path:
    """Return the node's parameters file.

    The node's ``config/pose_lifter.yaml`` (installed share/ first, then the source tree).
    """
    try:
        from ament_index_python.packages import get_package_share_directory

        installed = (
            Path(get_package_share_directory("pose_lifter")) / "config" / "pose_lifter.yaml"
        )
        if installed.exists():
            return installed
    except Exception:  # noqa: BLE001 - not in the ament index
        pass
    return Path(__file__).resolve().parents[2] / "config" / "pose_lifter.yaml"


def load_settings(params_file: str | Path | None, overrides: Sequence[str] = ()):
    """Read the node's parameters file (default: the shipped one) and apply ``overrides``.

    ``overrides``: ``NAME:=VALUE`` strings as ``ros2 run ... -p`` takes them (the value read as
    YAML), e.g. ``target_frame:=map``.

    Raises:
        ValueError: an override that is not ``NAME:=VALUE`` or an invalid value.
    """
    import yaml

    from pose_lifter.ros.parameters import load_params_file, settings_from_values

    settings = load_params_file(params_file or default_params_file())
    values = {}
    for override in overrides:
        name, sep, raw = override.partition(":=")
        if not sep or not name:
            raise ValueError(f"parameter override {override!r} must look like NAME:=VALUE")
        values[name] = yaml.safe_load(raw) if raw else ""
    return settings_from_values(values, settings) if values else settings


def stamp_ns(header) -> int:
    """Return a header's stamp in nanoseconds (the key that pairs inputs and outputs)."""
    return stamp_nanoseconds(header.stamp)


def _arrays_2d(msg) -> tuple[np.ndarray, np.ndarray]:
    from pose_lifter.ros.conversions import skeletons_from_msg

    people = skeletons_from_msg(msg)
    return people.keypoints, people.confidence


def _arrays_3d(msg) -> tuple[list[str], np.ndarray, np.ndarray]:
    ids = [s.id for s in msg.skeletons]
    joints = np.array(
        [[(k.position.x, k.position.y, k.position.z) for k in s.keypoints] for s in msg.skeletons],
        dtype=np.float64,
    ).reshape(-1, NUM_JOINTS, 3)
    conf = np.array(
        [[k.confidence for k in s.keypoints] for s in msg.skeletons], dtype=np.float64
    ).reshape(-1, NUM_JOINTS)
    return ids, joints, conf


def _report_image(msg, rgb: np.ndarray | None) -> tuple[bytes | None, float]:
    """JPEG bytes of an input image for the report and its pixel size in input pixels."""
    import cv2

    fmt = getattr(msg, "format", "").lower()
    width = getattr(msg, "width", 0) or (rgb.shape[1] if rgb is not None else 0)
    if ("jpeg" in fmt or "jpg" in fmt) and (not width or width <= REPORT_IMAGE_WIDTH):
        return bytes(msg.data), 1.0
    if rgb is None:
        return None, 1.0
    scale = 1.0
    if rgb.shape[1] > REPORT_IMAGE_WIDTH:
        scale = rgb.shape[1] / REPORT_IMAGE_WIDTH
        rgb = cv2.resize(
            rgb, (REPORT_IMAGE_WIDTH, round(rgb.shape[0] / scale)), interpolation=cv2.INTER_AREA
        )
    ok, buffer = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80]
    )
    return (buffer.tobytes() if ok else None), scale


def load_ground_truth_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray | None]:
    """``(joints_3d (N, P, 15, 3), stamps_ns (N,) or None)`` of a side ground-truth npz."""
    with np.load(path) as data:
        if "joints_3d" not in data.files:
            raise BagError(f"{path}: no 'joints_3d' array (N,15,3) or (N,P,15,3)")
        joints = np.asarray(data["joints_3d"], dtype=np.float64)
        stamps = (
            np.asarray(data["stamps_ns"], dtype=np.int64) if "stamps_ns" in data.files else None
        )
    if joints.ndim == 3:
        joints = joints[:, None]
    if joints.ndim != 4 or joints.shape[2:] != (NUM_JOINTS, 3):
        raise BagError(f"{path}: joints_3d must be (N,15,3) or (N,P,15,3), got {joints.shape}")
    if stamps is not None and stamps.shape != (len(joints),):
        raise BagError(f"{path}: stamps_ns must be ({len(joints)},), got {stamps.shape}")
    return joints, stamps


@dataclass
class ReplayResult:
    """What :func:`replay_offline` produced."""

    records: list[FrameRecord]
    summary: dict[str, Any]
    out_bag: Path | None = None
    report_json: Path | None = None
    report_html: Path | None = None
    output_counts: dict[str, int] = field(default_factory=dict)


def _join(namespace: str, name: str) -> str:
    return "/" + "/".join(p for p in (namespace.strip("/"), name) if p)


def replay_offline(
    bag: str | Path,
    *,
    topics: Sequence[str] | None = None,
    out_bag: str | Path | None = None,
    report_dir: str | Path | None = None,
    params_file: str | Path | None = None,
    ground_truth: str | Path | None = None,
    namespace: str = DEFAULT_OUTPUT_NAMESPACE,
    storage: str | None = None,
    max_frames: int | None = None,
    settings=None,
    html: bool = True,
    node_name: str = DEFAULT_NODE_NAME,
) -> ReplayResult:
    """Run the bag's inputs through the node's processing code path (no ROS graph).

    Args:
        bag: rosbag2 directory (sqlite3 or mcap). topics: see :func:`select_topics`.
        out_bag: new output bag directory (None: none written); ``storage`` defaults to the
            input's. report_dir: where ``report.json`` / ``report.html`` go (None: none).
        params_file: the node's parameters YAML (default: the shipped config); ``settings``
            (a :class:`~pose_lifter.ros.parameters.Settings`) overrides it.
        ground_truth: side npz (see the module docstring); topics ending in ``joints_3d``
            are used automatically. max_frames: stop after this many input messages.
        node_name: the fully qualified name of the node replay stands in for: its track ids
            are named as that node names them (``/pose_lifter`` -> ``pose_lifter_p1``, ...)
            unless ``tracking.id_prefix`` is set.

    With ``target_frame`` set, the bag's ``/tf`` and ``/tf_static`` (every
    ``tf2_msgs/TFMessage`` topic) are read first and each input is transformed with those
    received by its bag time plus ``tf_timeout_s``, as the node waits for a late transform
    (:mod:`pose_lifter.tools.bag_transforms`); an input stamped where they do not reach is
    dropped as ``tf_unavailable``; a transform tf2 could not use is skipped (logged, counted
    ``transforms_skipped``).

    Raises:
        BagError: an unreadable bag or topic choice, or (with ``target_frame``) an input frame
            the bag's transforms never link to ``target_frame``.
    """
    started = time.perf_counter()
    settings = settings or load_settings(params_file)
    records: list[FrameRecord] = []
    truth_by_stamp: dict[int, np.ndarray] = {}
    counts: dict[str, int] = {}
    with BagReader(bag) as reader:
        infos = reader.topics()
        selection = select_topics({name: info.msgtype for name, info in infos.items()}, topics)
        if selection.depth and not settings.depth_enabled:
            settings = settings.replace(depth_enabled=True)
        lookup, transforms_skipped = None, 0
        if settings.target_frame:  # the node waits tf_timeout_s for a late transform: as much
            transforms, skipped = read_transforms(reader)
            for line in skipped:  # tf2 ignores what it cannot use, and says so
                LOGGER.warning("unusable transform: %s", line)
            transforms_skipped = len(skipped)
            lookup = BagTransformLookup(transforms, wait_s=settings.tf_timeout_s)
        tf_topics = transform_topics(reader) if lookup else []
        processor = _processor(settings, selection, node_name, lookup)
        writer = BagWriter(out_bag, storage or reader.storage) if out_bag else None
        out_topics = dict(
            skeletons=_join(namespace, "skeletons_3d"),
            markers=_join(namespace, "markers"),
            keypoints=_join(namespace, "keypoints_2d"),
            detections=_join(namespace, "detections_3d"),
        )
        try:
            if writer:
                for name in selection.all + tf_topics:
                    info = infos[name]
                    writer.add_topic(name, info.msgtype, info.msgdef, info.digest)
            for item in reader.messages(selection.all + tf_topics):
                if max_frames is not None and len(records) >= max_frames:
                    break
                if writer:
                    writer.write_raw(item.topic, item.msgtype, item.timestamp_ns, item.data)
                if item.topic in tf_topics:
                    continue  # read into the lookup's buffer before the loop
                try:
                    msg = item.to_rclpy()
                except Exception as error:  # noqa: BLE001 - rclpy raises RMWError/RCLError
                    processor.count_drop("malformed_message")
                    LOGGER.warning(
                        "%s @ %d ns: undecodable record dropped (%s)",
                        item.topic,
                        item.timestamp_ns,
                        error,
                    )
                    continue
                if item.topic in selection.camera_info:
                    processor.set_camera_info(msg)
                elif item.topic in selection.depth:
                    processor.set_depth(msg)
                elif item.topic in selection.ground_truth:
                    truth_by_stamp[stamp_ns(msg.header)] = _arrays_3d(msg)[1]
                else:
                    if lookup is not None:
                        lookup.require_connected(settings.target_frame, msg.header.frame_id)
                        lookup.now_ns = item.timestamp_ns  # transforms known by now + wait
                    records.append(
                        _process_one(
                            processor, item, msg, len(records), writer, out_topics, counts
                        )
                    )
        finally:
            if writer:
                writer.close()
    _attach_ground_truth(records, truth_by_stamp, ground_truth)
    pipeline = processor.pipeline
    extra = dict(
        bag=str(bag),
        input_topics=selection.inputs,
        camera_info_topics=selection.camera_info,
        depth_topics=selection.depth,
        ground_truth_source=(str(ground_truth) if ground_truth else selection.ground_truth)
        or None,
        params_file=str(params_file or default_params_file()),
        transforms_skipped=transforms_skipped,
        model=settings.model_path or settings.model,
        device=str(pipeline.lifter.device),
        counters=dict(
            messages_in=pipeline.counters.messages_in,
            images_in=pipeline.counters.images_in,
            persons_in=pipeline.counters.persons_in,
            persons_out=pipeline.counters.persons_out,
            dropped={k: v for k, v in pipeline.counters.dropped.items() if v},
            **{key: getattr(pipeline.counters, key) for key in DEPTH_COUNTERS},
        ),
        output_bag=str(out_bag) if out_bag else None,
        output_topics=counts,
        wall_time_s=None,
    )
    summary = summarize(records, extra)
    result = ReplayResult(
        records, summary, Path(out_bag) if out_bag else None, output_counts=counts
    )
    if report_dir:
        report_dir = Path(report_dir)
        summary["wall_time_s"] = round(time.perf_counter() - started, 2)
        if html and records:
            result.report_html = render_html(
                records,
                summary,
                report_dir / "report.html",
                title=f"pose_lifter replay of {Path(bag).name}",
            )
        summary["wall_time_s"] = round(time.perf_counter() - started, 2)
        result.report_json = write_json(summary, records, report_dir / "report.json")
    summary["wall_time_s"] = round(time.perf_counter() - started, 2)
    return result


def _processor(settings, selection: TopicSelection, node_name: str, lookup):
    """Build the node's per-message step, with the image stage when the bag has image inputs.

    Named like the node ``node_name`` (track ids); ``lookup``: the bag's transforms (or None).
    Offline nothing waits for a transform: the buffer already holds the whole bag's.
    """
    from pose_lifter.ros.processing import MessageProcessor

    with_images = any(selection.is_image(topic) for topic in selection.inputs)
    try:
        return MessageProcessor(
            settings,
            transform_lookup=lookup,
            with_images=with_images,
            id_prefix=node_id_prefix(node_name),
            wait_for_transforms=False,
        )
    except ImportError as error:
        raise BagError(f"image topics need the image input ({error})") from error


def _process_one(
    processor,
    item: BagMessage,
    msg,
    index: int,
    writer: BagWriter | None,
    out_topics: dict[str, str],
    counts: dict[str, int],
) -> FrameRecord:
    tic = time.perf_counter()
    if item.msgtype == KEYPOINTS_TYPE:
        result = processor.process_keypoints(msg)
    else:
        result = processor.process_image(msg)
    latency_ms = 1000 * (time.perf_counter() - tic)
    keypoints_msg, out, rgb = result.keypoints_msg, result.output, result.rgb
    out_time = item.timestamp_ns + int(latency_ms * 1e6)
    if keypoints_msg is not None:
        kp, conf = _arrays_2d(keypoints_msg)
        size = (int(keypoints_msg.image_width), int(keypoints_msg.image_height))
    else:
        kp, conf = np.zeros((0, NUM_JOINTS, 2)), np.zeros((0, NUM_JOINTS))
        size = (int(getattr(msg, "width", 0)), int(getattr(msg, "height", 0)))
    ids, joints, conf3 = (
        _arrays_3d(out.skeletons)
        if out is not None
        else ([], np.zeros((0, NUM_JOINTS, 3)), np.zeros((0, NUM_JOINTS)))
    )
    record = FrameRecord(
        index=index,
        topic=item.topic,
        bag_time_ns=item.timestamp_ns,
        stamp_ns=stamp_ns(msg.header),
        latency_ms=latency_ms,
        keypoints_2d=kp,
        confidence_2d=conf,
        ids=ids,
        joints_3d=joints,
        confidence_3d=conf3,
        source_2d=list(out.source_indices) if out is not None else [],
        dropped=out is None,
        image_size=size,
        scale_sources=[s.scale_source for s in out.skeletons.skeletons] if out is not None else [],
    )
    if item.msgtype in (IMAGE_TYPE, COMPRESSED_TYPE):
        record.image_jpeg, record.image_pixel_size = _report_image(msg, rgb)
    if writer:
        produced = []
        if item.msgtype != KEYPOINTS_TYPE and keypoints_msg is not None:
            produced.append((out_topics["keypoints"], keypoints_msg))
        if out is not None:
            produced += [
                (out_topics["skeletons"], out.skeletons),
                (out_topics["markers"], out.markers),
            ]
            if out.detections is not None:  # vision_msgs installed
                produced.append((out_topics["detections"], out.detections))
        for topic, produced_msg in produced:
            writer.write(topic, produced_msg, out_time)
            counts[topic] = counts.get(topic, 0) + 1
    return record


def _attach_ground_truth(
    records: list[FrameRecord], by_stamp: dict[int, np.ndarray], npz: str | Path | None
) -> None:
    if npz:
        joints, stamps = load_ground_truth_npz(npz)
        if stamps is not None:
            by_stamp = {**by_stamp, **{int(s): j for s, j in zip(stamps, joints)}}
        else:
            if len(joints) != len(records):
                raise BagError(
                    f"{npz}: {len(joints)} ground-truth rows for {len(records)} input "
                    "messages (add stamps_ns to align by stamp)"
                )
            for record, truth in zip(records, joints):
                record.ground_truth = truth
    for record in records:
        if record.stamp_ns in by_stamp:
            record.ground_truth = by_stamp[record.stamp_ns]


# ------------------------------------------------------------------------------ live
@dataclass
class LiveResult:
    """What :func:`replay_live` measured."""

    summary: dict[str, Any]
    frames: list[dict[str, Any]]
    report_json: Path | None = None


def node_input_topic(msgtype: str, node_ns: str, depth: bool = False) -> str | None:
    """Return the pose_lifter node's input topic for a message type (in namespace ``node_ns``).

    ``depth``: the bag topic is a depth image (``depth`` or ``depth/compressedDepth``).
    """
    if depth:
        return _join(node_ns, "depth/compressedDepth" if msgtype == COMPRESSED_TYPE else "depth")
    names = {
        KEYPOINTS_TYPE: "keypoints_2d",
        CAMERA_INFO_TYPE: "camera_info",
        IMAGE_TYPE: "image",
        COMPRESSED_TYPE: "image/compressed",
    }
    return _join(node_ns, names[msgtype]) if msgtype in names else None


def parse_remaps(remaps: Sequence[str]) -> dict[str, str]:
    """``["FROM:=TO", ...]`` -> ``{FROM: TO}``."""
    result = {}
    for remap in remaps or ():
        source, sep, target = remap.partition(":=")
        if not sep or not source or not target:
            raise BagError(f"bad remap {remap!r}: expected FROM:=TO")
        result[source] = target
    return result


def replay_live(
    bag: str | Path,
    *,
    topics: Sequence[str] | None = None,
    rate: float = 1.0,
    node_ns: str = "/",
    remaps: Sequence[str] = (),
    clock: bool = True,
    clock_hz: float = 50.0,
    wait_s: float = 20.0,
    drain_s: float = 5.0,
    report_dir: str | Path | None = None,
    domain_id: int | None = None,
    max_frames: int | None = None,
) -> LiveResult:
    """Publish the bag into a running graph and measure what the pose_lifter node returns.

    Inputs are published on the node's input topics in ``node_ns`` (Skeleton2DArray ->
    ``keypoints_2d``, CameraInfo -> ``camera_info``, Image -> ``image``, CompressedImage ->
    ``image/compressed``: start the node with ``input_mode:=image`` and, for CompressedImage,
    ``image.transport:=compressed``; depth topics -> ``depth`` or ``depth/compressedDepth``:
    start it with ``depth.enabled:=true``; with ``qos.image_reliability`` /
    ``qos.depth_reliability`` ``reliable`` no frame is lost while a subscription with ``auto``
    would still switch to reliable, in its first second) unless ``remaps``
    (``"BAG_TOPIC:=GRAPH_TOPIC"``) say otherwise;
    outputs are collected from ``node_ns``/``skeletons_3d`` and ``markers`` and ``/diagnostics``.
    Before the bag, empty probe inputs (stamp 0) are sent until the node answers one: the node
    skips inputs until it has discovered a subscriber of its outputs.

    Args:
        rate: 1 = original timing, R = R times faster, 0 = as fast as possible.
        clock: publish ``rosgraph_msgs/Clock`` on ``/clock`` (bag receive time) before every
            message and at ``clock_hz`` in between, for nodes with ``use_sim_time``.
        wait_s: how long to wait for the node's subscriptions/publishers to match.
        drain_s: how long to wait for outstanding outputs after the last publish.

    Raises:
        BagError: unusable bag/topics, or the node's topics did not match within ``wait_s``.
    """
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
    from rosgraph_msgs.msg import Clock
    from visualization_msgs.msg import MarkerArray

    from pose_lifter.tools.bag_io import rclpy_type
    from pose_lifter_msgs.msg import Skeleton3DArray

    if rate < 0:
        raise BagError(f"rate must be >= 0 (0 = as fast as possible), got {rate}")
    remap = parse_remaps(remaps)
    with BagReader(bag) as reader:
        selection = select_topics({n: i.msgtype for n, i in reader.topics().items()}, topics)
        messages = []
        for item in reader.messages(selection.inputs + selection.camera_info + selection.depth):
            if max_frames is not None and item.topic in selection.inputs:
                if sum(m[0].topic in selection.inputs for m in messages) >= max_frames:
                    break
            messages.append((item, stamp_ns(item.to_rclpy().header)))
    if not messages:
        raise BagError(f"{bag}: no messages on {selection.inputs}")

    context = Context()
    rclpy.init(context=context, **({} if domain_id is None else dict(domain_id=domain_id)))
    qos = QoSProfile(
        history=HistoryPolicy.KEEP_LAST, depth=100, reliability=ReliabilityPolicy.RELIABLE
    )
    try:
        node = rclpy.create_node("pose_lifter_replay", context=context)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        publishers, targets = {}, {}
        for topic in dict.fromkeys(m[0].topic for m in messages):
            msgtype = selection.types[topic]
            target = (
                remap.get(topic)
                or node_input_topic(msgtype, node_ns, topic in selection.depth)
                or topic
            )
            publishers[topic] = node.create_publisher(rclpy_type(msgtype), target, qos)
            targets[topic] = target
        clock_pub = node.create_publisher(Clock, "/clock", 10) if clock else None
        received: dict[int, list[float]] = {}
        marker_count = [0]
        scale_sources: Counter[str] = Counter()
        diagnostics: list = []

        def on_skeletons(msg) -> None:
            received.setdefault(stamp_ns(msg.header), []).append(time.perf_counter())
            scale_sources.update(
                SCALE_SOURCE_NAMES.get(s.scale_source, str(s.scale_source)) for s in msg.skeletons
            )

        def on_markers(msg) -> None:
            marker_count[0] += 1

        skeleton_sub = node.create_subscription(
            Skeleton3DArray, _join(node_ns, "skeletons_3d"), on_skeletons, qos
        )
        marker_sub = node.create_subscription(
            MarkerArray, _join(node_ns, "markers"), on_markers, qos
        )
        node.create_subscription(DiagnosticArray, "/diagnostics", diagnostics.append, 10)

        def spin_for(seconds: float) -> None:
            deadline = time.perf_counter() + seconds
            while True:
                left = deadline - time.perf_counter()
                if left <= 0:
                    return
                executor.spin_once(timeout_sec=min(left, 0.01))

        deadline = time.perf_counter() + wait_s
        while not (
            all(
                p.get_subscription_count() > 0
                for t, p in publishers.items()
                if t in selection.inputs or t in selection.depth
            )
            and skeleton_sub.get_publisher_count() > 0
            and marker_sub.get_publisher_count() > 0
        ):
            if time.perf_counter() > deadline:
                raise BagError(
                    f"no pose_lifter node answered within {wait_s:.0f} s: inputs "
                    f"{[targets[t] for t in selection.inputs]} have "
                    f"{[publishers[t].get_subscription_count() for t in selection.inputs]} "
                    f"subscribers, {_join(node_ns, 'skeletons_3d')} has "
                    f"{skeleton_sub.get_publisher_count()} publishers (is the node running in "
                    f"namespace {node_ns!r} and the same ROS_DOMAIN_ID?)"
                )
            spin_for(0.05)
        # The node skips inputs while it sees no subscriber of its outputs, and discovery is
        # not symmetric: probe (an empty input, stamp 0) until the node answers one.
        probe_topic = next(t for t in selection.inputs)
        probe = _probe_message(selection.types[probe_topic])
        deadline = time.perf_counter() + wait_s
        while 0 not in received:
            if time.perf_counter() > deadline:
                raise BagError(f"the node never answered a probe on {targets[probe_topic]}")
            publishers[probe_topic].publish(probe)
            spin_for(0.2)
        spin_for(0.3)  # answers to earlier probes
        marker_count[0] = 0
        received.clear()

        published: list[tuple[int, int, float, str]] = []  # (index, stamp, wall, topic)
        t0_bag = messages[0][0].timestamp_ns
        start = time.perf_counter()
        last_clock = 0.0

        def publish_clock(bag_ns: int) -> None:
            if clock_pub is not None:
                clock_pub.publish(Clock(clock=_time_msg(bag_ns)))

        for item, stamp in messages:
            if rate > 0:
                due = start + (item.timestamp_ns - t0_bag) * 1e-9 / rate
                while (left := due - time.perf_counter()) > 0:
                    if (
                        clock_pub is not None
                        and time.perf_counter() - last_clock >= 1.0 / clock_hz
                    ):
                        elapsed_bag = (time.perf_counter() - start) * rate
                        publish_clock(t0_bag + int(elapsed_bag * 1e9))
                        last_clock = time.perf_counter()
                    executor.spin_once(timeout_sec=min(left, 0.005))
            else:
                executor.spin_once(timeout_sec=0)
            publish_clock(item.timestamp_ns)
            publishers[item.topic].publish(item.data)  # raw CDR bytes, as recorded
            if item.topic in selection.inputs:
                published.append((len(published), stamp, time.perf_counter(), item.topic))
        publish_done = time.perf_counter()
        stamps = {p[1] for p in published}
        drain_deadline = time.perf_counter() + drain_s
        while time.perf_counter() < drain_deadline and not stamps <= set(received):
            if clock_pub is not None and time.perf_counter() - last_clock >= 1.0 / clock_hz:
                publish_clock(messages[-1][0].timestamp_ns)
                last_clock = time.perf_counter()
            executor.spin_once(timeout_sec=0.01)
        spin_for(0.2)
        node_status = _node_diagnostics(diagnostics, node_ns)
        executor.remove_node(node)
        node.destroy_node()
        executor.shutdown(timeout_sec=1.0)
    finally:
        context.try_shutdown()

    frames, latencies = [], []
    used: dict[int, int] = {}
    for index, stamp, wall, topic in published:
        times = received.get(stamp, [])
        k = used.get(stamp, 0)
        used[stamp] = k + 1
        latency = 1000 * (times[k] - wall) if k < len(times) else None
        if latency is not None:
            latencies.append(latency)
        frames.append(
            dict(
                index=index,
                topic=topic,
                stamp_ns=stamp,
                latency_ms=None if latency is None else round(latency, 3),
                dropped=latency is None,
            )
        )
    bag_span = (messages[-1][0].timestamp_ns - t0_bag) * 1e-9
    summary = dict(
        bag=str(bag),
        mode="live",
        rate=rate,
        node_namespace=node_ns,
        published_topics={t: targets[t] for t in targets},
        clock=clock,
        published=len(published),
        received=sum(1 for f in frames if not f["dropped"]),
        dropped=sum(f["dropped"] for f in frames),
        drop_rate=round(sum(f["dropped"] for f in frames) / max(len(published), 1), 4),
        markers_received=marker_count[0],
        persons_by_scale_source=dict(scale_sources),
        end_to_end_latency_ms=percentiles(latencies),
        bag_duration_s=round(bag_span, 3),
        publish_duration_s=round(publish_done - start, 3),
        node_diagnostics=node_status,
    )
    result = LiveResult(summary, frames)
    if report_dir:
        import json

        path = Path(report_dir) / "live_report.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(dict(summary=summary, frames=frames), indent=2), encoding="utf-8"
        )
        result.report_json = path
    return result


def _probe_message(msgtype: str):
    """Build an input that yields an empty output: no person (stamp 0, never a bag stamp)."""
    import cv2

    from pose_lifter.tools.bag_io import rclpy_type

    msg = rclpy_type(msgtype)()
    if msgtype == IMAGE_TYPE:
        msg.height, msg.width, msg.encoding, msg.step = 16, 16, "bgr8", 48
        msg.data = bytes(16 * 48)
    elif msgtype == COMPRESSED_TYPE:
        msg.format = "jpeg"
        msg.data = cv2.imencode(".jpg", np.zeros((16, 16, 3), np.uint8))[1].tobytes()
    return msg


def _time_msg(ns: int):
    from builtin_interfaces.msg import Time

    return Time(sec=int(ns // 1_000_000_000), nanosec=int(ns % 1_000_000_000))


def _node_diagnostics(arrays: list, node_ns: str) -> dict[str, Any] | None:
    """Return the last /diagnostics status (values, stamp) of the node in ``node_ns``."""
    prefix = _join(node_ns, "pose_lifter")
    for array in reversed(arrays):
        for status in array.status:
            if status.name.startswith(prefix + ":"):
                return dict(
                    name=status.name,
                    level=(
                        int.from_bytes(status.level, "little")
                        if isinstance(status.level, bytes)
                        else int(status.level)
                    ),
                    stamp_ns=stamp_ns(array.header),
                    values={kv.key: kv.value for kv in status.values},
                )
    return None
