"""Cross-dataset proxy: train a recipe on MPII 2D only, score it on all CMU 3D poses.

The held-out benchmarks the lifter is judged on come from datasets it never saw. The proxy mimics
that here: no CMU data of any kind is used for training, and every CMU pose (train and test split
together, 26,563 poses) is scored. The CMU test split is printed beside it for comparison only;
recipes are chosen on the proxy, never on CMU test.

    python training/scripts/proxy.py --recipes seed default --seeds 0 1 2 --out runs/proxy

Each run lands in ``<out>/<recipe>/seed<k>/`` (skipped when its weights exist, so the command
resumes); the table (mean and spread over seeds) is printed and written to ``<out>/proxy.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from ablation import STEPS
from pose_lifter.runtime.weights import load_lifter, save_lifter
from pose_lifter_training.cli import main as train_cli
from pose_lifter_training.data import concatenate, load_source
from pose_lifter_training.evaluate import evaluate, model_lifter

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
CMU = DATA_DIR / "cmu_mocap_15j.npz"
MPII = DATA_DIR / "mpii_2d_15j.npz"
MPII_ONLY = [
    f"train_data=[{{path: {MPII}}}]",
    "monitor_data=null",
    "train.select_checkpoint_by=last",
]

#: recipe name -> (base config, overrides on top of it).
RECIPES: dict[str, tuple[str, list[str]]] = {
    "seed": ("seed", []),
    "default": ("default", []),
    # the default until 2026-12 (30 epochs, no bone-proportion prior, no flip averaging)
    "previous-default": (
        "default",
        ["train.epochs=30", "losses.bone_proportions=0.0", "train.export_flip_average=false"],
    ),
    "e10": ("default", ["train.epochs=10"]),
    "e10+bones0.3": ("default", ["train.epochs=10", "losses.bone_proportions=0.3"]),
    "e10+bones1": ("default", ["train.epochs=10", "losses.bone_proportions=1.0"]),
    "e10+bones0.5": ("default", ["train.epochs=10", "losses.bone_proportions=0.5"]),
    "e5+bones0.3": ("default", ["train.epochs=5", "losses.bone_proportions=0.3"]),
    "e15+bones0.3": ("default", ["train.epochs=15", "losses.bone_proportions=0.3"]),
    "e10+clip": ("default", ["train.epochs=10", "optim.grad_clip_norm=1.0"]),
    "e10+wide": ("default", ["train.epochs=10", "model.hidden_size=1024"]),
}
#: The README's ablation (seed -> default, one fix at a time) as proxy recipes ``step<k>``.
_cumulative: list[str] = []
for _index, (_name, _overrides) in enumerate(STEPS):
    _cumulative = _cumulative + _overrides
    RECIPES[f"step{_index}"] = ("seed", list(_cumulative))


def run_recipe(name: str, seed: int, out: Path, threads: int, epochs: int | None) -> Path:
    """Train one recipe on MPII only (unless its weights exist); return the weights."""
    config, overrides = RECIPES[name]
    run = out / name / f"seed{seed}"
    weights = run / "best.safetensors"
    if weights.exists():
        return weights
    flags = [f"train.torch_threads={threads}", *MPII_ONLY, *overrides]
    argv = ["train", "--config", config, "--run-dir", str(run), "--seed", str(seed)]
    argv += ["--device", "cpu"] + [item for value in flags for item in ("--set", value)]
    if epochs is not None:
        argv += ["--epochs", str(epochs)]
    started = time.monotonic()
    if train_cli(argv) != 0:
        raise RuntimeError(f"training {name} seed {seed} failed")
    (run / "train_minutes.txt").write_text(f"{(time.monotonic() - started) / 60:.2f}\n")
    return weights


def with_flip_average(weights: Path) -> Path:
    """Write the same weights with test-time flip averaging on (``<stem>_flip.safetensors``)."""
    flipped = weights.with_name(weights.stem + "_flip.safetensors")
    if not flipped.exists():
        model, meta = load_lifter(weights)
        model.config = dataclasses.replace(model.config, flip_average=True)
        save_lifter(
            flipped, model, {k: v for k, v in meta.items() if k not in ("format", "config")}
        )
    return flipped


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipes", nargs="+", default=["seed", "default"], choices=RECIPES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--out", type=Path, default=Path("runs/proxy"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, help="override every recipe's train.epochs")
    parser.add_argument("--flip", action="store_true", help="also score with flip averaging")
    args = parser.parse_args()
    cmu_all = concatenate([load_source(CMU, "train"), load_source(CMU, "test")])
    cmu_test = load_source(CMU, "test")
    rows = {}
    names = [(n, False) for n in args.recipes] + [(n, True) for n in args.recipes if args.flip]
    for name, flip in names:
        per_seed = []
        for seed in args.seeds:
            weights = run_recipe(name, seed, args.out, args.threads, args.epochs)
            lift = model_lifter(with_flip_average(weights) if flip else weights)
            proxy = evaluate({name: lift}, cmu_all, dropped_counts=(2,))[name]
            test = evaluate({name: lift}, cmu_test, dropped_counts=(2,))[name]
            per_seed.append(
                {
                    "seed": seed,
                    "proxy_n": proxy["n_mpjpe_mm"],
                    "proxy_pa": proxy["pa_mpjpe_mm"],
                    "proxy_pa_missing_2": proxy["missing_2"]["pa_mpjpe_mm"],
                    "test_n": test["n_mpjpe_mm"],
                    "test_pa": test["pa_mpjpe_mm"],
                }
            )
            label = name + (" +flip" if flip else "")
            print(json.dumps({"recipe": label, **per_seed[-1]}), flush=True)
        rows[label] = per_seed
    (args.out / "proxy.json").write_text(json.dumps(rows, indent=2))
    columns = ["proxy_n", "proxy_pa", "proxy_pa_missing_2", "test_n", "test_pa"]
    print(
        "| recipe (MPII 2D only) | seeds | proxy N-MPJPE | proxy PA-MPJPE "
        "| proxy PA, 2 missing | CMU test N | CMU test PA |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, per_seed in rows.items():
        cells = []
        for column in columns:
            values = np.array([row[column] for row in per_seed])
            cells.append(
                f"{values.mean():.1f} ± {values.std():.1f}"
                if len(values) > 1
                else f"{values[0]:.1f}"
            )
        print(f"| {name} | {len(per_seed)} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
