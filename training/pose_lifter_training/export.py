"""Export a lifter's safetensors weights to the ONNX file the CPU runtime loads.

The graph is :class:`pose_lifter.runtime.model.LifterModel` traced by ``torch.onnx.export`` (inputs
``keypoints_2d`` ``(N, 15, 2)`` and ``mask`` ``(N, 15)``, or a temporal lifter's windows and
``age_s``; output ``joints_3d`` ``(N, 15, 3|4)``, dynamic batch; see
:mod:`pose_lifter.runtime.onnx_backend`). Its metadata carries the weights' own
metadata plus ``source_sha256`` of the safetensors file, which the runtime checks.
"""

from __future__ import annotations

import io
from pathlib import Path

import onnx
import torch

from pose_lifter.runtime.joints import NUM_JOINTS
from pose_lifter.runtime.model import LifterModel
from pose_lifter.runtime.model_files import SOURCE_SHA256_KEY, file_sha256, onnx_path_for
from pose_lifter.runtime.onnx_backend import AGE_INPUT_NAME, INPUT_NAMES, OUTPUT_NAME
from pose_lifter.runtime.weights import load_lifter

DEFAULT_OPSET = 17


def export_onnx_bytes(
    model: LifterModel, metadata: dict[str, str] | None = None, opset: int = DEFAULT_OPSET
) -> bytes:
    """Serialise ``model`` (on the CPU, eval mode) to an ONNX graph with string ``metadata``."""
    model = model.to("cpu").eval()
    window = model.config.window
    names = list(INPUT_NAMES)
    if window > 1:
        example = (
            torch.zeros(2, window, NUM_JOINTS, 2),
            torch.ones(2, window, NUM_JOINTS),
            torch.zeros(2, window),
        )
        names.append(AGE_INPUT_NAME)
    else:
        example = (torch.zeros(2, NUM_JOINTS, 2), torch.ones(2, NUM_JOINTS))
    buffer = io.BytesIO()
    torch.onnx.export(
        model,
        example,
        buffer,
        input_names=names,
        output_names=[OUTPUT_NAME],
        opset_version=opset,
        dynamo=False,
        dynamic_axes={name: {0: "batch"} for name in (*names, OUTPUT_NAME)},
    )
    graph = onnx.load_from_string(buffer.getvalue())
    for key, value in sorted((metadata or {}).items()):
        graph.metadata_props.add(key=key, value=str(value))
    return graph.SerializeToString()


def export_onnx(
    weights: str | Path, output: str | Path | None = None, opset: int = DEFAULT_OPSET
) -> Path:
    """Write the ONNX file of the lifter in ``weights`` (default: next to it, ``.onnx``)."""
    model, metadata = load_lifter(weights, "cpu")
    metadata = {**metadata, SOURCE_SHA256_KEY: file_sha256(weights)}
    output = Path(output) if output else onnx_path_for(weights)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(export_onnx_bytes(model, metadata, opset))
    return output
