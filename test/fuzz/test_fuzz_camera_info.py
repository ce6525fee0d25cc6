"""Fuzz suite: CameraInfo messages through LiftingPipeline."""

from __future__ import annotations

import math


from hypothesis import given
from hypothesis import strategies as st
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header

from pose_lifter.ros.parameters import Settings
from pose_lifter.ros.pipeline import LiftingPipeline
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


def _undistortable(info) -> bool:
    """Whether the node can undo ``info``'s distortion (none, or a supported model and D)."""
    d = list(info.d)
    if not all(math.isfinite(v) for v in d):
        return False
    if not any(d):
        return True
    if info.distortion_model == "plumb_bob":
        return len(d) in (4, 5, 8, 12, 14)
    return False  # "" and "?" are no model the node can undo


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
        expected = _sane(list(info.k)) and _plausible(list(info.k)) and _undistortable(info)
        assert accepted == expected
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
