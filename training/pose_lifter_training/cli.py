"""``pose-lifter-train``: train, evaluate and export lifters.

Examples::

    pose-lifter-train train --config default --run-dir runs/default
    torchrun --nproc-per-node 2 -m pose_lifter_training.cli train --config default ...
    pose-lifter-train evaluate --data training/data/cmu_mocap_15j.npz --split test --json out.json
    pose-lifter-train evaluate --sequences --data training/data/motion_sequences_60hz.npz \
        --split test --rate-hz 25 --noise-px 5
    pose-lifter-train export --model runs/default/best.safetensors   # -> best.onnx beside it
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path

from pose_lifter.runtime.errors import PoseLifterError


def _train(args) -> int:
    from pose_lifter_training.config import load_config
    from pose_lifter_training.train import run_training

    config = load_config(args.config, args.set)
    if args.seed is not None:
        config.seed = args.seed
    run_dir = args.run_dir or f"runs/{config.name}"
    best = run_training(config, run_dir, args.device, args.epochs, args.resume, args.config)
    if args.output and best.exists():
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_bytes(best.read_bytes())
        print(f"wrote {args.output}")
    print(f"selected weights: {best}")
    return 0


def _evaluate(args) -> int:
    from pose_lifter_training.data import load_source
    from pose_lifter_training.evaluate import (
        evaluate,
        format_table,
        model_lifter,
        model_path,
        zero_depth_lifter,
    )

    if args.sequences:
        return _evaluate_sequences(args)
    data = load_source(args.data, args.split, args.limit)
    lifters = {}
    if not args.no_baselines:
        lifters["zero_depth"] = zero_depth_lifter
        for name in ("seed", "supervised", "mocap_only"):
            if model_path(name).exists() and name != args.model:
                lifters[name] = model_lifter(model_path(name), args.device)
    lifters[args.model] = model_lifter(model_path(args.model), args.device)
    results = evaluate(lifters, data, seed=args.seed)
    subject = args.model
    report = {
        **{k: v for k, v in results[subject].items()},
        "baselines": {k: v for k, v in results.items() if k != subject},
        "data": str(args.data),
        "split": args.split,
    }
    print(format_table(results))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    return 0


def _evaluate_sequences(args) -> int:
    from pose_lifter.runtime.lifter import PoseLifter
    from pose_lifter_training.evaluate import model_path
    from pose_lifter_training.sequence_eval import (
        Condition,
        evaluate_sequences,
        format_sequence_table,
    )
    from pose_lifter_training.sequences import load_sequences

    sequences = load_sequences(args.data, args.dataset, args.split)[: args.limit]
    if not sequences:
        raise ValueError(f"{args.data}: no sequences (dataset {args.dataset}, split {args.split})")
    condition = Condition(
        args.rate_hz, args.noise_px, not args.noise_absolute, args.error_model, args.missing
    )
    names = [args.model]
    if not args.no_baselines:
        names += [n for n in ("seed", "supervised") if n != args.model and model_path(n).exists()]
    results = {
        name: evaluate_sequences(
            PoseLifter(model_path(name), args.device), sequences, condition, seed=args.seed
        )
        for name in names
    }
    print(format_sequence_table(results))
    if args.json:
        report = {
            **results[args.model],
            "baselines": {k: v for k, v in results.items() if k != args.model},
            "data": str(args.data),
            "condition": dataclasses.asdict(condition),
        }
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2, default=float))
        print(f"wrote {args.json}")
    return 0


def _export(args) -> int:
    from pose_lifter_training.export import export_onnx
    from pose_lifter_training.evaluate import model_path

    path = export_onnx(model_path(args.model), args.output, args.opset)
    print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pose-lifter-train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a lifter from a YAML config")
    train.add_argument(
        "--config", default="default", help="config name (training/configs) or YAML path"
    )
    train.add_argument("--run-dir", help="output folder (default runs/<config name>)")
    train.add_argument("--device", default="auto", help="auto | cpu | cuda[:N]")
    train.add_argument("--epochs", type=int, help="override train.epochs")
    train.add_argument("--seed", type=int, help="override the config's seed")
    train.add_argument("--resume", action="store_true", help="continue from run-dir's checkpoint")
    train.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override any config value (repeatable)",
    )
    train.add_argument("--output", help="also copy the selected weights here")
    train.set_defaults(func=_train)
    ev = sub.add_parser("evaluate", help="3D accuracy on data with ground truth, with baselines")
    ev.add_argument(
        "--data", required=True, help="npz with keypoints_2d (N,15,2) px and joints_3d (N,15,3) m"
    )
    ev.add_argument("--split", default=None, help="key prefix (sequences: split), e.g. test")
    ev.add_argument(
        "--model", default="default", help="default | mocap_only | seed | supervised | PATH"
    )
    ev.add_argument("--json", help="write the metrics here")
    ev.add_argument("--limit", type=int, help="evaluate the first N poses (sequences) only")
    ev.add_argument("--device", default="cpu")
    ev.add_argument("--seed", type=int, default=0, help="seed of the removed-joint draws")
    ev.add_argument("--no-baselines", action="store_true", help="score only --model")
    seq = ev.add_argument_group(
        "sequences (--sequences): motion sequences through the node's per-frame step, "
        "frame after frame, as the node publishes them"
    )
    seq.add_argument(
        "--sequences",
        action="store_true",
        help="--data is a sequence file (training/data/motion_sequences_60hz.npz)",
    )
    seq.add_argument("--dataset", help="cmu | hdm05 (default: all)")
    seq.add_argument("--rate-hz", type=float, default=25.0, help="camera frame rate")
    seq.add_argument(
        "--noise-px",
        type=float,
        default=5.0,
        help="2D Gaussian noise per coordinate (px) for a person 350 px tall, in proportion "
        "for others (--noise-absolute: for everyone)",
    )
    seq.add_argument("--noise-absolute", action="store_true", help="--noise-px as it is")
    seq.add_argument(
        "--error-model",
        action="store_true",
        help="add the training error model's outliers and left/right swaps",
    )
    seq.add_argument("--missing", type=int, default=0, help="joints hidden per sequence")
    ev.set_defaults(func=_evaluate)
    ex = sub.add_parser("export", help="export a lifter to ONNX")
    ex.add_argument(
        "--model", default="default", help="default | mocap_only | seed | supervised | PATH"
    )
    ex.add_argument(
        "--output", default=None, help="ONNX file to write (default: next to the weights, .onnx)"
    )
    ex.add_argument("--opset", type=int, default=17)
    ex.set_defaults(func=_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (PoseLifterError, FileNotFoundError, ValueError) as error:
        print(f"pose-lifter-train: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
