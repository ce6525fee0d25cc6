"""ONNX export of a lifter and an ONNX Runtime session with the lifter's call signature.

The graph takes ``keypoints_2d`` ``(N, 15, 2)`` float32 (normalised) and ``mask`` ``(N, 15)``
float32 (1 = present) and returns ``joints_3d`` ``(N, 15, 3)``; the batch axis is dynamic.
Weights always come from the safetensors file; the ONNX graph is built from them in memory.
"""
from __future__ import annotations

import io

import numpy as np
import torch

from pose_lifter.joints import NUM_JOINTS
from pose_lifter.model import LifterModel

INPUT_NAMES = ("keypoints_2d", "mask")
OUTPUT_NAME = "joints_3d"


def export_onnx_bytes(model: LifterModel, opset: int = 17) -> bytes:
    """Serialise ``model`` (on the CPU, eval mode) to an ONNX graph."""
    model = model.to("cpu").eval()
    example = (torch.zeros(2, NUM_JOINTS, 2), torch.ones(2, NUM_JOINTS))
    buffer = io.BytesIO()
    torch.onnx.export(model, example, buffer, input_names=list(INPUT_NAMES), output_names=[OUTPUT_NAME],
                      opset_version=opset, dynamo=False,
                      dynamic_axes={name: {0: "batch"} for name in (*INPUT_NAMES, OUTPUT_NAME)})
    return buffer.getvalue()


class OnnxLifterSession:
    """``session(keypoints (N,15,2) float32, mask (N,15) bool|float) -> (N,15,3) float32``."""

    def __init__(self, onnx_model: bytes, num_threads: int = 1):
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(int(num_threads), 1)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self._session = ort.InferenceSession(onnx_model, options, providers=["CPUExecutionProvider"])

    def __call__(self, keypoints: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feeds = {INPUT_NAMES[0]: np.ascontiguousarray(keypoints, np.float32),
                 INPUT_NAMES[1]: np.ascontiguousarray(mask, np.float32)}
        return self._session.run(None, feeds)[0]
