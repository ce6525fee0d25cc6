"""Fuzz suite: raw and compressed images and the node's image stage."""

from __future__ import annotations

import array
import random
import struct

import cv2
import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from sensor_msgs.msg import CompressedImage, Image

from pose_lifter.runtime.detection.errors import ImageDecodeError
from pose_lifter.runtime.detection.images import CHANNELS, decode_compressed, image_to_rgb
from pose_lifter.ros.diagnostics import DROP_REASONS
from pose_lifter.ros import image_input
from pose_lifter.ros.parameters import Settings

from fuzzing import fuzz, header, _scaled  # shared strategies and checks

ENCODINGS = [
    *CHANNELS,
    "16UC1",
    "mono16",
    "bayer_rggb8",
    "yuv422",
    "32FC1",
    "RGB8",
    "rgb8 ",
    "",
    "8UC3",
    "rgb16",
]
REFERENCE = {
    "rgb8": [0, 1, 2],
    "bgr8": [2, 1, 0],
    "mono8": [0, 0, 0],
    "rgba8": [0, 1, 2],
    "bgra8": [2, 1, 0],
}


@st.composite
def raw_image(draw):
    """Draw raw image fields: plausible small images with wrong sizes.

    ``(height, width, encoding, step, data)`` fields: plausible small images with wrong
    steps/lengths, zero and huge dimensions, unknown encodings.
    """
    encoding = draw(st.one_of(st.sampled_from(ENCODINGS), st.text(max_size=8)))
    channels = CHANNELS.get(encoding, 3)
    small = st.integers(0, 24)
    height = draw(st.one_of(small, st.sampled_from([2**16, 2**31 - 1, 2**32 - 1])))
    width = draw(st.one_of(small, st.sampled_from([2**16, 2**31 - 1, 2**32 - 1])))
    step = draw(
        st.one_of(
            st.integers(0, 8).map(lambda pad: width * channels + pad),
            st.integers(0, 200),
            st.sampled_from([2**32 - 1, width * channels - 1]),
        )
    )
    need = step * height
    length = draw(st.one_of(st.sampled_from([need, need - 1, need + 3, 0]), st.integers(0, 2000)))
    length = max(0, min(length, 200_000))
    data = random.Random(draw(st.integers(0, 2**32))).randbytes(length)
    as_array = draw(st.booleans())  # rclpy gives array('B'); other callers bytes
    return height, width, encoding, step, array.array("B", data) if as_array else data


@fuzz()
@given(raw_image())
@example((0, 10, "rgb8", 30, b""))
@example((2**32 - 1, 2**32 - 1, "rgb8", 2**32 - 1, b"\x00" * 12))
def test_image_to_rgb_decodes_exactly_or_raises_image_decode_error(fields):
    height, width, encoding, step, data = fields
    try:
        rgb = image_to_rgb(height, width, encoding, step, data)
    except ImageDecodeError:
        assert (
            encoding not in CHANNELS
            or height <= 0
            or width <= 0
            or step < width * CHANNELS[encoding]
            or len(data) < step * height
        )
        return
    channels = CHANNELS[encoding]
    assert rgb.shape == (height, width, 3) and rgb.dtype == np.uint8 and rgb.flags.c_contiguous
    pixels = np.frombuffer(bytes(data), np.uint8)[: step * height].reshape(height, step)
    pixels = pixels[:, : width * channels].reshape(height, width, channels)
    if encoding == "mono8":
        expected = np.repeat(pixels, 3, axis=2)
    else:
        expected = pixels[..., REFERENCE[encoding]]
    np.testing.assert_array_equal(rgb, expected)


def _encoded(ext: str, seed: int, size: int) -> bytes:
    image = np.random.default_rng(seed).integers(0, 256, (size, size + 3, 3), np.uint8)
    ok, buffer = cv2.imencode(ext, image)
    assert ok
    return buffer.tobytes()


COMPRESSED = {
    "jpeg": [_encoded(".jpg", s, 8 + 4 * s) for s in range(3)],
    "png": [_encoded(".png", s, 8 + 4 * s) for s in range(3)],
}
FORMATS = [
    "jpeg",
    "png",
    "jpg",
    "rgb8; jpeg compressed bgr8",
    "bgr8; png compressed bgr8",
    "16UC1; compressedDepth png",
    "tiff",
    "",
    "JPEG",
]


