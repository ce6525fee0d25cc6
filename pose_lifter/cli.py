"""``pose-lifter``: command-line tools that need no running ROS graph.

- ``pose-lifter demo``: lift the bundled OpenPose sample with the shipped model, write an
  interactive Plotly HTML page and the 3D poses (npz), and print accuracy against the sample's
  ground truth.
- ``pose-lifter view FILE``: a Plotly HTML page of 3D poses from an npz (``joints_3d``) or of
  lifted poses from an OpenPose ``--write_json`` directory.
"""
from __future__ import annotations

import argparse
import sys
import time
from importlib import resources
from pathlib import Path

import numpy as np

from pose_lifter.errors import PoseLifterError

SAMPLE_DIR = Path(str(resources.files("pose_lifter") / "sample_data"))


def lift_openpose_directory(directory: Path, model: str | None, device: str) -> tuple[list[np.ndarray], list[str]]:
    """Lift every person of every frame; returns per-frame ``(P, 15, 3)`` poses and titles."""
    from pose_lifter.lifter import PoseLifter
    from pose_lifter.openpose_json import read_openpose_directory
    lifter = PoseLifter(model, device=device, min_joints=6)
    frames, titles = [], []
    for frame in read_openpose_directory(directory):
        result = lifter.lift(frame.keypoints_2d) if len(frame.keypoints_2d) else None
        poses = result.joints_3d[result.valid] if result is not None else np.zeros((0, 15, 3))
        frames.append(poses)
        titles.append(frame.path.stem)
    return frames, titles


def _demo(args) -> int:
    from pose_lifter.metrics import n_mpjpe, pa_mpjpe
    from pose_lifter.visualize import skeleton_figure, write_html
    out = Path(args.out)
    started = time.perf_counter()
    frames, titles = lift_openpose_directory(Path(args.input), args.model, args.device)
    elapsed = time.perf_counter() - started
    html = write_html(skeleton_figure(frames, titles, spacing=2.5), out / "demo_skeletons.html")
    np.savez_compressed(out / "demo_joints_3d.npz", joints_3d=np.stack(frames) if len({len(f) for f in frames}) == 1
                        else np.concatenate(frames), titles=np.asarray(titles))
    people = sum(len(f) for f in frames)
    print(f"lifted {people} people in {len(frames)} frames ({elapsed * 1000:.0f} ms incl. model load)")
    truth_path = Path(args.input).parent / "openpose_json_ground_truth.npz"
    if Path(args.input) == SAMPLE_DIR / "openpose_json" and truth_path.exists():
        truth = np.load(truth_path)
        walker = np.stack([f[0] for f in frames])
        jumper = np.stack([f[1] for f in frames])
        for name, predicted, target in (("walker", walker, truth["walker_joints_3d"]),
                                        ("jumper", jumper, truth["jumper_joints_3d"])):
            print(f"  {name}: N-MPJPE {1000 * n_mpjpe(predicted, target):.1f} mm, "
                  f"PA-MPJPE {1000 * pa_mpjpe(predicted, target):.1f} mm (CMU mocap ground truth)")
    print(f"wrote {html}")
    print(f"wrote {out / 'demo_joints_3d.npz'}")
    return 0


def _view(args) -> int:
    from pose_lifter.visualize import skeleton_figure, write_html
    path = Path(args.file)
    if path.is_dir():
        frames, titles = lift_openpose_directory(path, args.model, args.device)
    elif path.suffix == ".npz":
        with np.load(path) as data:
            if "joints_3d" not in data.files:
                raise PoseLifterError(f"{path}: no 'joints_3d' array")
            joints = data["joints_3d"]
        joints = joints.reshape(-1, 1, 15, 3) if joints.ndim == 3 else joints
        frames, titles = list(joints[: args.max_frames]), None
    else:
        raise PoseLifterError(f"{path}: expected an npz file or an OpenPose JSON directory")
    output = write_html(skeleton_figure(frames[: args.max_frames], titles), args.output or path.with_suffix(".html"))
    print(f"wrote {output}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pose-lifter", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="lift the bundled sample and write an HTML page")
    demo.add_argument("--input", default=str(SAMPLE_DIR / "openpose_json"), help="OpenPose JSON directory")
    demo.add_argument("--out", default="out/demo", help="output folder")
    demo.add_argument("--model", default=None, help="weights (default: the shipped model)")
    demo.add_argument("--device", default="auto", help="auto | cpu | cuda")
    demo.set_defaults(func=_demo)
    view = sub.add_parser("view", help="interactive 3D stick figures (Plotly HTML)")
    view.add_argument("file", help="npz with joints_3d (N,15,3) or (N,P,15,3), or an OpenPose JSON directory")
    view.add_argument("--output", help="HTML path (default: FILE.html)")
    view.add_argument("--model", default=None)
    view.add_argument("--device", default="auto")
    view.add_argument("--max-frames", type=int, default=200)
    view.set_defaults(func=_view)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except PoseLifterError as error:
        print(f"pose-lifter: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
