"""Everything between 2D skeletons (+ latest CameraInfo) and the published 3D outputs.

:class:`LiftingPipeline` is ROS-graph-free: the node feeds it messages and publishes what it
returns, an offline bag replay does the same without a node, and an in-process image detector
can call :meth:`LiftingPipeline.process_arrays` with numpy keypoints directly.

Per message: validate each person (drops counted by reason in :attr:`LiftingPipeline.counters`,
valid persons still processed) -> keep the ``max_persons`` best -> lift all in one forward pass
-> place in metres (CameraInfo + height prior, else scaled at a default distance) -> track ids
-> optional transform to ``target_frame`` -> optional One-Euro smoothing -> Skeleton3DArray,
MarkerArray (in the node's own namespaces; stale slots deleted) and optional TF transforms.
Output headers carry the input's stamp; frame_id is the input's (camera optical frame) or
``target_frame``.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import TransformStamped
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from pose_lifter.ros.conversions import (
    Keypoints2D,
    body_transforms,
    camera_matrix_from_info,
    skeleton3d_array,
    skeletons_from_msg,
    stamp_nanoseconds,
    stamp_seconds,
)
from pose_lifter.ros.detections import VISION_MSGS, detection3d_array
from pose_lifter.ros.diagnostics import DropCounters
from pose_lifter.runtime.body_frames import FramePool
from pose_lifter.runtime.depth_placement import DepthSettings, place_with_depth
from pose_lifter.runtime.pairing import StampBuffer
from pose_lifter.runtime.camera import (
    check_distortion,
    undistort_pixels_checked,
    validate_intrinsics,
)
from pose_lifter.runtime.errors import CameraError
from pose_lifter.runtime.joints import NUM_JOINTS, ROOT
from pose_lifter.runtime.lifter import PoseLifter
from pose_lifter.ros import cdr
from pose_lifter.ros.markers import MarkerStyle, skeleton_markers, skeleton_markers_cdr
from pose_lifter.ros.parameters import Settings
from pose_lifter.runtime.person_boxes import body_centre
from pose_lifter.runtime.placement import (
    apply_rigid_transform,
    place_with_camera,
    place_without_camera,
    quaternion_to_matrix,
)
from pose_lifter.runtime.smoothing import SkeletonSmoother
from pose_lifter.runtime.tracking import PersonTracker
from pose_lifter_msgs.msg import Skeleton2DArray, Skeleton3D, Skeleton3DArray

#: Present joints farther than this from the image origin (pixels) are malformed input.
MAX_ABS_PIXEL = 1e5

#: ``lookup(target_frame, source_frame, stamp)`` -> the transform mapping source-frame points
#: into the target frame, or None when it is not available.
TransformLookup = Callable[[str, str, Time], "TransformStamped | None"]


@dataclass(frozen=True)
class Camera:
    """The intrinsics of the latest accepted CameraInfo and what they belong to.

    Attributes:
        matrix: ``K`` ``(3, 3)`` (``P``'s left 3x3 for a rectified stream).
        distortion: ``D`` (empty or all zero: none; always empty for a rectified stream).
        model: the CameraInfo's ``distortion_model``.
        frame_id: the CameraInfo's frame ("" = unknown, matches any input).
        size: ``(width, height)`` of the CameraInfo (``(0, 0)`` = unknown, matches any).
    """

    matrix: np.ndarray
    distortion: np.ndarray
    model: str
    frame_id: str
    size: tuple[int, int]

    def matches(self, frame_id: str, size: tuple[int, int]) -> bool:
        """Whether this CameraInfo describes an input from ``frame_id`` of ``size`` pixels."""
        frames_agree = not self.frame_id or not frame_id or self.frame_id == frame_id
        sizes_agree = 0 in self.size or 0 in size or tuple(self.size) == tuple(size)
        return frames_agree and sizes_agree

    @property
    def distorted(self) -> bool:
        return bool(np.any(self.distortion))


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


class LiftedPeople(NamedTuple):
    """The P people of one output message, as arrays (output frame, metres).

    Attributes:
        ids: P track ids. source_ids: P input ids (``Skeleton3D.source_id``).
        joints_m: ``(P, 15, 3)`` float64. confidence: ``(P, 15)``. scores: ``(P,)``.
        scale_sources: P ``Skeleton3D.SCALE_*`` values.
        frame_names: P TF frame names (frames ``body_<name>``, ``<joint>_<name>``), or None
            when TF is off.
    """

    ids: list[str]
    source_ids: list[str]
    joints_m: np.ndarray
    confidence: np.ndarray
    scores: np.ndarray
    scale_sources: list[int]
    frame_names: list[str] | None

    @property
    def body_frames(self) -> list[str] | None:
        """``Skeleton3D.body_frame`` of each person (None when TF is off)."""
        names = self.frame_names
        return None if names is None else [f"body_{name}" for name in names]


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
        return skeleton3d_array(
            self.header,
            people.ids,
            people.joints_m,
            people.confidence,
            people.scores,
            people.scale_sources,
            people.source_ids,
            people.body_frames,
        )

    @functools.cached_property
    def skeletons_cdr(self) -> bytes:
        """:attr:`skeletons` serialized (CDR), built from the arrays."""
        people, (sec, nanosec) = self.people, self.stamp
        count = len(people.ids)
        return cdr.skeleton3d_array_cdr(
            sec,
            nanosec,
            self.frame_id,
            people.ids,
            people.source_ids,
            people.body_frames or [""] * count,
            people.scores,
            people.joints_m,
            people.confidence,
            people.scale_sources,
        )

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


class _Placed(NamedTuple):
    """The persons :meth:`LiftingPipeline._lift_and_place` placed (Q of the P it was given).

    Attributes:
        joints_m: ``(Q, 15, 3)`` metres, camera optical frame.
        lifted: ``(Q,)`` their indices into the P input persons.
        scale_px: ``(P,)`` the 2D scales of all P persons (pixels).
        from_depth: ``(Q,)`` placed from the depth image (else from the stature prior).
        consistent: ``(Q, 15)`` joints whose measured depth agreed with the fit.
    """

    joints_m: np.ndarray
    lifted: np.ndarray
    scale_px: np.ndarray
    from_depth: np.ndarray
    consistent: np.ndarray


class LiftingPipeline:
    """Stateful lifting pipeline (camera intrinsics, tracks, filters, drop counters).

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
        self.lifter = lifter or PoseLifter(
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
        self.tracker = PersonTracker(id_prefix=prefix)
        self.marker_namespace = prefix  # the node's people: another node's stay untouched
        self._markers_shown = 0  # persons of the previous MarkerArray
        self.frame_pool = FramePool(prefix)  # TF frame names, reused after a track ends
        self.smoother = SkeletonSmoother()
        self.depth_frames = StampBuffer(settings.depth_buffer_size)  # (frame_id, depth_m)
        self.configure(settings)

    def configure(self, settings: Settings) -> None:
        """Apply (possibly changed) settings; tracks are kept, filters restart on change."""
        self.settings = settings
        self.lifter.min_joint_confidence = settings.min_joint_confidence
        self.lifter.min_joints = settings.min_joints
        self.tracker.max_distance = settings.tracking_max_distance
        self.tracker.max_missed = settings.tracking_max_missed
        self.depth_frames.resize(settings.depth_buffer_size)
        self.depth_settings = DepthSettings(
            window_px=settings.depth_window_px,
            min_depth_m=settings.depth_min_m,
            max_depth_m=max(settings.depth_max_m, settings.depth_min_m),
            min_joints=settings.depth_min_joints,
            noise_at_1m_m=settings.depth_noise_at_1m_m,
            refine=settings.depth_refine_joints,
            prior_height_m=settings.subject_height_m,
        )
        smoothing = (
            settings.smoothing_min_cutoff_hz,
            settings.smoothing_beta,
            settings.smoothing_d_cutoff_hz,
        )
        if smoothing != self.smoother.settings:
            self.smoother.configure(*smoothing)
        self.marker_style = MarkerStyle(
            self.marker_namespace,
            settings.markers_joint_diameter_m,
            settings.markers_bone_width_m,
            settings.markers_text_height_m,
            settings.markers_lifetime_s,
        )

    def set_camera_info(self, msg: CameraInfo) -> bool:
        """Use ``msg``'s intrinsics from now on; return whether accepted.

        Use ``msg``'s intrinsics from now on; a malformed one is counted and ignored (the previous
        valid intrinsics stay). Returns whether it was accepted.
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
        self.counters.persons_in += count
        frame_id, transform = target
        keep = self._valid_persons(keypoints_px, confidence, scores)
        keypoints_px, confidence, scores = keypoints_px[keep], confidence[keep], scores[keep]
        present = confidence > self.settings.min_joint_confidence
        keypoints_px = np.where(present[..., None], keypoints_px, 0.0)
        confidence = np.where(present, np.minimum(confidence, 1.0), 0.0)
        camera = self.camera
        if camera is not None and not camera.matches(header.frame_id, tuple(image_size)):
            self.counters.camera_info_mismatch += 1
            camera = None
        depth_m = None
        if self.settings.depth_enabled and camera is not None and len(keypoints_px):
            depth_m = self._paired_depth(header, tuple(image_size))
        sample_px = keypoints_px  # depth is aligned to the (distorted) colour image
        if camera is not None and camera.distorted and len(keypoints_px):
            undistorted, undone = undistort_pixels_checked(
                keypoints_px, camera.matrix, camera.distortion, camera.model
            )
            self.counters.distortion_kept += int((present & ~undone).sum())
            keypoints_px = np.where(present[..., None], undistorted, 0.0)
        placed = self._lift_and_place(
            keypoints_px, confidence, image_size, camera, depth_m, sample_px
        )
        joints_m, lifted, scale_px = placed.joints_m, placed.lifted, placed.scale_px
        from_depth, consistent = placed.from_depth, placed.consistent
        sources = keep[lifted].tolist()  # input index of each output person
        given = source_ids if source_ids is not None and len(source_ids) == count else None
        source_id_list = [(given[i] if given and given[i] else str(i)) for i in sources]
        keep = lifted
        ids = self.tracker.update(keypoints_px[keep], present[keep], scale_px[keep])
        confidence, scores = confidence[keep], np.clip(scores[keep], 0.0, 1.0)
        # from depth: present joints whose depth disagreed (hidden, off the body) count half
        confidence = np.where(from_depth[:, None] & ~consistent, 0.5 * confidence, confidence)
        centre_camera_m = body_centre(joints_m)
        to_output = None  # camera -> output frame rotation
        if transform is not None:
            rotation, translation = transform.transform.rotation, transform.transform.translation
            quaternion = (rotation.x, rotation.y, rotation.z, rotation.w)
            joints_m = apply_rigid_transform(
                joints_m, quaternion, (translation.x, translation.y, translation.z)
            )
            to_output = quaternion_to_matrix(quaternion)
        if self.settings.smoothing_enabled:
            joints_m = self.smoother(
                ids, joints_m, stamp_seconds(header.stamp), self.tracker.active_ids
            )
        self.counters.persons_out += len(ids)
        scale_source = (
            Skeleton3D.SCALE_ASSUMED_HEIGHT if camera is not None else Skeleton3D.SCALE_NORMALIZED
        )
        if from_depth.any():
            scale_source = np.where(from_depth, Skeleton3D.SCALE_DEPTH, scale_source).tolist()
        s = self.settings
        frames = self.frame_pool.names(ids, self.tracker.active_ids) if s.publish_tf else None
        if frames is not None and s.input_mode == "hri" and s.hri_body_frame_names:
            frames = list(source_id_list)  # REP 155: body_<ROS4HRI body id>
        count = len(ids)
        people = LiftedPeople(
            ids,
            source_id_list,
            joints_m,
            confidence,
            scores,
            scale_source if isinstance(scale_source, list) else [scale_source] * count,
            frames,
        )
        return PipelineOutput(
            (int(header.stamp.sec), int(header.stamp.nanosec)),
            frame_id,
            people,
            self.marker_style,
            self._shown(count),
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

    def _valid_persons(
        self, keypoints_px: np.ndarray, confidence: np.ndarray, scores: np.ndarray
    ) -> np.ndarray:
        """Select the persons to lift and count the rejected ones.

        Indices (ascending) of the persons to lift: finite, sane, and among the ``max_persons``
        best scores; counts every rejected person by reason.
        """
        count, limit = len(scores), self.settings.max_persons
        present = confidence > self.settings.min_joint_confidence  # NaN: not present
        sane = np.abs(keypoints_px) <= MAX_ABS_PIXEL  # NaN, inf and huge: not sane
        if (
            np.isfinite(confidence).all()
            and np.isfinite(scores).all()
            and sane.all(axis=2)[present].all()
        ):  # every person valid (the usual message): one pass
            if count <= limit:
                return np.arange(count)
            return np.sort(self._best(np.arange(count), scores, limit))
        finite_conf = np.isfinite(confidence).all(axis=1) & np.isfinite(scores)
        present = (
            np.where(finite_conf[:, None], confidence, 0.0) > self.settings.min_joint_confidence
        )
        finite_xy = np.isfinite(keypoints_px).all(axis=2)
        finite_kp = ~(present & ~finite_xy).any(axis=1)
        far = (np.abs(np.nan_to_num(keypoints_px)) > MAX_ABS_PIXEL).any(axis=2)
        huge = (present & finite_xy & far).any(axis=1)
        checks = (
            ("nonfinite_confidence", ~finite_conf),
            ("nonfinite_keypoint", finite_conf & ~finite_kp),
            ("huge_keypoint", finite_conf & finite_kp & huge),
        )
        for reason, rejected in checks:
            if rejected.any():
                self.counters.drop(reason, int(rejected.sum()))
        valid = np.flatnonzero(finite_conf & finite_kp & ~huge)
        return np.sort(self._best(valid, scores, limit))

    def _best(self, candidates: np.ndarray, scores: np.ndarray, limit: int) -> np.ndarray:
        """Keep the ``limit`` best-scoring ``candidates`` (ties: the earlier); count the rest."""
        if len(candidates) <= limit:
            return candidates
        self.counters.drop("too_many_persons", len(candidates) - limit)
        return candidates[np.argsort(-scores[candidates], kind="stable")[:limit]]

    def _lift_and_place(
        self,
        keypoints_px: np.ndarray,
        confidence: np.ndarray,
        image_size: tuple[int, int],
        camera: Camera | None,
        depth_m: np.ndarray | None = None,
        sample_px: np.ndarray | None = None,
    ) -> _Placed:
        """Lift all P persons in one pass and place them in metres (camera optical frame).

        ``sample_px`` ``(P, 15, 2)``: where to read the depth image (the keypoints before
        undistortion; default ``keypoints_px``). See :class:`_Placed`.
        """
        if len(keypoints_px) == 0:
            none = np.zeros((0, NUM_JOINTS), bool)
            return _Placed(
                np.zeros((0, NUM_JOINTS, 3)), np.zeros(0, int), np.zeros(0), none[:, 0], none
            )
        result = self.lifter.lift(keypoints_px, confidence, validated=True)
        finite = np.isfinite(result.joints_3d).all(axis=(1, 2))
        if (~result.valid).any():
            self.counters.drop("too_few_joints", int((~result.valid).sum()))
        if (result.valid & ~finite).any():
            self.counters.drop("nonfinite_output", int((result.valid & ~finite).sum()))
        lifted = np.flatnonzero(result.valid & finite)
        args = (result.joints_3d[lifted], result.root_px[lifted], result.scale_px[lifted])
        from_depth = np.zeros(len(lifted), bool)
        consistent = np.zeros((len(lifted), NUM_JOINTS), bool)
        if camera is not None:
            joints_m = place_with_camera(*args, camera.matrix, self.settings.subject_height_m)
            if depth_m is not None and len(lifted):
                present = confidence[lifted] > 0
                placement = place_with_depth(
                    *args,
                    keypoints_px[lifted],
                    present,
                    depth_m,
                    camera.matrix,
                    self.depth_settings,
                    prior_root_depth_m=joints_m[:, ROOT, 2],
                    sample_px=None if sample_px is None else sample_px[lifted],
                )
                from_depth, consistent = placement.placed, placement.consistent
                joints_m = np.where(from_depth[:, None, None], placement.joints_m, joints_m)
                self.counters.depth_fallback += int((~from_depth).sum())
                self.counters.persons_depth += int(from_depth.sum())
        else:
            joints_m = place_without_camera(
                *args, self.settings.subject_height_m, self.settings.default_distance_m, image_size
            )
        placed = np.isfinite(joints_m).all(axis=(1, 2))
        if (~placed).any():
            self.counters.drop("degenerate_pose", int((~placed).sum()))
        return _Placed(
            joints_m[placed],
            lifted[placed],
            result.scale_px,
            from_depth[placed],
            consistent[placed],
        )