def declared_pixels(data: bytes) -> int:
    """Width x height a JPEG (SOFn) or PNG (IHDR) header declares (0 when none is found)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width * height
    index = 2
    while data[:2] == b"\xff\xd8" and index + 9 <= len(data):
        if data[index] != 0xFF:
            index += 1
            continue
        marker = data[index + 1]
        if marker in (
            0xC0,
            0xC1,
            0xC2,
            0xC3,
            0xC5,
            0xC6,
            0xC7,
            0xC9,
            0xCA,
            0xCB,
            0xCD,
            0xCE,
            0xCF,
        ):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width * height
        index += 2 + struct.unpack(">H", data[index + 2 : index + 4])[0]
    return 0


@st.composite
def compressed(draw):
    kind = draw(st.sampled_from(sorted(COMPRESSED)))
    data = bytearray(draw(st.sampled_from(COMPRESSED[kind])))
    for _ in range(draw(st.integers(0, 6))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=32)) + data[cut:]
    fmt = draw(st.one_of(st.just(kind), st.sampled_from(FORMATS), st.text(max_size=10)))
    return fmt, bytes(data)


#: Images whose header declares more pixels than this are not decoded by the fuzz property
#: (memory on a shared 2-core machine); test_forged_jpeg_size_refused covers them.
MAX_FUZZ_PIXELS = 1 << 20


@fuzz()
@given(st.one_of(compressed(), st.tuples(st.sampled_from(FORMATS), st.binary(max_size=200))))
def test_decode_compressed_only_image_decode_errors(sample):
    fmt, data = sample
    assume(declared_pixels(data) <= MAX_FUZZ_PIXELS)
    try:
        rgb = decode_compressed(fmt, array.array("B", data))
    except ImageDecodeError:
        return
    assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype == np.uint8 and rgb.size > 0


def _forged_jpeg(side: int) -> bytes:
    data = bytearray(COMPRESSED["jpeg"][0])
    index = data.find(b"\xff\xc0")
    data[index + 5 : index + 9] = struct.pack(">HH", side, side)
    return bytes(data)


def test_forged_jpeg_size_refused():
    data = _forged_jpeg(4000)  # 48 MB decoded; 30000 is the real attack, too big for a test
    assert declared_pixels(data) == 4000 * 4000
    with pytest.raises(ImageDecodeError):
        decode_compressed("jpeg", data)


@pytest.fixture(scope="module")
def image_stage():
    return image_input, image_input.ImageDetectionStage(Settings())


@st.composite
def image_message(draw):
    height, width, encoding, step, data = draw(raw_image())
    # keep decodable ones small: the detector runs on each
    assume(height <= 48 and width <= 48)
    return Image(
        header=draw(header),
        height=height,
        width=width,
        encoding=encoding,
        is_bigendian=draw(st.integers(0, 255)),
        step=step,
        data=bytes(data),
    )


@fuzz(_scaled(0.3, 30))
@given(
    st.one_of(image_message(), st.builds(lambda h, s: ("compressed", h, s), header, compressed()))
)
def test_image_stage_only_image_decode_errors(image_stage, msg):
    module, stage = image_stage
    try:
        if isinstance(msg, tuple):
            _, head, (fmt, data) = msg
            assume(declared_pixels(data) <= MAX_FUZZ_PIXELS)
            msg = CompressedImage(header=head, format=fmt, data=data)
            out = stage.process_compressed(msg)
        else:
            out = stage.process_image(msg)
    except ImageDecodeError as error:
        assert module.image_drop_reason(error) in DROP_REASONS
        return
    height, width = out.rgb.shape[:2]
    assert out.rgb.dtype == np.uint8 and out.rgb.shape[2] == 3
    assert out.keypoints_msg.header == msg.header
    assert (out.keypoints_msg.image_width, out.keypoints_msg.image_height) == (width, height)
    assert np.isfinite(out.detections.keypoints_2d).all()
