"""The shipped ONNX lifters are the shipped weights: equal to torch and to a fresh export."""

import numpy as np
import pytest
import torch

from pose_lifter.runtime.errors import ModelLoadError
from pose_lifter.runtime.model_files import (
    SHIPPED_MODELS,
    SOURCE_SHA256_KEY,
    file_sha256,
    shipped_model_path,
)
from pose_lifter.runtime.onnx_backend import OnnxLifterSession, load_onnx_lifter
from pose_lifter.runtime.weights import load_lifter
from pose_lifter_training.export import export_onnx, export_onnx_bytes

TOLERANCE = 1e-5


def _inputs(count=64):
    rng = np.random.default_rng(3)
    keypoints = rng.normal(size=(count, 15, 2)).astype(np.float32)
    mask = rng.random((count, 15)) > 0.15  # some missing joints: the predicted-2D branch
    return keypoints, mask


@pytest.mark.parametrize("name", SHIPPED_MODELS)
def test_shipped_onnx_matches_torch_and_a_fresh_export(name):
    weights = shipped_model_path(name)
    model, metadata = load_lifter(weights)
    keypoints, mask = _inputs()
    with torch.inference_mode():
        expected = model(torch.from_numpy(keypoints), torch.from_numpy(mask)).numpy()
    shipped = load_onnx_lifter(weights)
    assert shipped.metadata[SOURCE_SHA256_KEY] == file_sha256(weights)
    assert shipped.metadata["config"] == metadata["config"]
    assert np.abs(shipped(keypoints, mask) - expected).max() < TOLERANCE
    fresh = OnnxLifterSession(export_onnx_bytes(model, metadata))
    assert np.abs(fresh(keypoints, mask) - shipped(keypoints, mask)).max() < TOLERANCE


def test_stale_onnx_next_to_retrained_weights_is_refused(tmp_path):
    weights = tmp_path / "lifter.safetensors"
    weights.write_bytes(shipped_model_path("default").read_bytes())
    export_onnx(weights)
    load_onnx_lifter(weights)  # the pair matches
    weights.write_bytes(shipped_model_path("supervised").read_bytes())  # retrained, not exported
    with pytest.raises(ModelLoadError, match="stale export"):
        load_onnx_lifter(weights)
