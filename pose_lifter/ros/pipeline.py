"""Messages <-> arrays around the per-frame people step, and the published outputs.

:class:`LiftingPipeline` is ROS-graph-free: the node feeds it messages and publishes what it
returns, offline replay does the same without a node, and an in-process image detector calls
:meth:`LiftingPipeline.process_arrays` with numpy keypoints. Its own work is the messages' side:
shapes, the CameraInfo and depth image that belong to an input, the transform to
``target_frame`` and the outputs (``Skeleton3DArray``, ``MarkerArray`` in the node's own
namespaces, TF frames, ``Detection3DArray``). Everything between the 2D people and their 3D
skeletons is :class:`pose_lifter.runtime.people_step.PeopleStep`, which ``pose-lifter-train
evaluate`` drives too. Output headers carry the input's stamp; frame_id is the input's (camera
optical frame) or ``target_frame``.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import TransformStamped
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from pose_lifter.ros.conversions import (
    LiftedPeople,
    Keypoints2D,
    body_transforms,
    camera_matrix_from_info,
    skeleton3d_array,
    skeletons_from_msg,
    stamp_nanoseconds,
    stamp_seconds,
)
from pose_lifter.ros.detections import VISION_MSGS, detection3d_array
from pose_lifter.ros import cdr
from pose_lifter.ros.markers import MarkerStyle, skeleton_markers, skeleton_markers_cdr
from pose_lifter.ros.parameters import Settings
from pose_lifter.runtime.body_frames import FramePool
from pose_lifter.runtime.camera import Camera, check_distortion, validate_intrinsics
from pose_lifter.runtime.counters import DropCounters
from pose_lifter.runtime.depth_placement import DepthSettings
from pose_lifter.runtime.errors import CameraError
from pose_lifter.runtime.joints import NUM_JOINTS
from pose_lifter.runtime.lifter import PoseLifter
from pose_lifter.runtime.pairing import StampBuffer
from pose_lifter.runtime.people_step import OneEuroSettings, PeopleStep, StepSettings
from pose_lifter.runtime.person_boxes import body_centre
from pose_lifter.runtime.placement import apply_rigid_transform, quaternion_to_matrix
from pose_lifter.runtime.temporal import TemporalSettings
from pose_lifter_msgs.msg import Skeleton2DArray, Skeleton3D, Skeleton3DArray

#: ``lookup(target_frame, source_frame, stamp)`` -> the transform mapping source-frame points
#: into the target frame, or None when it is not available.
TransformLookup = Callable[[str, str, Time], "TransformStamped | None"]


def camera_from_info(msg: CameraInfo, rectified: bool) -> Camera:
    """Return the :class:`Camera` of a CameraInfo (``rectified``: use P, no distortion).

    Raises:
        CameraError: a malformed K or P, or distortion that cannot be undone.
    """
    if rectified:
        matrix = validate_intrinsics(np.asarray(msg.p, dtype=np.float64).reshape(3, 4)[:, :3])
        distortion = np.zeros(0)
    else:
        matrix = camera_matrix_from_info(msg)
        distortion = np.asarray(msg.d, dtype=np.float64)
    if not np.all(np.isfinite(distortion)):
        raise CameraError("distortion coefficients contain NaN or inf")
    camera = Camera(
        matrix, distortion, msg.distortion_model, msg.header.frame_id, (msg.width, msg.height)
    )
    if camera.distorted:
        check_distortion(matrix, distortion, msg.distortion_model, camera.size)
    return camera


@dataclass(frozen=True)
class PipelineOutput:
    """What one input message produces (all with the input's stamp).

    The people are kept as arrays; each output message is built (and cached) the first time it
    is asked for, as an rclpy message or as its serialized CDR (the node publishes those: the
    same bytes, a fraction of the cost; ``test/test_cdr.py``).

    Attributes:
        stamp: ``(sec, nanosec)`` of the input's header (every output's stamp).
        frame_id: the outputs' frame (the input's camera frame or ``target_frame``).
        people: the lifted persons (possibly none).
        marker_style: how the markers are drawn. markers_shown: persons of the previous
            MarkerArray (their slots beyond these people's are deleted).
        source_indices: per output person, its index in the input message.
        centre_camera_m: ``(P, 3)`` body centres in the camera optical frame.
        to_output: ``(3, 3)`` camera -> output frame rotation, None when the same frame.
    """

    stamp: tuple[int, int]
    frame_id: str
    people: LiftedPeople
    marker_style: MarkerStyle
    markers_shown: int
    source_indices: list[int]
    centre_camera_m: np.ndarray
    to_output: np.ndarray | None = None

    def with_source_ids(self, source_ids: list[str]) -> "PipelineOutput":
        """Return this output with other ``Skeleton3D.source_id`` values (nothing built yet)."""
        return dataclasses.replace(self, people=self.people._replace(source_ids=source_ids))

    @functools.cached_property
    def header(self) -> Header:
        """Return a new Header message with the outputs' stamp and frame."""
        sec, nanosec = self.stamp
        return Header(stamp=Time(sec=sec, nanosec=nanosec), frame_id=self.frame_id)

    @functools.cached_property
    def skeletons(self) -> Skeleton3DArray:
        """Return the people as a ``Skeleton3DArray``."""
        people = self.people
        return skeleton3d_array(self.header, people)

    @functools.cached_property
    def skeletons_cdr(self) -> bytes:
        """:attr:`skeletons` serialized (CDR), built from the arrays."""
        sec, nanosec = self.stamp
        return cdr.skeleton3d_array_cdr(sec, nanosec, self.frame_id, self.people)

    @functools.cached_property
    def markers(self) -> MarkerArray:
        """Return the MarkerArray: stale slots deleted, 3 markers per person (see markers)."""
        people = self.people
        return skeleton_markers(
            self.header,
            people.ids,
            people.joints_m,
            people.confidence,
            self.marker_style,
            self.markers_shown,
        )

    @functools.cached_property
    def markers_cdr(self) -> bytes:
        """:attr:`markers` serialized (CDR), built from the arrays."""
        people = self.people
        return skeleton_markers_cdr(
            self.stamp,
            self.frame_id,
            people.ids,
            people.joints_m,
            people.confidence,
            self.marker_style,
            self.markers_shown,
        )

    @functools.cached_property
    def transforms(self) -> list[TransformStamped]:
        """REP 155 TF frames per person when ``publish_tf`` is set, else empty."""
        frames = self.people.frame_names
        if frames is None:
            return []
        return body_transforms(self.header, frames, self.people.joints_m)

    @functools.cached_property
    def detections(self):
        """Return the people as ``vision_msgs/Detection3DArray`` (same header and ids).

        None when vision_msgs is not installed (:mod:`~pose_lifter.ros.detections`).
        """
        if VISION_MSGS is None:
            return None
        people = self.people
        return detection3d_array(
            self.header,
            people.ids,
            people.joints_m,
            people.scores,
            people.scale_sources,
            self.centre_camera_m,
            self.to_output,
        )


class LiftingPipeline:
    """Messages in, outputs out, around one :class:`PeopleStep` (camera, depth, TF, counters).

    Args:
        settings: see :class:`pose_lifter.ros.parameters.Settings`.
        lifter: a loaded lifter; None = load one from ``settings`` (model_path, device).
        transform_lookup: needed when ``settings.target_frame`` is set (see
            :data:`TransformLookup`); the node passes a tf2 buffer lookup.
        id_prefix: start of the track ids when ``settings.tracking_id_prefix`` is empty (the
            node passes one derived from its name); ``p`` when both are empty.
    """

    def __init__(
        self,
        settings: Settings,
        lifter: PoseLifter | None = None,
        transform_lookup: TransformLookup | None = None,
        id_prefix: str = "",
    ):
        lifter = lifter or PoseLifter(
            settings.lifter_path,
            settings.device,
            fallback_to_cpu=settings.allow_cpu_fallback,
            backend=settings.lifter_backend,
            num_threads=settings.cpu_threads,
        )
        self.transform_lookup = transform_lookup
        self.counters = DropCounters()
        #: Why the last message gave no output (malformed_message, tf_unavailable), or None.
        self.drop_reason: str | None = None
        self.camera_matrix: np.ndarray | None = None  # K of the latest accepted CameraInfo
        self.camera: Camera | None = None
        prefix = settings.tracking_id_prefix or id_prefix or "p"
        self.step = PeopleStep(lifter, step_settings(settings), prefix, self.counters)
        self.marker_namespace = prefix  # the node's people: another node's stay untouched
        self._markers_shown = 0  # persons of the previous MarkerArray
        self.frame_pool = FramePool(prefix)  # TF frame names, reused after a track ends
        self.depth_frames = StampBuffer(settings.depth_buffer_size)  # (frame_id, depth_m)
        self.configure(settings)

    @property
    def lifter(self) -> PoseLifter:
        return self.step.lifter

    def configure(self, settings: Settings) -> None:
        """Apply (possibly changed) settings; tracks are kept, filters restart on change."""
        self.settings = settings
        self.step.configure(step_settings(settings))
        self.depth_frames.resize(settings.depth_buffer_size)
        self.marker_style = MarkerStyle(
            self.marker_namespace,
            settings.markers_joint_diameter_m,
            settings.markers_bone_width_m,
            settings.markers_text_height_m,
            settings.markers_lifetime_s,
        )

    def set_camera_info(self, msg: CameraInfo) -> bool:
        """Use ``msg``'s intrinsics from now on; return whether accepted.

        A malformed one is counted and ignored (the previous valid intrinsics stay).
        """
        self.counters.camera_infos_in += 1
        try:
            self.camera = camera_from_info(msg, self.settings.camera_info_rectified)
        except CameraError:
            self.counters.drop("bad_camera_info")
            return False
        self.camera_matrix = self.camera.matrix
        return True

    def set_depth(self, header: Header, depth_m: np.ndarray) -> None:
        """Keep a decoded depth image ``(H, W)`` metres for pairing by stamp (``header``)."""
        self.depth_frames.add(stamp_nanoseconds(header.stamp), (header.frame_id, depth_m))

    def _paired_depth(self, header: Header, image_size: tuple[int, int]) -> np.ndarray | None:
        """Return the depth image paired with an input (nearest stamp within the slop), or None."""
        slop_ns = round(self.settings.depth_slop_s * 1e9)
        paired = self.depth_frames.nearest(stamp_nanoseconds(header.stamp), slop_ns)
        if paired is None:
            self.counters.depth_unpaired += 1
            return None
        frame_id, depth_m = paired
        size = (depth_m.shape[1], depth_m.shape[0])
        frames_agree = not frame_id or not header.frame_id or frame_id == header.frame_id
        if not frames_agree or (0 not in image_size and tuple(image_size) != size):
            self.counters.depth_mismatch += 1
            return None
        return depth_m

    def process(self, msg: Skeleton2DArray | Keypoints2D) -> PipelineOutput | None:
        """Lift one Skeleton2DArray (or its arrays); None when the message is dropped (counted)."""
        people = msg.people if isinstance(msg, Keypoints2D) else skeletons_from_msg(msg)
        return self.process_arrays(
            people.keypoints,
            people.confidence,
            people.scores,
            msg.header,
            (msg.image_width, msg.image_height),
            people.ids,
        )

    def process_arrays(
        self,
        keypoints_px: np.ndarray,
        confidence: np.ndarray,
        scores: np.ndarray,
        header: Header,
        image_size: tuple[int, int],
        source_ids: list[str] | None = None,
    ) -> PipelineOutput | None:
        """Lift the persons of one image given as arrays.

        Args:
            keypoints_px: ``(P, 15, 2)`` pixels (image frame: origin top-left, x right, y down).
            confidence: ``(P, 15)`` in [0, 1]; at or below ``min_joint_confidence`` = missing.
            scores: ``(P,)`` person scores in [0, 1].
            header: stamp and camera optical frame of the image.
            image_size: ``(width, height)`` pixels; ``(0, 0)`` when unknown.
            source_ids: the P input ids (Skeleton2D.id); empty ones become the index.

        Returns:
            The outputs, or None when the message is dropped (wrong shapes, no transform to
            ``target_frame``; the reason is in :attr:`drop_reason`); every drop is counted in
            :attr:`counters`.
        """
        self.counters.messages_in += 1
        self.drop_reason = None
        keypoints_px = np.asarray(keypoints_px, dtype=np.float64)
        confidence = np.asarray(confidence, dtype=np.float64)
        scores = np.asarray(scores, dtype=np.float64)
        count = len(keypoints_px) if keypoints_px.ndim else -1
        if (
            keypoints_px.shape != (count, NUM_JOINTS, 2)
            or confidence.shape != (count, NUM_JOINTS)
            or scores.shape != (count,)
        ):
            return self._drop_message("malformed_message")
        target = self._output_frame(header)
        if target is None:
            return self._drop_message("tf_unavailable")
        frame_id, transform = target
        camera = self.camera
        if camera is not None and not camera.matches(header.frame_id, tuple(image_size)):
            self.counters.camera_info_mismatch += 1
            camera = None
        depth_m = None
        if self.settings.depth_enabled and camera is not None and count > 0:
            depth_m = self._paired_depth(header, tuple(image_size))
        frame = self.step.step(
            keypoints_px,
            confidence,
            scores,
            stamp_seconds(header.stamp),
            tuple(image_size),
            camera,
            depth_m,
        )
        given = source_ids if source_ids is not None and len(source_ids) == count else None
        sources = frame.sources.tolist()
        source_id_list = [(given[i] if given and given[i] else str(i)) for i in sources]
        joints_m, velocity = frame.joints_m, frame.velocity_mps
        centre_camera_m = body_centre(joints_m)
        to_output = None  # camera -> output frame rotation
        if transform is not None:
            rotation, translation = transform.transform.rotation, transform.transform.translation
            quaternion = (rotation.x, rotation.y, rotation.z, rotation.w)
            joints_m = apply_rigid_transform(
                joints_m, quaternion, (translation.x, translation.y, translation.z)
            )
            to_output = quaternion_to_matrix(quaternion)
            velocity = velocity @ to_output.T
        ids = frame.ids
        scale_source = (
            Skeleton3D.SCALE_ASSUMED_HEIGHT if frame.placed else Skeleton3D.SCALE_NORMALIZED
        )
        scale_sources = np.where(frame.from_depth, Skeleton3D.SCALE_DEPTH, scale_source).tolist()
        s = self.settings
        frames = self.frame_pool.names(ids, self.step.active_ids) if s.publish_tf else None
        if frames is not None and s.input_mode == "hri" and s.hri_body_frame_names:
            frames = list(source_id_list)  # REP 155: body_<ROS4HRI body id>
        people = LiftedPeople(
            ids,
            source_id_list,
            joints_m,
            frame.confidence,
            frame.scores,
            scale_sources,
            frames,
            velocity,
            frame.uncertainty_m,
            frame.coverage,
        )
        return PipelineOutput(
            (int(header.stamp.sec), int(header.stamp.nanosec)),
            frame_id,
            people,
            self.marker_style,
            self._shown(len(ids)),
            sources,
            centre_camera_m,
            to_output,
        )

    def _shown(self, count: int) -> int:
        """Return the persons the previous MarkerArray showed; remember ``count`` for the next."""
        previous, self._markers_shown = self._markers_shown, count
        return previous

    def _drop_message(self, reason: str) -> None:
        self.counters.drop(reason)
        self.drop_reason = reason
        return None

    def _output_frame(self, header: Header) -> tuple[str, TransformStamped | None] | None:
        """Return the output frame and the transform into it.

        ``(frame_id, transform from the camera frame or None for identity)`` of the outputs, or
        None when ``target_frame`` is set and its transform is not available.
        """
        target = self.settings.target_frame
        if not target or target == header.frame_id:
            return header.frame_id, None
        if self.transform_lookup is None:
            return None
        transform = self.transform_lookup(target, header.frame_id, header.stamp)
        return None if transform is None else (target, transform)


def step_settings(settings: Settings) -> StepSettings:
    """Return the :class:`StepSettings` the node's parameters ``settings`` describe."""
    return StepSettings(
        min_joint_confidence=settings.min_joint_confidence,
        min_joints=settings.min_joints,
        max_persons=settings.max_persons,
        subject_height_m=settings.subject_height_m,
        default_distance_m=settings.default_distance_m,
        tracking_max_distance=settings.tracking_max_distance,
        tracking_max_missed=settings.tracking_max_missed,
        history_max_age_s=settings.temporal_history_max_age_s,
        temporal=TemporalSettings(
            enabled=settings.temporal_enabled,
            pose_acceleration=settings.temporal_pose_acceleration,
            root_acceleration=settings.temporal_root_acceleration,
            root_depth_std=settings.temporal_root_depth_std,
            max_gap_s=settings.temporal_max_gap_s,
            bone_lengths=settings.temporal_bone_lengths,
        ),
        one_euro=OneEuroSettings(
            settings.smoothing_enabled,
            settings.smoothing_min_cutoff_hz,
            settings.smoothing_beta,
            settings.smoothing_d_cutoff_hz,
        ),
        depth=DepthSettings(
            window_px=settings.depth_window_px,
            min_depth_m=settings.depth_min_m,
            max_depth_m=max(settings.depth_max_m, settings.depth_min_m),
            min_joints=settings.depth_min_joints,
            noise_at_1m_m=settings.depth_noise_at_1m_m,
            refine=settings.depth_refine_joints,
            prior_height_m=settings.subject_height_m,
        ),
        uncertainty_coverage=settings.uncertainty_coverage,
    )
