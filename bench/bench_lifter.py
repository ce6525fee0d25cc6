"""Lifter throughput per backend and batch beside the machine's matmul ceiling.

Lifter throughput: poses/s and achieved FLOP/s per backend and batch, beside the machine's own
matmul ceiling for the same layer shapes, measured in the same run.

Backends: eager torch (inference mode), TorchScript (traced + frozen), ONNX Runtime (the
``pose-lifter-train export`` graph). Ceiling: the same chain of matrix products (torch.mm, no
bias or activation) at the same batch, and a large square numpy GEMM. Also the end-to-end
``PoseLifter.lift`` latency (normalisation + model) for 1 and 5 persons, and the node's whole
per-frame people step (:class:`~pose_lifter.runtime.people_step.PeopleStep`: validation,
tracking, each track's history, the lift, placement, the temporal stage, uncertainty) per frame
of a stream of 1 and 5 walking persons, with the temporal stage on and off.

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

from pose_lifter.runtime.camera import Camera
from pose_lifter.runtime.joints import NUM_JOINTS
from pose_lifter.runtime.lifter import PoseLifter
from pose_lifter.runtime.people_step import PeopleStep, StepSettings
from pose_lifter.runtime.temporal import TemporalSettings
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
    window = model.config.window
    for batch in BATCHES:
        frames = (batch, window) if window > 1 else (batch,)
        inputs = [
            torch.from_numpy(rng.normal(size=(*frames, NUM_JOINTS, 2)).astype(np.float32)),
            torch.ones(*frames, NUM_JOINTS),
        ]
        if window > 1:
            inputs.append(torch.arange(window, dtype=torch.float32).expand(batch, window) / 30)
        with torch.inference_mode():
            traced = torch.jit.freeze(torch.jit.trace(model, tuple(inputs)))
            reference = model(*inputs).numpy()
            feeds = {i.name: x.numpy() for i, x in zip(session.get_inputs(), inputs)}
            outputs = {
                "eager": lambda: model(*inputs),
                "torchscript": lambda: traced(*inputs),
                "onnxruntime": lambda: session.run(None, feeds),
            }
            diffs = {
                "eager": 0.0,
                "torchscript": float(np.abs(traced(*inputs).numpy() - reference).max()),
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
            f"{persons} person(s), no history: {seconds * 1e3:.3f} ms"
        )
    for temporal in (True, False):
        for persons in (1, 5):
            seconds = step_seconds(lifter, persons, temporal, args.seconds)
            print(
                f"PeopleStep.step per frame, {persons} walking person(s), temporal stage "
                f"{'on ' if temporal else 'off'} (window {lifter.window}): "
                f"{seconds * 1e3:.3f} ms ({seconds * 1e3 / persons:.3f} ms per person)"
            )


def step_seconds(lifter: PoseLifter, persons: int, temporal: bool, seconds: float) -> float:
    """Median seconds of one frame of the people step over a stream at 30 Hz."""
    base = np.array(
        [
            [0, -160], [0, -130], [-30, -125], [-40, -80], [-42, -40], [30, -125], [40, -80],
            [42, -40], [0, 0], [-15, 0], [-15, 70], [-15, 140], [15, 0], [15, 70], [15, 140],
        ],
        dtype=float,
    )
    offsets = np.array([[200.0 + 180 * p, 300.0] for p in range(persons)])
    settings = StepSettings(temporal=TemporalSettings(enabled=temporal))
    step = PeopleStep(lifter, settings)
    camera = Camera(np.array([[900.0, 0, 640], [0, 900.0, 360], [0, 0, 1]]))
    rng = np.random.default_rng(1)
    frame = [0]

    def one_frame():
        t = frame[0] / 30.0
        walking = base[None] + offsets[:, None] + [40.0 * t, 0.0]
        keypoints = walking + rng.normal(0.0, 2.0, walking.shape)
        confidence = np.ones((persons, NUM_JOINTS))
        step.step(keypoints, confidence, np.ones(persons), t, (1280, 720), camera)
        frame[0] += 1

    for _ in range(60):  # tracks with a full history
        one_frame()
    return timed(one_frame, seconds)


if __name__ == "__main__":
    main()
