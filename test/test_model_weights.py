import numpy as np
import pytest
import torch

from pose_lifter.runtime.errors import ModelLoadError, PoseInputError
from pose_lifter.runtime.joints import MIDHIP
from pose_lifter.runtime.lifter import PoseLifter, resolve_device
from pose_lifter.runtime.model import Discriminator, LifterConfig, LifterModel
from pose_lifter.runtime.weights import default_model_path, load_lifter, read_metadata, save_lifter


def test_model_shapes_and_root_zeroing():
    model = LifterModel(LifterConfig(hidden_size=32))
    x = torch.randn(4, 15, 2)
    mask = torch.ones(4, 15)
    mask[0, 3] = 0
    out = model(x, mask)
    assert out.shape == (4, 15, 3)
    assert torch.allclose(out[:, MIDHIP, 2], torch.zeros(4))
    assert torch.allclose(out[1:, :, :2], x[1:])  # present joints keep their 2D
    assert not torch.allclose(out[0, 3, :2], x[0, 3])  # missing joint is predicted
    assert Discriminator(hidden_size=32)(x).shape == (4,)


def test_seed_style_model_ignores_mask_input():
    model = LifterModel(
        LifterConfig(
            hidden_size=16,
            use_confidence_mask=False,
            predict_missing_2d=False,
            zero_root_depth=False,
        )
    )
    assert model.mlp.hidden[0].in_features == 30 and model.mlp.output.out_features == 15


def test_save_load_round_trip(tmp_path):
    model = LifterModel(LifterConfig(hidden_size=24, num_hidden_layers=2))
    path = save_lifter(tmp_path / "m.safetensors", model, {"note": "hi"})
    loaded, meta = load_lifter(path)
    assert meta["note"] == "hi" and loaded.config == model.config
    x, mask = torch.randn(3, 15, 2), torch.ones(3, 15)
    assert torch.allclose(loaded(x, mask), model(x, mask))
    assert path.read_bytes()[:8] != b"\x80\x04\x95"  # not a pickle


def test_missing_truncated_and_wrong_files(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_lifter(tmp_path / "none.safetensors")
    path = save_lifter(tmp_path / "m.safetensors", LifterModel(LifterConfig(hidden_size=8)))
    truncated = tmp_path / "t.safetensors"
    truncated.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelLoadError):
        load_lifter(truncated)
    (tmp_path / "junk.safetensors").write_bytes(b"\x80\x04\x95pickle-ish")
    with pytest.raises(ModelLoadError):
        load_lifter(tmp_path / "junk.safetensors")


def test_wrong_shapes_against_config(tmp_path):
    from safetensors.torch import save_file
    import json

    model = LifterModel(LifterConfig(hidden_size=8))
    tensors = {k: v for k, v in model.state_dict().items()}
    tensors["mlp.output.weight"] = torch.zeros(3, 8)
    save_file(
        tensors,
        str(tmp_path / "w.safetensors"),
        metadata={"format": "pose_lifter", "config": json.dumps(model.config.to_dict())},
    )
    with pytest.raises(ModelLoadError, match="wrong shape"):
        load_lifter(tmp_path / "w.safetensors")


def test_device_resolution():
    assert resolve_device("cpu") == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto") == expected
    if not torch.cuda.is_available():
        assert resolve_device("cuda") == "cpu"
        with pytest.raises(RuntimeError):
            resolve_device("cuda", fallback_to_cpu=False)
    with pytest.raises(ValueError):
        resolve_device("tpu")


def test_shipped_default_model_lifts_real_poses():
    data = np.load(default_model_path().parents[2] / "training" / "data" / "cmu_mocap_15j.npz")
    every = slice(None, None, 20)  # 216 held-out poses spread over all test actions
    keypoints, truth = data["test_keypoints_2d"][every], data["test_joints_3d"][every]
    lifter = PoseLifter(device="cpu")
    assert read_metadata(default_model_path())["format"] == "pose_lifter"
    result = lifter.lift(keypoints)
    assert result.joints_3d.shape == (len(keypoints), 15, 3) and result.valid.all()
    assert np.all(np.isfinite(result.joints_3d))
    assert np.allclose(result.joints_3d[:, MIDHIP], 0)
    from pose_lifter.runtime.metrics import n_mpjpe

    flat = result.joints_3d.copy()
    flat[..., 2] = 0
    # the learned depth must beat the flat pose by a wide margin on real held-out poses
    assert n_mpjpe(result.joints_3d, truth) < 0.8 * n_mpjpe(flat, truth)


def test_lifter_rejects_bad_input_and_skips_sparse_poses():
    lifter = PoseLifter(device="cpu", min_joints=10)
    with pytest.raises(PoseInputError):
        lifter.lift(np.zeros((2, 14, 2)))
    poses = np.random.default_rng(0).uniform(0, 500, (2, 15, 3))
    poses[..., 2] = 1.0
    poses[1, :6, 2] = 0.0
    result = lifter.lift(poses)
    assert list(result.valid) == [True, False]
    assert np.all(result.joints_3d[1] == 0)


def test_onnxruntime_backend_matches_torch_and_is_the_cpu_default():
    poses = np.random.default_rng(1).uniform(0, 500, (6, 15, 3))
    poses[..., 2] = 0.9
    poses[2, 4, 2] = 0.0  # a missing joint takes the predicted-2D branch of the graph
    fast = PoseLifter(device="cpu")
    assert fast.backend == "onnxruntime"
    eager = PoseLifter(device="cpu", backend="torch")
    assert eager.backend == "torch"
    assert np.abs(fast.lift(poses).joints_3d - eager.lift(poses).joints_3d).max() < 1e-4
    with pytest.raises(ValueError, match="backend"):
        PoseLifter(device="cpu", backend="tensorrt")


def test_flip_average_is_mirror_equivariant_and_keeps_the_input_xy():
    import dataclasses

    import torch

    from pose_lifter.runtime.joints import FLIP_PERMUTATION
    from pose_lifter.runtime.model import LifterConfig, LifterModel

    torch.manual_seed(0)
    model = LifterModel(LifterConfig(hidden_size=32, flip_average=True)).eval()
    x, mask = torch.randn(8, 15, 2), torch.ones(8, 15)
    mask[0, 4] = 0
    flip = list(FLIP_PERMUTATION)
    with torch.no_grad():
        lifted = model(x, mask)
        mirrored = model(x[:, flip] * torch.tensor([-1.0, 1.0]), mask[:, flip])
        plain = dataclasses.replace(model.config, flip_average=False)
        model.config = plain
        single = model(x, mask)
    # lifting the mirror image gives the mirror image of the lift (exactly, by construction)
    assert torch.allclose(mirrored, lifted[:, flip] * torch.tensor([-1.0, 1.0, 1.0]), atol=1e-6)
    present = mask.bool()
    assert torch.equal(lifted[..., :2][present], x[present])
    assert not torch.allclose(lifted[..., 2], single[..., 2])  # the average is a different lift
