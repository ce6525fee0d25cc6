"""Training speed on this machine: seconds per epoch and poses/s.

Training speed on this machine: ms per optimisation step, poses/s, seconds per epoch and the
minutes a whole run takes for every training config (measured in the same run), plus the
shipped models' recorded training time and accuracy (pose_lifter/models/results.json).

    source scripts/env.sh && python bench/bench_training.py [--threads 2] [--steps 40]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import torch

from pose_lifter.runtime.weights import default_model_path
from pose_lifter_training.config import load_config, resolve_config_path
from pose_lifter_training.train import Trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument(
        "--steps", type=int, default=40, help="timed optimisation steps per config"
    )
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {args.threads} thread(s)")
    print(
        f"{'config':>10} {'batch':>5} {'ms/step':>8} {'poses/s':>8} {'s/epoch':>8} "
        f"{'epochs':>6} {'min to train':>12}"
    )
    for name in ("seed", "gan", "supervised", "default", "hybrid"):
        config = load_config(name, [f"train.torch_threads={args.threads}"])
        config.monitor_data = None
        with tempfile.TemporaryDirectory() as tmp:
            trainer = Trainer(config, tmp, "cpu", resolve_config_path(name))
            batch = config.train.batch_size
            index = torch.arange(batch)

            def step():
                trainer._step(index)  # augmentation, losses, optimiser steps, EMA

            for _ in range(3):
                step()
            started = time.perf_counter()
            for _ in range(args.steps):
                step()
            seconds = (time.perf_counter() - started) / args.steps
            if config.train.steps_per_epoch:
                steps_per_epoch = config.train.steps_per_epoch
            elif trainer.views:
                steps_per_epoch = len(trainer.world) * config.train.views_per_pose // batch
            else:
                steps_per_epoch = len(trainer.train_x) // batch
            epoch = seconds * steps_per_epoch
            print(
                f"{name:>10} {batch:>5} {seconds * 1e3:>8.1f} {batch / seconds:>8.0f} "
                f"{epoch:>8.1f} "
                f"{config.train.epochs:>6} {epoch * config.train.epochs / 60:>12.1f}"
            )
    results = default_model_path().with_name("results.json")
    if results.exists():
        recorded = json.loads(results.read_text())
        for name, summary in recorded.get("training", {}).items():
            metrics = recorded["results"].get("CMU", {}).get(name, {})
            print(
                f"shipped {name}: {summary['epochs']} epochs in "
                f"{summary['train_seconds'] / 60:.1f} min "
                f"(recorded) -> N-MPJPE {metrics.get('n_mpjpe_mm', float('nan')):.1f} mm, "
                f"PA-MPJPE {metrics.get('pa_mpjpe_mm', float('nan')):.1f} mm on the CMU test split"
            )


if __name__ == "__main__":
    main()
