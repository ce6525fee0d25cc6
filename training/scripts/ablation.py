"""Ablation: from the seed GAN to the default config, one fix at a time.

Ablation: from the seed GAN to the default config, one fix at a time, each trained from scratch and
scored on the CMU test split (same data, width and batch for every row).

    python training/scripts/ablation.py --out runs/ablation [--epochs 15] [--threads 1]

Prints a markdown table (N-MPJPE / PA-MPJPE / PCK, all joints and 2 missing) and writes
``<out>/ablation.json``. Each row adds its overrides to all rows above it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from pose_lifter_training.cli import main as train_cli
from pose_lifter_training.data import load_source
from pose_lifter_training.evaluate import evaluate, model_lifter

CMU = Path(__file__).resolve().parents[1] / "data" / "cmu_mocap_15j.npz"

#: (row name, overrides added on top of the previous rows), starting from configs/seed.yaml.
STEPS: list[tuple[str, list[str]]] = [
    (
        "seed method (width 512, batch 256)",
        [
            "model.hidden_size=512",
            "discriminator.hidden_size=512",
            "train.batch_size=256",
            "train.generator_steps=1",
        ],
    ),
    (
        "+ re-normalised fakes, root depth 0",
        ["augment.renormalize_fakes=true", "model.zero_root_depth=true"],
    ),
    ("+ elevation +-15 deg", ["augment.elevation_range_deg=15.0"]),
    ("+ self-consistency (3D + 2D)", ["losses.consistency_3d=1.0", "losses.consistency_2d=1.0"]),
    ("+ flip augmentation", ["augment.flip=true"]),
    ("+ bone symmetry prior", ["losses.bone_symmetry=1.0"]),
    (
        "+ missing-joint training (mask input, distillation)",
        [
            "model.use_confidence_mask=true",
            "model.predict_missing_2d=true",
            "losses.missing_distill=1.0",
            "losses.missing_2d=1.0",
            "augment.max_dropped_joints=3",
            "augment.drop_probability=0.75",
        ],
    ),
    ("+ generator EMA, LR decay", ["train.ema_decay=0.995", "optim.lr_decay_per_epoch=0.95"]),
    ("+ KCS discriminator features (= default)", ["discriminator.use_kcs=true"]),
]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/ablation"))
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    data = load_source(CMU, "test")
    overrides: list[str] = [f"train.torch_threads={args.threads}"]
    rows = []
    for index, (name, step) in enumerate(STEPS):
        overrides = overrides + step
        run = args.out / f"step{index}"
        started = time.monotonic()
        if not (run / "best.safetensors").exists():
            flags = [item for value in overrides for item in ("--set", value)]
            train_cli(
                [
                    "train",
                    "--config",
                    "seed",
                    "--run-dir",
                    str(run),
                    "--epochs",
                    str(args.epochs),
                    "--device",
                    "cpu",
                    *flags,
                ]
            )
        result = evaluate(
            {name: model_lifter(run / "best.safetensors")}, data, dropped_counts=(2,)
        )[name]
        rows.append(
            {
                "step": name,
                "overrides": step,
                "train_minutes": (time.monotonic() - started) / 60,
                **{k: result[k] for k in ("n_mpjpe_mm", "pa_mpjpe_mm", "pck150", "flip_rate")},
                "missing_2_n_mpjpe_mm": result["missing_2"]["n_mpjpe_mm"],
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    (args.out / "ablation.json").write_text(json.dumps(rows, indent=2))
    print("| step | N-MPJPE mm | PA-MPJPE mm | PCK@150 | flip rate | N-MPJPE, 2 missing |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['step']} | {row['n_mpjpe_mm']:.1f} | {row['pa_mpjpe_mm']:.1f} | "
            f"{row['pck150']:.3f} | "
            f"{row['flip_rate']:.3f} | {row['missing_2_n_mpjpe_mm']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
