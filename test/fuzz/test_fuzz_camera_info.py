"""Fuzz suite: CameraInfo messages through LiftingPipeline."""

from __future__ import annotations

import math

import cv2
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header

from pose_lifter.ros.parameters import Settings
from pose_lifter.ros.pipeline import LiftingPipeline
from pose_lifter.runtime.camera import undistort_pixels
from pose_lifter_msgs.msg import Skeleton2DArray

from fuzzing import (  # shared strategies and checks
    check_output,
    dimension,
    f64,
    fuzz,
    GOOD_K,
    header,
    MAX_PERSONS,
    _plausible,
    SAMPLE_PERSONS,
    _sane,
    _skeleton,
    skeleton_message,
    snapshot,
)


@st.composite
def camera_info(draw):
    k = draw(
        st.one_of(
            st.lists(f64, min_size=9, max_size=9),
            st.builds(lambda i, v: GOOD_K[:i] + [v] + GOOD_K[i + 1 :], st.integers(0, 8), f64),
        )
    )
    return CameraInfo(
        header=draw(header),
        width=draw(dimension),
        height=draw(dimension),
        k=k,
        d=draw(st.lists(f64, max_size=8)),
        distortion_model=draw(st.sampled_from(["", "plumb_bob", "?"])),
    )


def _supported(info) -> bool:
    """Tell whether ``info``'s distortion is one the node handles.

    None, or plumb_bob of a valid length with finite coefficients ("" and "?" are no model the
    node can undo).
    """
    d = list(info.d)
    if not all(math.isfinite(v) for v in d):
        return False
    if not any(d):
        return True
    return info.distortion_model == "plumb_bob" and len(d) in (4, 5, 8, 12, 14)


