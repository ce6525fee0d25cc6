"""Fuzz suite: Skeleton2DArray messages, mutated CDR bytes and raw arrays (LiftingPipeline)."""

from __future__ import annotations


import numpy as np
from hypothesis import example, given, note
from hypothesis import strategies as st
from rclpy.serialization import deserialize_message, serialize_message
from std_msgs.msg import Header

from pose_lifter.ros.cdr import CdrFormatError, keypoints2d_from_cdr
from pose_lifter.ros.conversions import skeletons_from_msg
from pose_lifter.runtime.joints import NUM_JOINTS
from pose_lifter_msgs.msg import Skeleton2DArray

from fuzzing import (  # shared strategies and checks
    check_output,
    delta,
    f32,
    fuzz,
    mutated_cdr,
    skeleton_message,
    snapshot,
)


@given(skeleton_message())
def test_pipeline_never_raises_counts_every_person(pipeline, sample):
    msg, kinds = sample
    note(f"kinds={kinds}")
    before = snapshot(pipeline)
    check_output(pipeline, msg, kinds, before, pipeline.process(msg))


@fuzz()
@given(mutated_cdr())
def test_pipeline_on_mutated_cdr_bytes(pipeline, data):
    """Read corrupted keypoints_2d bytes as the node does: refused clearly, or lifted.

    The node reads its input's CDR itself (:func:`keypoints2d_from_cdr`): bytes it cannot read
    raise only :class:`CdrFormatError` (the node counts ``malformed_message``); what it reads
    is handled like any message.
    """
    try:
        msg = keypoints2d_from_cdr(data)
    except CdrFormatError:
        return
    before = snapshot(pipeline)
    check_output(pipeline, msg, ["?"] * len(msg.people.ids), before, pipeline.process(msg))


@fuzz()
@given(skeleton_message())
def test_cdr_decoder_reads_what_rclpy_reads(sample):
    msg, _ = sample
    data = serialize_message(msg)
    decoded, reference = keypoints2d_from_cdr(data), deserialize_message(data, Skeleton2DArray)
    assert decoded.header == reference.header
    assert (decoded.image_width, decoded.image_height) == (
        reference.image_width,
        reference.image_height,
    )
    expected = skeletons_from_msg(reference)
    np.testing.assert_array_equal(decoded.people.keypoints, expected.keypoints)
    np.testing.assert_array_equal(decoded.people.confidence, expected.confidence)
    np.testing.assert_array_equal(decoded.people.scores, expected.scores)
    assert decoded.people.ids == expected.ids


@fuzz()
@given(st.binary(max_size=600))
def test_cdr_decoder_refuses_garbage_clearly(data):
    try:
        keypoints2d_from_cdr(b"\x00\x01\x00\x00" + data)
    except CdrFormatError as error:
        assert str(error)


arrays = st.one_of(
    st.builds(
        lambda shape, fill: np.full(shape, fill),
        st.lists(st.integers(0, 16), min_size=1, max_size=4).map(tuple),
        f32,
    ),  # 0-d: see below
    st.builds(lambda n, fill: np.full((n, NUM_JOINTS, 2), fill), st.integers(0, 3), f32),
)


@fuzz()
@given(arrays, arrays, arrays)
@example(np.zeros((1, 15, 2)), np.ones((1, 15)), np.ones(1))
@example(np.zeros((2, 15, 2)), np.ones((2, 15)), np.ones(3))
def test_process_arrays_wrong_shapes_counted(pipeline, keypoints, conf, scores):
    before = snapshot(pipeline)
    out = pipeline.process_arrays(keypoints, conf, scores, Header(frame_id="cam"), (640, 480))
    d = delta(before, snapshot(pipeline))
    shapes_ok = (
        keypoints.ndim == 3
        and keypoints.shape[1:] == (NUM_JOINTS, 2)
        and conf.shape == keypoints.shape[:2]
        and scores.shape == keypoints.shape[:1]
    )
    if shapes_ok:
        assert out is not None and d["persons_in"] == len(keypoints)
    else:
        assert out is None and d["dropped.malformed_message"] == 1 and d["persons_in"] == 0


def test_process_arrays_scalar_counted_as_malformed(pipeline):
    before = snapshot(pipeline)
    assert (
        pipeline.process_arrays(np.float64(1.0), np.ones(1), np.ones(1), Header(), (0, 0)) is None
    )
    assert delta(before, snapshot(pipeline))["dropped.malformed_message"] == 1
