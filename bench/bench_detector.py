"""Benchmark the MoveNet detector: FPS and latency p50/p95 on a 640x480 photo.

Latency is one ``detect()`` call (resize + pad, onnxruntime, post-processing), measured with
``time.perf_counter`` after warm-up, for input long side 256 and 384 and 1 and 2 intra-op
threads; each configuration runs for about ``--seconds`` (bounded by ``--max-iters``).

    python bench/bench_detector.py [--seconds 3] [--image path] [--providers CUDAExecutionProvider]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from pose_lifter.runtime.detection import create_detector, decode_compressed

DEFAULT_IMAGE = (
    Path(__file__).resolve().parents[1]
    / "pose_lifter"
    / "sample_data"
    / "images"
    / "vtest_frame600.jpg"
)


def bench(
    detector, rgb: np.ndarray, seconds: float, max_iters: int, warmup: int = 5
) -> np.ndarray:
    """Run ``detector.detect(rgb)`` for ~``seconds``; return the latencies in milliseconds."""
    for _ in range(warmup):
        detector.detect(rgb)
    latencies = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline and len(latencies) < max_iters:
        start = time.perf_counter()
        detector.detect(rgb)
        latencies.append(time.perf_counter() - start)
    return 1e3 * np.array(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, default=DEFAULT_IMAGE, help="JPEG or PNG (640x480)")
    parser.add_argument("--seconds", type=float, default=3.0, help="per configuration")
    parser.add_argument("--max-iters", type=int, default=1000, help="per configuration")
    parser.add_argument("--providers", nargs="+", default=["CPUExecutionProvider"])
    args = parser.parse_args()

    rgb = decode_compressed(args.image.suffix.lstrip("."), args.image.read_bytes())
    print(f"image {args.image.name} {rgb.shape[1]}x{rgb.shape[0]}, providers {args.providers}")
    print(
        f"{'long side':>9} {'threads':>7} {'persons':>7} {'FPS':>6} {'p50 ms':>7} "
        f"{'p95 ms':>7} {'runs':>5}"
    )
    for input_size in (256, 384):
        for threads in (1, 2):
            detector = create_detector(
                "movenet", input_size=input_size, num_threads=threads, providers=args.providers
            )
            ms = bench(detector, rgb, args.seconds, args.max_iters)
            persons = len(detector.detect(rgb))
            print(
                f"{input_size:>9} {threads:>7} {persons:>7} {1e3 / ms.mean():>6.1f} "
                f"{np.percentile(ms, 50):>7.1f} {np.percentile(ms, 95):>7.1f} {ms.size:>5}"
            )


if __name__ == "__main__":
    main()
