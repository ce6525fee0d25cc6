"""Conversions between ROS image message fields and RGB numpy arrays (no ROS imports).

Every RGB array here is ``(H, W, 3)`` uint8, C-contiguous, rows top to bottom, channels R, G, B.
The raw-image functions take and return the fields of ``sensor_msgs/Image`` (``height``,
``width``, ``encoding``, ``step`` = bytes per row, ``data``, ``is_bigendian``); the compressed
one takes the fields of ``sensor_msgs/CompressedImage`` (``format``, ``data``).
"""

from __future__ import annotations

import cv2
import numpy as np

from pose_lifter.runtime.detection.errors import ImageDecodeError

#: Raw encodings accepted and produced, with their bytes per pixel (all 8 bits per channel).
CHANNELS: dict[str, int] = {"rgb8": 3, "bgr8": 3, "mono8": 1, "rgba8": 4, "bgra8": 4}
SUPPORTED_ENCODINGS: tuple[str, ...] = tuple(CHANNELS)

_TO_RGB = {
    "bgr8": cv2.COLOR_BGR2RGB,
    "mono8": cv2.COLOR_GRAY2RGB,
    "rgba8": cv2.COLOR_RGBA2RGB,
    "bgra8": cv2.COLOR_BGRA2RGB,
}
_FROM_RGB = {
    "bgr8": cv2.COLOR_RGB2BGR,
    "mono8": cv2.COLOR_RGB2GRAY,
    "rgba8": cv2.COLOR_RGB2RGBA,
    "bgra8": cv2.COLOR_RGB2BGRA,
}
_JPEG_END = b"\xff\xd9"


def _check_encoding(encoding: str) -> int:
    if encoding not in CHANNELS:
        raise ImageDecodeError(
            f"unsupported image encoding {encoding!r}; supported: {', '.join(SUPPORTED_ENCODINGS)}"
        )
    return CHANNELS[encoding]


def as_byte_array(data) -> np.ndarray:
    """View ``data`` as a flat uint8 array, without copying where possible.

    View ``data`` (bytes, bytearray, memoryview, array.array('B'), uint8 ndarray or a list of ints)
    as a flat uint8 array, without copying where possible.
    """
    try:
        view = memoryview(data)
    except TypeError:
        return np.asarray(data, dtype=np.uint8).reshape(-1)
    if view.itemsize != 1:
        raise ImageDecodeError(
            f"image data must be a byte buffer, got items of {view.itemsize} "
            f"bytes ({type(data).__name__}, format {view.format!r})"
        )
    return np.frombuffer(data, dtype=np.uint8)


def image_to_rgb(
    height: int, width: int, encoding: str, step: int, data, is_bigendian: bool = False
) -> np.ndarray:
    """Convert ``sensor_msgs/Image`` fields to an RGB ``(height, width, 3)`` uint8 array.

    Args:
        height, width: image size in pixels (> 0).
        encoding: one of :data:`SUPPORTED_ENCODINGS`.
        step: bytes per row, >= ``width * channels``; extra bytes at the end of a row (row
            padding) are skipped.
        data: at least ``step * height`` bytes; bytes after that are ignored.
        is_bigendian: ignored (all supported encodings have 1-byte channels).

    Returns:
        A new array (never a view of ``data``); alpha channels are dropped, mono8 is replicated.

    Raises:
        ImageDecodeError: unsupported encoding (16UC1, mono16, bayer, yuv, ...), zero or
            negative size, step too small, or too few data bytes.
    """
    del is_bigendian  # 8-bit channels have no byte order
    channels = _check_encoding(encoding)
    height, width, step = int(height), int(width), int(step)
    if height <= 0 or width <= 0:
        raise ImageDecodeError(f"image has zero or negative size {width}x{height} (WxH)")
    row_bytes = width * channels
    if step < row_bytes:
        raise ImageDecodeError(
            f"step {step} is smaller than width*channels = {width}*{channels} = {row_bytes} "
            f"for {encoding}"
        )
    buffer = as_byte_array(data)
    if buffer.size < step * height:
        raise ImageDecodeError(
            f"image data has {buffer.size} bytes, need step*height = {step}*{height} = "
            f"{step * height} (truncated message?)"
        )
    pixels = buffer[: step * height].reshape(height, step)[:, :row_bytes]
    pixels = pixels.reshape(height, width, channels)
    if encoding == "rgb8":
        return pixels.copy()  # C-contiguous, detached from the message buffer
    return cv2.cvtColor(np.ascontiguousarray(pixels), _TO_RGB[encoding])


