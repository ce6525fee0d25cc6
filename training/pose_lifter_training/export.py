"""Export a lifter to ONNX: inputs ``keypoints_2d`` (N,15,2) normalised, ``mask`` (N,15) float;
output ``joints_3d`` (N,15,3)."""
from __future__ import annotations

from pathlib import Path

import torch

from pose_lifter.joints import NUM_JOINTS
from pose_lifter.weights import load_lifter


def export_onnx(weights: str | Path, output: str | Path, opset: int = 17) -> Path:
    model, _ = load_lifter(weights, "cpu")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    example = (torch.zeros(2, NUM_JOINTS, 2), torch.ones(2, NUM_JOINTS))
    torch.onnx.export(model, example, str(output), input_names=["keypoints_2d", "mask"],
                      output_names=["joints_3d"], opset_version=opset, dynamo=False,
                      dynamic_axes={"keypoints_2d": {0: "batch"}, "mask": {0: "batch"},
                                    "joints_3d": {0: "batch"}})
    return output
