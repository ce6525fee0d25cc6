"""Fuzz suite: Skeleton2DArray messages, mutated CDR bytes and raw arrays (LiftingPipeline)."""

from __future__ import annotations


import numpy as np
from hypothesis import example, given, note
from hypothesis import strategies as st
from rclpy.serialization import deserialize_message
from std_msgs.msg import Header

from pose_lifter.runtime.joints import NUM_JOINTS
from pose_lifter_msgs.msg import Skeleton2DArray

from fuzzing import (  # shared strategies and checks
    with_fuzz_seed,
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


@with_fuzz_seed
@fuzz(decodes_raw_cdr=True)
@given(mutated_cdr())
def test_pipeline_on_mutated_cdr_bytes(pipeline, data):
    """Handle what the middleware deserializes from corrupted bytes.

    What the middleware can still deserialize from corrupted bytes is handled like any message
    (what it cannot is dropped inside the RMW: see test_dds_stream_...).
    """
    try:
        msg = deserialize_message(data, Skeleton2DArray)
    except Exception as error:  # rclpy's RMWError (Fast CDR exception)
        assert type(error).__name__ in ("RMWError", "RCLError"), repr(error)
        return
    before = snapshot(pipeline)
    check_output(pipeline, msg, ["?"] * len(msg.skeletons), before, pipeline.process(msg))


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