def _undoes_the_lens(info) -> bool:
    """Tell whether the node's undistortion inverts OpenCV's distortion over the image.

    An independent check of an accepted CameraInfo: a 9 x 9 grid of image pixels undistorted by
    the node (:func:`~pose_lifter.runtime.camera.undistort_pixels`) and distorted again by
    OpenCV's own lens model (``cv2.projectPoints`` of the rays ``K^-1 [u v 1]``) comes back
    within 1 px.
    """
    d = np.asarray(info.d, dtype=np.float64)
    k = np.asarray(info.k, dtype=np.float64).reshape(3, 3)
    (fx, skew, cx), (_, fy, cy) = k[0], k[1]
    k = np.array([[fx, skew, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])  # the entries a camera uses
    width, height = (info.width, info.height) if info.width and info.height else (0, 0)
    if not width:
        width, height = max(2 * k[0, 2], 2.0), max(2 * k[1, 2], 2.0)
    u, v = np.meshgrid(np.linspace(0, width - 1, 9), np.linspace(0, height - 1, 9))
    grid = np.stack([u.ravel(), v.ravel()], axis=-1)
    as_given = np.asarray(info.k, np.float64).reshape(3, 3)
    ideal = undistort_pixels(grid, as_given, d, info.distortion_model)
    rays = (np.linalg.inv(k) @ np.c_[ideal, np.ones(len(ideal))].T).T
    with np.errstate(all="ignore"):
        seen, _ = cv2.projectPoints(
            rays.reshape(-1, 1, 3), np.zeros(3), np.zeros(3), np.eye(3), d
        )
    back = (k @ np.c_[seen.reshape(-1, 2), np.ones(len(grid))].T).T[:, :2]
    error = np.linalg.norm(back - grid, axis=1)
    return bool(np.isfinite(error).all() and error.max() <= 1.0)


#: Lenses of real cameras, which must be accepted: (model, D, K, image size).
REAL_LENSES = (
    ("plumb_bob", [-0.28, 0.07, 0.0002, -0.0001, 0.0], [600, 0, 320, 0, 600, 240, 0, 0, 1],
     (640, 480)),
    ("plumb_bob", [0.1, -0.25, 0.001, 0.0005, 0.12], GOOD_K, (1280, 720)),
)


def test_lenses_of_real_cameras_are_accepted_and_undone(lifter):
    pipeline = LiftingPipeline(Settings(), lifter)
    for model, d, k, (width, height) in REAL_LENSES:
        info = CameraInfo(k=k, d=d, distortion_model=model, width=width, height=height)
        assert pipeline.set_camera_info(info), d
        assert _undoes_the_lens(info), d


def test_absurd_intrinsics_rejected(lifter):
    pipeline = LiftingPipeline(Settings(), lifter)
    for fx in (1e-300, 1.8e305):
        assert not pipeline.set_camera_info(CameraInfo(k=[fx] + GOOD_K[1:]))


@fuzz()
@given(st.lists(camera_info(), min_size=1, max_size=4), skeleton_message(max_size=4))
def test_camera_info_never_raises_bad_ones_counted(lifter, infos, sample):
    pipeline = LiftingPipeline(Settings().replace(max_persons=MAX_PERSONS), lifter)
    for info in infos:
        before = pipeline.counters.dropped["bad_camera_info"]
        accepted = pipeline.set_camera_info(info)
        k = list(info.k)
        if not (_sane(k) and _plausible(k) and _supported(info)):
            assert not accepted, info  # malformed: always refused
        elif accepted and any(info.d):
            assert _undoes_the_lens(info), info  # accepted: its lens is really undone
        assert pipeline.counters.dropped["bad_camera_info"] == before + (not accepted)
        if accepted:
            assert pipeline.camera_matrix.reshape(-1).tolist() == list(info.k)
    msg, kinds = sample
    k = pipeline.camera_matrix
    plausible = k is None or _plausible(k.reshape(-1).tolist())  # see test_absurd_intrinsics_...
    check_output(pipeline, msg, kinds, snapshot(pipeline), pipeline.process(msg), plausible)
    # a sane camera afterwards: every valid person is placed metrically again
    assert pipeline.set_camera_info(CameraInfo(k=GOOD_K))
    valid = Skeleton2DArray(
        header=Header(frame_id="cam"), skeletons=[_skeleton(*SAMPLE_PERSONS[0])]
    )
    out = pipeline.process(valid)
    assert len(out.skeletons.skeletons) == 1 and out.skeletons.skeletons[0].scale_source == 1


def test_a_distortion_that_cannot_be_undone_is_refused_and_the_person_lifted(lifter):
    pipeline = LiftingPipeline(Settings(), lifter)
    person = Skeleton2DArray(skeletons=[_skeleton(*SAMPLE_PERSONS[0])])
    for d in ([0.0, 0.0, 2.3e7, 0.0, 0.0], [-2.3e7, 0.0, 0.0, 0.0, 0.0], [-0.5, 0, 0, 0, 0]):
        info = CameraInfo(k=GOOD_K, d=d, distortion_model="plumb_bob", width=1280, height=720)
        assert not pipeline.set_camera_info(info), d
        out = pipeline.process(person)
        assert len(out.skeletons.skeletons) == 1, pipeline.counters.dropped
    assert pipeline.counters.dropped["bad_camera_info"] == 3
    assert sum(pipeline.counters.dropped.values()) == 3  # the person never dropped


def test_joints_the_lens_model_cannot_undo_are_kept_as_measured(lifter):
    """A joint beyond the image where the lens model has no inverse stays as measured.

    A strong lens, valid over its image: the joint is counted distortion_kept, the person is
    lifted and placed.
    """
    pipeline = LiftingPipeline(Settings(), lifter)
    # r_d = r (1 - 0.25 r^2) rises to 0.77 (the image corner: 0.73) and falls after it
    info = CameraInfo(
        k=GOOD_K, d=[-0.25, 0.0, 0, 0, 0], distortion_model="plumb_bob", width=1280, height=720
    )
    assert pipeline.set_camera_info(info)
    points, score = SAMPLE_PERSONS[0]
    far = list(points)
    far[4] = (3000.0, 360.0, 0.9)  # the right wrist at r_d = 2.36: no undistorted point
    out = pipeline.process(Skeleton2DArray(skeletons=[_skeleton(far, score)]))
    (skeleton,) = out.skeletons.skeletons
    assert skeleton.scale_source == 1 and pipeline.counters.distortion_kept == 1
    assert all(math.isfinite(k.position.z) for k in skeleton.keypoints)