#: Largest decoded image accepted from a CompressedImage (pixels; 8K UHD is 33 MP).
MAX_DECODED_PIXELS = 50_000_000
#: Largest pixels-per-compressed-byte ratio accepted. Real JPEG/PNG frames stay far below it
#: (a flat black 640x480 JPEG is ~120 px/byte); a header forged to declare a huge image in a
#: tiny message (which libjpeg would decode with only a warning, allocating gigabytes) exceeds it.
MAX_PIXELS_PER_BYTE = 2_000
_JPEG_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def declared_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` a JPEG (SOF segment) or PNG (IHDR) header declares; None if neither."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:2] != b"\xff\xd8":
        return None
    index = 2
    while index + 9 <= len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        if marker in _JPEG_SOF_MARKERS:
            return (
                int.from_bytes(data[index + 7 : index + 9], "big"),
                int.from_bytes(data[index + 5 : index + 7], "big"),
            )
        index += 2 + int.from_bytes(data[index + 2 : index + 4], "big")
    return None


def _check_declared_size(buffer: np.ndarray) -> None:
    size = declared_size(buffer[:65536].tobytes())
    if size is None:
        return
    pixels = size[0] * size[1]
    if pixels > MAX_DECODED_PIXELS or pixels > MAX_PIXELS_PER_BYTE * buffer.size:
        raise ImageDecodeError(
            f"compressed image declares {size[0]}x{size[1]} pixels in {buffer.size} bytes; "
            f"refused (limits: {MAX_DECODED_PIXELS} pixels, {MAX_PIXELS_PER_BYTE} pixels per byte)"
        )


def decode_compressed(format: str, data) -> np.ndarray:  # noqa: A002 (the message field name)
    """Decode ``sensor_msgs/CompressedImage`` fields (JPEG or PNG) to RGB ``(H, W, 3)`` uint8.

    Args:
        format: the message's ``format``: ``"jpeg"``, ``"png"``, or image_transport's
            ``"<encoding>; jpeg compressed <encoding>"`` / ``"...; png compressed ..."``.
            ``compressedDepth`` (16-bit depth) is refused.
        data: the compressed bytes. Grey and 16-bit PNGs are converted to 8-bit RGB.

    Raises:
        ImageDecodeError: unsupported format, empty, truncated or corrupt data.
    """
    fmt = format.lower()
    if "compresseddepth" in fmt or not any(name in fmt for name in ("jpeg", "jpg", "png")):
        raise ImageDecodeError(
            f"unsupported compressed image format {format!r}; supported: jpeg, png"
        )
    buffer = as_byte_array(data)
    if buffer.size == 0:
        raise ImageDecodeError("compressed image data is empty")
    # libjpeg decodes a truncated JPEG to a partly grey image with only a warning: refuse it.
    if buffer[:2].tobytes() == b"\xff\xd8" and _JPEG_END not in buffer[-16:].tobytes():
        raise ImageDecodeError(
            f"JPEG data ({buffer.size} bytes) has no end-of-image marker " "(truncated)"
        )
    _check_declared_size(buffer)
    try:
        bgr = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    except cv2.error as exc:
        raise ImageDecodeError(f"cannot decode {format!r} image: {exc}") from exc
    if bgr is None:
        raise ImageDecodeError(
            f"cannot decode {buffer.size} bytes as a {format!r} image (corrupt or wrong format)"
        )
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def rgb_to_image_fields(
    rgb: np.ndarray, encoding: str = "rgb8"
) -> tuple[int, int, str, int, bytes]:
    """Encode an RGB ``(H, W, 3)`` uint8 array as ``sensor_msgs/Image`` fields.

    Returns:
        ``(height, width, encoding, step, data)`` with ``step = width * channels`` (no row
        padding); alpha is 255 for rgba8/bgra8, mono8 is the luma (ITU-R BT.601).

    Raises:
        ImageDecodeError: ``rgb`` is not ``(H, W, 3)`` uint8 with H, W > 0, or the encoding is
            not one of :data:`SUPPORTED_ENCODINGS`.
    """
    channels = _check_encoding(encoding)
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3 or 0 in rgb.shape:
        raise ImageDecodeError(
            f"expected an RGB (H, W, 3) uint8 array, got shape {rgb.shape} dtype {rgb.dtype}"
        )
    height, width = rgb.shape[:2]
    out = (
        rgb if encoding == "rgb8" else cv2.cvtColor(np.ascontiguousarray(rgb), _FROM_RGB[encoding])
    )
    return height, width, encoding, width * channels, np.ascontiguousarray(out).tobytes()
