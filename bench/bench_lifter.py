"""Lifter throughput per backend and batch beside the machine's matmul ceiling.

Lifter throughput: poses/s and achieved FLOP/s per backend and batch, beside the machine's own
matmul ceiling for the same layer shapes, measured in the same run.

Backends: eager torch (inference mode), TorchScript (traced + frozen), ONNX Runtime (the
``pose-lifter-train export`` graph). Ceiling: the same chain of matrix products (torch.mm, no
bias or activation) at the same batch, and a large square numpy GEMM. Also the end-to-end
``PoseLifter.lift`` latency (normalisation + model) for 1 and 5 persons.

    source scripts/env.sh && python bench/bench_lifter.py [--threads 2] [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from pose_lifter.runtime.joints import NUM_JOINTS
from pose_lifter.runtime.lifter import PoseLifter
from pose_lifter.runtime.weights import default_model_path, load_lifter

BATCHES = (1, 8, 64, 1024)


def timed(fn, seconds: float, max_iters: int = 100_000) -> float:
    """Median seconds per call of ``fn`` over ~``seconds`` (after 3 warm-up calls)."""
    for _ in range(3):
        fn()
    samples = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline and len(samples) < max_iters:
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return float(np.median(samples))


def linear_shapes(model: torch.nn.Module) -> list[tuple[int, int]]:
    return [
        (m.in_features, m.out_features) for m in model.modules() if isinstance(m, torch.nn.Linear)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seconds", type=float, default=1.0, help="per measurement")
    parser.add_argument("--model", type=Path, default=default_model_path())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, _ = load_lifter(args.model)
    shapes = linear_shapes(model)
    passes = 2 if model.config.flip_average else 1  # flip averaging lifts the mirror image too
    flop_per_pose = passes * sum(2 * i * o for i, o in shapes)
    print(
        f"model {args.model.name}: layers {shapes} x {passes} pass(es) per pose "
        f"(flip_average {model.config.flip_average}), {flop_per_pose / 1e6:.2f} MFLOP/pose, "
        f"torch threads {args.threads}, torch {torch.__version__}"
    )

    import onnxruntime as ort
    from pose_lifter_training.export import export_onnx

    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = export_onnx(args.model, Path(tmp) / "lifter.onnx")
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])

    rng = np.random.default_rng(0)
    rows = []
    for batch in BATCHES:
        x = torch.from_numpy(rng.normal(size=(batch, NUM_JOINTS, 2)).astype(np.float32))
        mask = torch.ones(batch, NUM_JOINTS)
        with torch.inference_mode():
            traced = torch.jit.freeze(torch.jit.trace(model, (x, mask)))
            reference = model(x, mask).numpy()
            feeds = {"keypoints_2d": x.numpy(), "mask": mask.numpy()}
            outputs = {
                "eager": lambda: model(x, mask),
                "torchscript": lambda: traced(x, mask),
                "onnxruntime": lambda: session.run(None, feeds),
            }
            diffs = {
                "eager": 0.0,
                "torchscript": float(np.abs(traced(x, mask).numpy() - reference).max()),
                "onnxruntime": float(np.abs(session.run(None, feeds)[0] - reference).max()),
            }
            weights = [torch.randn(i, o) for i, o in shapes]
            activations = [torch.randn(batch * passes, i) for i, _ in shapes]
            ceiling_s = timed(
                lambda: [torch.mm(a, w) for a, w in zip(activations, weights)], args.seconds
            )
            for name, fn in outputs.items():
                seconds = timed(fn, args.seconds)
                rows.append((batch, name, seconds, diffs[name], ceiling_s))
    big = rng.normal(size=(1024, 1024)).astype(np.float32)
    numpy_gemm_s = timed(lambda: big @ big, args.seconds)
    numpy_flops = 2 * 1024**3 / numpy_gemm_s

    print(f"\nceiling: numpy 1024^3 float32 GEMM {numpy_flops / 1e9:.1f} GFLOP/s")
    print(
        f"{'batch':>5} {'backend':>12} {'us/call':>9} {'us/pose':>8} {'poses/s':>10} "
        f"{'GFLOP/s':>8} "
        f"{'same-shape mm GFLOP/s':>22} {'% of it':>7} {'% numpy':>7} {'max|diff|':>9}"
    )
    for batch, name, seconds, diff, ceiling_s in rows:
        flops = flop_per_pose * batch / seconds
        ceiling = flop_per_pose * batch / ceiling_s
        print(
            f"{batch:>5} {name:>12} {seconds * 1e6:>9.1f} {seconds * 1e6 / batch:>8.2f} "
            f"{batch / seconds:>10.0f} "
            f"{flops / 1e9:>8.2f} {ceiling / 1e9:>22.2f} {100 * flops / ceiling:>6.0f}% "
            f"{100 * flops / numpy_flops:>6.0f}% {diff:>9.1e}"
        )

    lifter = PoseLifter(args.model, device="cpu", num_threads=1)
    for persons in (1, 5):
        keypoints = rng.uniform(100, 500, size=(persons, NUM_JOINTS, 2))
        seconds = timed(lambda: lifter.lift(keypoints), args.seconds)
        print(
            f"PoseLifter.lift end to end (validate + normalise + {lifter.backend}), "
            f"{persons} person(s): {seconds * 1e3:.3f} ms"
        )


if __name__ == "__main__":
    main()
