"""Depth images from ROS message fields to metres (numpy + OpenCV, no ROS imports).

Every depth array here is ``(H, W)`` float32 metres along the camera's optical axis (z), rows
top to bottom, NaN where the sensor has no value (0 in 16UC1, 0/NaN/inf in 32FC1).

- raw ``sensor_msgs/Image``: ``16UC1`` / ``mono16`` in millimetres (REP 118), ``32FC1`` in
  metres; either byte order (``is_bigendian``); rows may be padded (``step``).
- ``sensor_msgs/CompressedImage`` of image_transport's ``compressedDepth`` plugin: ``format``
  ``"16UC1; compressedDepth png"`` (a 12-byte header, then a 16-bit PNG of the millimetres) or
  ``"32FC1; compressedDepth png"`` (the header holds ``depthQuantA, depthQuantB``; the PNG holds
  ``depthQuantA / z + depthQuantB``, 0 = no value). RVL-coded payloads are refused.
"""

from __future__ import annotations

import struct

import cv2
import numpy as np

from pose_lifter.runtime.detection.errors import ImageDecodeError
from pose_lifter.runtime.detection.images import as_byte_array

#: Raw depth encodings and their ``(numpy dtype, metres per stored unit)``.
DEPTH_ENCODINGS: dict[str, tuple[str, float]] = {
    "16UC1": ("u2", 1e-3),
    "mono16": ("u2", 1e-3),
    "32FC1": ("f4", 1.0),
}
#: Bytes of compressed_depth_image_transport's ConfigHeader (int32 format, float32[2] params).
COMPRESSED_DEPTH_HEADER = 12


def depth_from_image_fields(
    height: int, width: int, encoding: str, step: int, data, is_bigendian: bool = False
) -> np.ndarray:
    """Decode a raw depth ``sensor_msgs/Image`` to metres ``(H, W)`` float32 (NaN = no value).

    Raises:
        ImageDecodeError: an encoding that is not depth, a zero size, or data shorter than
            ``height * step`` / a ``step`` smaller than a row.
    """
    if encoding not in DEPTH_ENCODINGS:
        raise ImageDecodeError(
            f"unsupported depth encoding {encoding!r}; supported: {', '.join(DEPTH_ENCODINGS)}"
        )
    kind, metres_per_unit = DEPTH_ENCODINGS[encoding]
    itemsize = int(kind[1])
    if height <= 0 or width <= 0:
        raise ImageDecodeError(f"depth image has zero size ({width}x{height})")
    if step < width * itemsize:
        raise ImageDecodeError(f"step {step} is smaller than a row ({width} x {itemsize} bytes)")
    buffer = as_byte_array(data)
    if buffer.size < height * step:
        raise ImageDecodeError(
            f"depth data has {buffer.size} bytes, {height} rows of step {step} need "
            f"{height * step}"
        )
    rows = buffer[: height * step].reshape(height, step)[:, : width * itemsize]
    dtype = np.dtype(kind).newbyteorder(">" if is_bigendian else "<")
    values = np.ascontiguousarray(rows).view(dtype).reshape(height, width)
    return _to_metres(values, metres_per_unit)


def depth_from_compressed(format: str, data) -> np.ndarray:
    """Decode a ``compressedDepth`` ``sensor_msgs/CompressedImage`` to metres (see module doc).

    Raises:
        ImageDecodeError: not a compressedDepth format, RVL coding, a truncated header, a
            payload that is not a 16-bit single-channel PNG, or 32FC1 quantisation that gives
            no positive depth (A not a positive number).
    """
    parts = [p.strip() for p in format.split(";")]
    encoding = parts[0]
    if len(parts) < 2 or not parts[1].startswith("compressedDepth"):
        raise ImageDecodeError(
            f"not a compressedDepth image (format {format!r}); depth images come as raw "
            "16UC1/32FC1 or through image_transport's compressedDepth"
        )
    if "rvl" in parts[1].lower():
        raise ImageDecodeError(f"RVL-coded compressedDepth is not supported (format {format!r})")
    if encoding not in ("16UC1", "32FC1"):
        raise ImageDecodeError(f"compressedDepth of {encoding!r}: only 16UC1 and 32FC1")
    buffer = as_byte_array(data)
    if buffer.size <= COMPRESSED_DEPTH_HEADER:
        raise ImageDecodeError(f"compressedDepth data of {buffer.size} bytes has no payload")
    _, quant_a, quant_b = struct.unpack("<iff", buffer[:COMPRESSED_DEPTH_HEADER].tobytes())
    png = cv2.imdecode(buffer[COMPRESSED_DEPTH_HEADER:], cv2.IMREAD_UNCHANGED)
    if png is None or png.dtype != np.uint16 or png.ndim != 2:
        raise ImageDecodeError("compressedDepth payload is not a 16-bit single-channel PNG")
    if encoding == "16UC1":
        return _to_metres(png, 1e-3)
    if not (np.isfinite(quant_a) and np.isfinite(quant_b) and quant_a > 0):
        raise ImageDecodeError(
            f"compressedDepth 32FC1 with quantisation A={quant_a}, B={quant_b}: A must be a "
            "positive number (depth = A / (value - B))"
        )
    stored = png.astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        depth = np.float32(quant_a) / (stored - np.float32(quant_b))
    # values at or below B would be depths <= 0 (or inf): no value there, as 0 in 16UC1
    return _to_metres(np.where(png > 0, depth, np.nan), 1.0)


def _to_metres(values: np.ndarray, metres_per_unit: float) -> np.ndarray:
    depth = values.astype(np.float32) * np.float32(metres_per_unit)
    return np.where(np.isfinite(depth) & (depth > 0), depth, np.nan).astype(np.float32)


def depth_to_millimetres(depth_m: np.ndarray) -> np.ndarray:
    """Encode metres ``(H, W)`` as 16UC1 stores them: uint16 millimetres, NaN/holes -> 0."""
    millimetres = np.nan_to_num(np.asarray(depth_m, np.float64) * 1000.0, nan=0.0)
    return np.clip(np.round(millimetres), 0, 65535).astype(np.uint16)


def compress_depth_png(depth_m: np.ndarray) -> tuple[str, bytes]:
    """Encode metres ``(H, W)`` as ``("16UC1; compressedDepth png", data)`` (mm, NaN -> 0).

    What image_transport's compressedDepth plugin publishes for a 16UC1 image (for sample bags
    and tests).
    """
    ok, png = cv2.imencode(".png", depth_to_millimetres(depth_m))
    if not ok:
        raise ImageDecodeError("could not PNG-encode the depth image")
    header = struct.pack("<iff", 0, 0.0, 0.0)
    return "16UC1; compressedDepth png", header + png.tobytes()
