"""Fuzz suite: depth images (raw and compressedDepth) and placement from depth."""

from __future__ import annotations

import random
import struct

import cv2
import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st
from sensor_msgs.msg import CompressedImage, Image

from pose_lifter.ros.parameters import Settings
from pose_lifter.ros.processing import MessageProcessor
from pose_lifter.runtime.depth_image import (
    DEPTH_ENCODINGS,
    depth_from_compressed,
    depth_from_image_fields,
)
from pose_lifter.runtime.depth_placement import place_with_depth
from pose_lifter.runtime.detection.errors import ImageDecodeError
from pose_lifter.runtime.lifter import PoseLifter

from fuzzing import fuzz, header

K = np.array([[500.0, 0.0, 16.0], [0.0, 500.0, 12.0], [0.0, 0.0, 1.0]])


@st.composite
def raw_depth(draw):
    """Draw raw depth fields: right and wrong sizes, steps, byte orders and encodings."""
    encoding = draw(
        st.one_of(st.sampled_from([*DEPTH_ENCODINGS, "rgb8", "16SC1", ""]), st.text(max_size=6))
    )
    itemsize = 4 if encoding == "32FC1" else 2
    height = draw(st.one_of(st.integers(0, 12), st.sampled_from([2**16, 2**32 - 1])))
    width = draw(st.one_of(st.integers(0, 12), st.sampled_from([2**16, 2**32 - 1])))
    step = draw(
        st.one_of(
            st.integers(0, 6).map(lambda pad: width * itemsize + pad),
            st.integers(0, 100),
            st.sampled_from([2**32 - 1, max(width * itemsize - 1, 0)]),
        )
    )
    need = min(step * height, 100_000)
    length = draw(
        st.one_of(st.sampled_from([need, max(need - 1, 0), need + 3, 0]), st.integers(0, 500))
    )
    data = random.Random(draw(st.integers(0, 2**32))).randbytes(min(length, 100_000))
    return height, width, encoding, step, data, draw(st.booleans())


@fuzz()
@given(raw_depth())
@example((2**32 - 1, 2**32 - 1, "16UC1", 2**32 - 1, b"\x00" * 8, False))
def test_raw_depth_decodes_to_metres_or_raises_image_decode_error(fields):
    height, width, encoding, step, data, big = fields
    try:
        depth = depth_from_image_fields(height, width, encoding, step, data, big)
    except ImageDecodeError:
        return
    assert depth.shape == (height, width) and depth.dtype == np.float32
    valid = depth[np.isfinite(depth)]
    assert (valid > 0).all()
    kind, scale = DEPTH_ENCODINGS[encoding]
    dtype = np.dtype(kind).newbyteorder(">" if big else "<")
    rows = np.frombuffer(data[: height * step], np.uint8).reshape(height, step)
    stored = rows[:, : width * dtype.itemsize].copy().view(dtype).astype(np.float64) * scale
    expected_valid = np.isfinite(stored) & (stored > 0)
    assert np.array_equal(np.isfinite(depth), expected_valid)
    assert np.allclose(depth[expected_valid], stored[expected_valid], rtol=1e-6)


@st.composite
def compressed_depth(draw):
    """Draw compressedDepth payloads: valid PNGs, truncated or flipped ones, garbage, formats."""
    fmt = draw(
        st.sampled_from(
            [
                "16UC1; compressedDepth png",
                "32FC1; compressedDepth png",
                "16UC1; compressedDepth rvl",
                "16UC1; compressedDepth",
                "8UC1; compressedDepth png",
                "png",
                "",
            ]
        )
    )
    rng = random.Random(draw(st.integers(0, 2**32)))
    mm = np.array([[rng.randrange(65536) for _ in range(6)] for _ in range(4)], np.uint16)
    png = cv2.imencode(".png", mm)[1].tobytes()
    payload = struct.pack("<iff", 0, draw(st.floats(allow_nan=True, width=32)), 1.0) + png
    mutation = draw(st.sampled_from(["none", "truncate", "flip", "garbage", "header only"]))
    if mutation == "truncate":
        payload = payload[: rng.randrange(len(payload))]
    elif mutation == "flip":
        flipped = bytearray(payload)
        flipped[rng.randrange(len(flipped))] ^= 0xFF
        payload = bytes(flipped)
    elif mutation == "garbage":
        payload = rng.randbytes(rng.randrange(200))
    elif mutation == "header only":
        payload = payload[:12]
    return fmt, payload


@fuzz()
@given(compressed_depth())
def test_compressed_depth_decodes_or_raises_image_decode_error(case):
    fmt, payload = case
    try:
        depth = depth_from_compressed(fmt, payload)
    except ImageDecodeError:
        return
    assert depth.ndim == 2 and depth.dtype == np.float32
    valid = depth[np.isfinite(depth)]
    assert (valid > 0).all() and np.isfinite(valid).all()  # no value is NaN, never <= 0


@fuzz(max_examples=60)
@given(raw_depth(), compressed_depth(), header)
def test_the_step_never_raises_on_depth_messages_and_counts_every_bad_one(raw, compressed, stamp):
    step = MessageProcessor(Settings().replace(depth_enabled=True), PoseLifter(device="cpu"))
    height, width, encoding, row_step, data, big = raw
    messages = [
        Image(
            header=stamp,
            height=height,
            width=width,
            encoding=encoding,
            step=row_step,
            data=data,
            is_bigendian=big,
        ),
        CompressedImage(header=stamp, format=compressed[0], data=compressed[1]),
    ]
    accepted = [step.set_depth(msg) for msg in messages]
    assert step.counters.dropped["bad_depth_image"] == accepted.count(False)
    assert len(step.pipeline.depth_frames) == accepted.count(True)


@fuzz()
@given(
    st.integers(0, 2**32),
    st.sampled_from(["noise", "holes", "nan", "inf", "negative", "huge", "zero"]),
)
def test_placement_from_any_depth_image_is_finite_or_not_placed(seed, kind):
    rng = np.random.default_rng(seed)
    people = int(rng.integers(1, 4))
    units = rng.normal(0, 1, (people, 15, 3))
    keypoints = rng.uniform(-50, 80, (people, 15, 2))  # some outside the 32x24 image
    present = rng.random((people, 15)) < 0.8
    depth = rng.uniform(0.1, 12.0, (24, 32)).astype(np.float32)
    if kind == "holes":
        depth[rng.random(depth.shape) < 0.9] = np.nan
    elif kind in ("nan", "inf"):
        depth[:] = np.nan if kind == "nan" else np.inf
    elif kind == "negative":
        depth = -depth
    elif kind == "huge":
        depth *= 1e30
    elif kind == "zero":
        depth[:] = 0.0
    result = place_with_depth(
        units,
        rng.uniform(0, 32, (people, 2)),
        rng.uniform(0.0, 40.0, people),
        keypoints,
        present,
        depth,
        K,
        prior_root_depth_m=rng.choice([np.nan, 3.0], people),
    )
    placed = result.placed
    assert np.isfinite(result.joints_m[placed]).all()
    assert np.isnan(result.joints_m[~placed]).all()
    assert (result.root_depth_m[placed] > 0).all()
    assert not result.consistent[~placed].any()
