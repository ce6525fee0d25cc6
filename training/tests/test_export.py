"""The shipped ONNX lifters are the shipped weights: equal to torch and to a fresh export."""

import numpy as np
import pytest
import torch

from pose_lifter.runtime.errors import ModelLoadError
from pose_lifter.runtime.model import LifterConfig, LifterModel
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


def _inputs(count=64, window=1):
    """Random inputs of a lifter (a temporal one's windows, with frames absent and ages)."""
    rng = np.random.default_rng(3)
    frames = (count, window) if window > 1 else (count,)
    keypoints = rng.normal(size=(*frames, 15, 2)).astype(np.float32)
    mask = rng.random((*frames, 15)) > 0.15  # some missing joints: the predicted-2D branch
    if window == 1:
        return keypoints, mask
    present = np.arange(window)[None] < rng.integers(1, window + 1, (count, 1))
    mask &= present[..., None]
    age = np.where(present, np.arange(window) / 25.0, 0.0).astype(np.float32)
    return keypoints, mask, age


@pytest.mark.parametrize("name", SHIPPED_MODELS)
def test_shipped_onnx_matches_torch_and_a_fresh_export(name):
    weights = shipped_model_path(name)
    model, metadata = load_lifter(weights)
    inputs = _inputs(window=model.config.window)
    with torch.inference_mode():
        expected = model(*(torch.from_numpy(a) for a in inputs)).numpy()
    shipped = load_onnx_lifter(weights)
    assert shipped.metadata[SOURCE_SHA256_KEY] == file_sha256(weights)
    assert shipped.metadata["config"] == metadata["config"]
    assert np.abs(shipped(*inputs) - expected).max() < TOLERANCE
    fresh = OnnxLifterSession(export_onnx_bytes(model, metadata))
    assert np.abs(fresh(*inputs) - shipped(*inputs)).max() < TOLERANCE


def test_a_temporal_lifter_with_uncertainty_exports_its_windows_and_sigma():
    config = LifterConfig(
        hidden_size=32, refine_2d=True, predict_uncertainty=True, window=5, flip_average=True
    )
    model = LifterModel(config).eval()
    inputs = _inputs(count=7, window=5)
    with torch.inference_mode():
        expected = model(*(torch.from_numpy(a) for a in inputs)).numpy()
    assert expected.shape == (7, 15, 4)
    session = OnnxLifterSession(export_onnx_bytes(model, {"format": "pose_lifter"}))
    assert np.abs(session(*inputs) - expected).max() < TOLERANCE
    # a new track: one frame only; the lift does not depend on the absent frames' values
    keypoints, mask, age = inputs
    alone = mask.copy()
    alone[:, 1:] = False
    other = keypoints.copy()
    other[:, 1:] += 5.0
    np.testing.assert_allclose(
        session(keypoints, alone, age * 0), session(other, alone, age * 0), atol=1e-6
    )


def test_stale_onnx_next_to_retrained_weights_is_refused(tmp_path):
    weights = tmp_path / "lifter.safetensors"
    weights.write_bytes(shipped_model_path("default").read_bytes())
    export_onnx(weights)
    load_onnx_lifter(weights)  # the pair matches
    weights.write_bytes(shipped_model_path("supervised").read_bytes())  # retrained, not exported
    with pytest.raises(ModelLoadError, match="stale export"):
        load_onnx_lifter(weights)
