"""Export a lifter to an ONNX file (the graph of :mod:`pose_lifter.onnx_backend`)."""
from __future__ import annotations

from pathlib import Path

from pose_lifter.onnx_backend import export_onnx_bytes
from pose_lifter.weights import load_lifter


def export_onnx(weights: str | Path, output: str | Path, opset: int = 17) -> Path:
    """Write the ONNX graph of the lifter in ``weights`` to ``output``."""
    model, _ = load_lifter(weights, "cpu")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(export_onnx_bytes(model, opset))
    return output
