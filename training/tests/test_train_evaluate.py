import json
import os
import subprocess
import sys

import numpy as np
import onnxruntime as ort
import pytest
import torch

from pose_lifter.runtime.weights import load_lifter
from pose_lifter_training.cli import main
from pose_lifter_training.config import load_config
from pose_lifter_training.train import sample_dropped_joints

from data_paths import CMU, TRAINING_DIR

CONFIGS = ("gan", "seed", "supervised", "default", "hybrid")
#: A short run of any config: small networks, a slice of the data.
SHORT = [
    "--set",
    "model.hidden_size=64",
    "--set",
    "discriminator.hidden_size=64",
    "--set",
    "train.batch_size=128",
    "--set",
    "train.log_every_steps=5",
    "--set",
    "train.torch_threads=1",
    "--set",
    "train_data=[{path: %s, split: train, limit: 3000}]" % CMU,
    "--set",
    "train.views_per_pose=2",
]


def short(config: str) -> list[str]:
    """SHORT, plus a small ``pose_data`` (546 CMU poses) for configs that learn from 3D poses."""
    if not load_config(config).pose_data:
        return SHORT
    return [*SHORT, "--set", "pose_data=[{path: %s, split: test}]" % CMU]


def train(*args: str) -> int:
    """Run ``pose-lifter-train train *args`` in-process; return its exit status."""
    return main(["train", *args])


def test_configs_parse_and_reject_typos(tmp_path):
    for name in CONFIGS:
        config = load_config(name)
        assert config.name == name
    assert load_config("seed").model.use_confidence_mask is False
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: {hiden_size: 3}\n")
    with pytest.raises(ValueError, match="hiden_size"):
        load_config(str(bad))


def test_dropped_joint_sampler_counts():
    dropped = sample_dropped_joints(2000, 3, 1.0, torch.Generator().manual_seed(0), "cpu")
    counts = dropped.sum(1)
    assert counts.min() == 1 and counts.max() == 3
    assert sample_dropped_joints(10, 0, 1.0, torch.Generator(), "cpu").sum() == 0


@pytest.mark.parametrize("config", CONFIGS)
def test_short_training_run_logs_checkpoints_and_resumes(tmp_path, config):
    run = tmp_path / config
    assert (
        train(
            "--config",
            config,
            "--run-dir",
            str(run),
            "--epochs",
            "1",
            "--device",
            "cpu",
            *short(config),
        )
        == 0
    )
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    epochs = [r for r in log if "epoch_seconds" in r]
    assert len(epochs) == 1
    if load_config(config).train.mode == "gan":  # the 2D-only proxy selects GAN epochs
        assert np.isfinite(epochs[0]["proxy"])
    losses = {k for r in log for k in r if k.startswith("loss_") or k.startswith("mean_loss")}
    expected = {
        "gan": {"mean_loss_consistency_3d"},
        "seed": {"mean_loss_heuristic"},
        "supervised": {"mean_loss_supervised_depth"},
        "default": {"mean_loss_supervised_pose"},
        "hybrid": {"mean_loss_supervised_pose", "mean_loss_adversarial", "mean_loss_d"},
    }[config]
    assert expected <= losses, losses
    model, meta = load_lifter(run / "best.safetensors")
    assert meta["config_name"] == config
    # resume to epoch 2 continues from the checkpoint instead of starting over
    assert (
        train(
            "--config",
            config,
            "--run-dir",
            str(run),
            "--epochs",
            "2",
            "--device",
            "cpu",
            "--resume",
            *short(config),
        )
        == 0
    )
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log if "epoch_seconds" in r] == [1, 2]
    # ... exactly: the checkpoint holds every RNG, so 1 + 1 epochs equal 2 epochs in one go
    straight = tmp_path / f"{config}_straight"
    assert (
        train(
            "--config",
            config,
            "--run-dir",
            str(straight),
            "--epochs",
            "2",
            "--device",
            "cpu",
            *short(config),
        )
        == 0
    )
    resumed, _ = load_lifter(run / "last.safetensors")
    uninterrupted, _ = load_lifter(straight / "last.safetensors")
    for name, tensor in uninterrupted.state_dict().items():
        assert torch.equal(resumed.state_dict()[name], tensor), name


def test_supervised_training_learns_depth(tmp_path, small_npz):
    """A real (short) run must beat the flat pose on held-out data."""
    run = tmp_path / "sup"
    assert (
        train(
            "--config",
            "supervised",
            "--run-dir",
            str(run),
            "--epochs",
            "3",
            "--device",
            "cpu",
            "--set",
            "train_data=[{path: %s, split: train, limit: 6000}]" % CMU,
            "--set",
            "model.hidden_size=128",
            "--set",
            "train.batch_size=128",
        )
        == 0
    )
    out = tmp_path / "eval.json"
    assert (
        main(
            [
                "evaluate",
                "--data",
                str(small_npz),
                "--model",
                str(run / "last.safetensors"),
                "--json",
                str(out),
            ]
        )
        == 0
    )
    report = json.loads(out.read_text())
    for key in (
        "n_mpjpe_mm",
        "pa_mpjpe_mm",
        "pck150",
        "flip_rate",
        "n",
        "missing_1",
        "missing_2",
        "missing_3",
        "per_action",
        "baselines",
    ):
        assert key in report
    assert report["n"] == 600
    assert "zero_depth" in report["baselines"]
    assert report["n_mpjpe_mm"] < 0.9 * report["baselines"]["zero_depth"]["n_mpjpe_mm"]
    assert report["missing_2"]["n"] == 600


def test_evaluate_shipped_model_with_split_prefix(tmp_path):
    out = tmp_path / "e.json"
    assert (
        main(
            [
                "evaluate",
                "--data",
                str(CMU),
                "--split",
                "test",
                "--limit",
                "300",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    report = json.loads(out.read_text())
    assert report["n"] == 300 and set(report["baselines"]) >= {"zero_depth"}
    assert report["n_mpjpe_mm"] < report["baselines"]["zero_depth"]["n_mpjpe_mm"]


def test_export_onnx_matches_torch(tmp_path):
    out = tmp_path / "lifter.onnx"
    assert main(["export", "--model", "default", "--output", str(out)]) == 0
    model, _ = load_lifter(None)
    window = model.config.window  # the default reads a track's past
    inputs = [torch.randn(7, window, 15, 2), torch.ones(7, window, 15), torch.zeros(7, window)]
    inputs[1][2, 0, 5] = 0
    inputs[2][:] = torch.arange(window) / 25.0
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    assert names == ["keypoints_2d", "mask", "age_s"]
    got = session.run(None, {name: x.numpy() for name, x in zip(names, inputs)})[0]
    assert np.abs(got - model(*inputs).detach().numpy()).max() < 1e-4


def test_ddp_two_cpu_processes(tmp_path):
    """The same training code under torchrun with 2 gloo processes."""
    run = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "-m",
        "pose_lifter_training.cli",
        "train",
        "--config",
        "gan",
        "--run-dir",
        str(run),
        "--epochs",
        "1",
        "--device",
        "cpu",
        *SHORT,
    ]
    result = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=300, cwd=TRAINING_DIR
    )
    assert result.returncode == 0, result.stderr[-3000:]
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    epoch = [r for r in log if "epoch_seconds" in r][0]
    # each rank sees half the data: 3000 * 0.95 / 2 / 128 = 11 steps per rank
    assert epoch["epoch"] == 1 and (run / "best.safetensors").exists()
    assert max(r["step"] for r in log if "step" in r) <= 12
