"""``pose-lifter``: command-line tools (all but ``replay --live`` need no running ROS graph).

- ``pose-lifter replay BAG [--topics ...] [--out OUT_BAG] [--report DIR]``: run a rosbag2 bag
  (sqlite3 or mcap; images or Skeleton2DArray) through the node's processing code path offline
  with the node's parameters file; write an output bag (inputs + Skeleton3DArray + MarkerArray)
  and a report (JSON + Plotly HTML; N-MPJPE / PA-MPJPE when the bag has ground truth).
- ``pose-lifter replay BAG --live [--rate R]``: publish the bag into a running graph (original
  timing, R times faster, or R = 0 as fast as possible; /clock for use_sim_time), collect the
  node's outputs, report end-to-end latency p50/p95/p99 and drops.
- ``pose-lifter record-sample``: rebuild the bundled sample bag from vtest.avi (opencv-doc).
- ``pose-lifter record-rgbd-sample``: rebuild the bundled RGB-D sample bag (keypoints + depth +
  CameraInfo + ground truth; synthetic depth bodies of CMU test poses).
- ``pose-lifter view FILE``: a Plotly HTML page of 3D poses from an npz (``joints_3d``), of
  lifted poses from an OpenPose ``--write_json`` directory, or of a bag (its Skeleton3DArray
  topic, else its inputs replayed offline).
- ``pose-lifter demo``: lift the bundled OpenPose sample with the shipped model, write an
  interactive Plotly HTML page and the 3D poses (npz), and print accuracy against the sample's
  ground truth. (``make demo`` replays the bundled sample bag instead.)
"""

from __future__ import annotations

import argparse
import sys
import time
from importlib import resources
from pathlib import Path

import numpy as np

from pose_lifter.runtime.errors import PoseLifterError

SAMPLE_DIR = Path(str(resources.files("pose_lifter") / "sample_data"))


def lift_openpose_directory(
    directory: Path, model: str | None, device: str
) -> tuple[list[np.ndarray], list[str]]:
    """Lift every person of every frame; returns per-frame ``(P, 15, 3)`` poses and titles."""
    from pose_lifter.runtime.lifter import PoseLifter
    from pose_lifter.runtime.openpose_json import read_openpose_directory

    lifter = PoseLifter(model, device=device, min_joints=6)
    frames, titles = [], []
    for frame in read_openpose_directory(directory):
        result = lifter.lift(frame.keypoints_2d) if len(frame.keypoints_2d) else None
        poses = result.joints_3d[result.valid] if result is not None else np.zeros((0, 15, 3))
        frames.append(poses)
        titles.append(frame.path.stem)
    return frames, titles


def _demo(args) -> int:
    from pose_lifter.runtime.metrics import n_mpjpe, pa_mpjpe
    from pose_lifter.tools.visualize import skeleton_figure, write_html

    out = Path(args.out)
    started = time.perf_counter()
    frames, titles = lift_openpose_directory(Path(args.input), args.model, args.device)
    elapsed = time.perf_counter() - started
    html = write_html(skeleton_figure(frames, titles, spacing=2.5), out / "demo_skeletons.html")
    np.savez_compressed(
        out / "demo_joints_3d.npz",
        joints_3d=(
            np.stack(frames) if len({len(f) for f in frames}) == 1 else np.concatenate(frames)
        ),
        titles=np.asarray(titles),
    )
    people = sum(len(f) for f in frames)
    print(
        f"lifted {people} people in {len(frames)} frames "
        f"({elapsed * 1000:.0f} ms incl. model load)"
    )
    truth_path = Path(args.input).parent / "openpose_json_ground_truth.npz"
    if Path(args.input) == SAMPLE_DIR / "openpose_json" and truth_path.exists():
        truth = np.load(truth_path)
        walker = np.stack([f[0] for f in frames])
        jumper = np.stack([f[1] for f in frames])
        for name, predicted, target in (
            ("walker", walker, truth["walker_joints_3d"]),
            ("jumper", jumper, truth["jumper_joints_3d"]),
        ):
            print(
                f"  {name}: N-MPJPE {1000 * n_mpjpe(predicted, target):.1f} mm, "
                f"PA-MPJPE {1000 * pa_mpjpe(predicted, target):.1f} mm (CMU mocap ground truth)"
            )
    print(f"wrote {html}")
    print(f"wrote {out / 'demo_joints_3d.npz'}")
    return 0


def _bag_frames(path: Path, topic: str | None, max_frames: int):
    """Return the per-frame poses, titles and ids of a bag.

    Per-frame poses, titles and ids of a bag: its Skeleton3DArray topic (``topic``, else the one
    named ``.../skeletons_3d``, else the only one that is not ground truth), or else its inputs
    lifted offline.
    """
    from pose_lifter.tools.bag_io import BagReader
    from pose_lifter.tools.replay import (
        GROUND_TRUTH_SUFFIX,
        SKELETONS_3D_TYPE,
        _arrays_3d,
        replay_offline,
    )

    with BagReader(path) as reader:
        topics = reader.topics()
        candidates = [
            name
            for name, info in topics.items()
            if info.msgtype == SKELETONS_3D_TYPE and not name.endswith(GROUND_TRUTH_SUFFIX)
        ]
        preferred = [name for name in candidates if name.endswith("skeletons_3d")]
        chosen = topic or (
            preferred[0] if preferred else candidates[0] if len(candidates) == 1 else None
        )
        if chosen is not None:
            frames, titles, labels = [], [], []
            for item in reader.messages([chosen]):
                ids, joints, _ = _arrays_3d(item.to_rclpy())
                frames.append(joints)
                labels.append(ids)
                titles.append(f"{chosen} t={item.timestamp_ns * 1e-9:.2f}")
                if len(frames) >= max_frames:
                    break
            return frames, titles, labels
    result = replay_offline(path, max_frames=max_frames)
    return (
        [r.joints_3d for r in result.records],
        [f"frame {r.index}" for r in result.records],
        [r.ids for r in result.records],
    )


def _view(args) -> int:
    from pose_lifter.tools.visualize import skeleton_figure, write_html

    path = Path(args.file)
    labels = None
    if path.is_dir() and (path / "metadata.yaml").exists():
        frames, titles, labels = _bag_frames(path, args.topic, args.max_frames)
        if not frames:
            raise PoseLifterError(f"{path}: no frames to view")
    elif path.is_dir():
        frames, titles = lift_openpose_directory(path, args.model, args.device)
    elif path.suffix == ".npz":
        with np.load(path) as data:
            if "joints_3d" not in data.files:
                raise PoseLifterError(f"{path}: no 'joints_3d' array")
            joints = data["joints_3d"]
        joints = joints.reshape(-1, 1, 15, 3) if joints.ndim == 3 else joints
        frames, titles = list(joints[: args.max_frames]), None
    else:
        raise PoseLifterError(
            f"{path}: expected an npz file, an OpenPose JSON directory or a " "rosbag2 directory"
        )
    output = write_html(
        skeleton_figure(frames[: args.max_frames], titles, labels),
        args.output or path.with_suffix(".html"),
    )
    print(f"wrote {output}")
    return 0


def _remove_old_bag(path: Path) -> None:
    """Delete an earlier output bag (``--overwrite``); refuses anything that is not a bag."""
    import shutil

    if not path.exists():
        return
    if not (path / "metadata.yaml").exists():
        raise PoseLifterError(f"{path} exists and is not a rosbag2 directory; not overwriting it")
    shutil.rmtree(path)


def _replay(args) -> int:
    from pose_lifter.tools.replay import load_settings, replay_live, replay_offline

    if args.live:
        result = replay_live(
            args.bag,
            topics=args.topics,
            rate=args.rate,
            node_ns=args.node_ns,
            remaps=args.remap,
            clock=not args.no_clock,
            wait_s=args.wait,
            drain_s=args.drain,
            report_dir=args.report,
            max_frames=args.max_frames,
        )
        s = result.summary
        lat = s["end_to_end_latency_ms"]
        print(
            f"published {s['published']} input messages at rate {args.rate or 'max'} "
            f"in {s['publish_duration_s']:.2f} s; received {s['received']}, dropped "
            f"{s['dropped']} ({100 * s['drop_rate']:.1f}%)"
        )
        if lat["count"]:
            print(
                f"end-to-end latency ms: p50 {lat['p50']:.1f}  p95 {lat['p95']:.1f}  "
                f"p99 {lat['p99']:.1f}  max {lat['max']:.1f}"
            )
        if result.report_json:
            print(f"wrote {result.report_json}")
        return 0
    if args.out and args.overwrite:
        _remove_old_bag(Path(args.out))
    result = replay_offline(
        args.bag,
        topics=args.topics,
        out_bag=args.out,
        report_dir=args.report,
        params_file=args.params_file,
        settings=load_settings(args.params_file, args.param) if args.param else None,
        ground_truth=args.ground_truth,
        namespace=args.namespace,
        storage=args.storage,
        max_frames=args.max_frames,
        node_name=args.node_name,
    )
    s = result.summary
    lat = s["latency_ms"]
    print(
        f"replayed {s['frames']} frames of {', '.join(s['input_topics'])}: "
        f"{s['persons_3d']} skeletons ({s['unique_ids']} ids, {s['id_switches']} id switches, "
        f"{s['joints_missing']} joints missing), {s['frames_dropped']} frames dropped"
    )
    if lat["count"]:
        print(
            f"processing latency ms: p50 {lat['p50']:.1f}  p95 {lat['p95']:.1f}  "
            f"p99 {lat['p99']:.1f} ({s['device']})"
        )
    truth = s.get("ground_truth")
    if truth and truth.get("matched"):
        flat = truth["flat_baseline"]
        print(
            f"ground truth: {truth['matched']}/{truth['persons']} persons matched; N-MPJPE "
            f"{truth['n_mpjpe_mm']:.1f} mm, PA-MPJPE {truth['pa_mpjpe_mm']:.1f} mm (flat "
            f"baseline {flat['n_mpjpe_mm']:.1f} / {flat['pa_mpjpe_mm']:.1f} mm); absolute "
            f"(camera frame) MPJPE {truth['abs_mpjpe_mm']:.1f} mm, root-depth error median "
            f"{truth['root_depth_error_pct']['p50']:.1f}%"
        )
    sources = s.get("persons_by_scale_source", {})
    print(
        "scale from: " + ", ".join(f"{name} {count}" for name, count in sources.items() if count)
    )
    for label, path in (
        ("output bag", result.out_bag),
        ("report", result.report_html),
        ("report JSON", result.report_json),
    ):
        if path:
            print(f"{label}: {Path(path).resolve()}")
    print(f"done in {s['wall_time_s']:.1f} s")
    return 0


def _record_sample(args) -> int:
    from pose_lifter.tools.sample_bag import record_sample

    output = Path(args.output)
    if args.overwrite:
        _remove_old_bag(output)
    info = record_sample(
        output,
        args.video,
        first_frame=args.first_frame,
        count=args.frames,
        quality=args.quality,
        storage=args.storage,
    )
    print(
        f"wrote {info['path']}: {info['frames']} frames from frame {info['first_frame']} of "
        f"{args.video} ({info['bytes'] / 1e6:.2f} MB)"
    )
    return 0


def _record_rgbd_sample(args) -> int:
    from pose_lifter.tools.sample_bag import record_rgbd_sample

    output = Path(args.output)
    if args.overwrite:
        _remove_old_bag(output)
    info = record_rgbd_sample(output, args.cmu, args.frames, args.seed, args.storage)
    print(f"wrote {info['path']}: {info['frames']} RGB-D frames ({info['bytes'] / 1e6:.2f} MB)")
    return 0


def _play(args) -> int:
    from pose_lifter.tools.player import play

    return play(Path(args.bag), args.rate, not args.once, args.node_ns, args.ros_args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pose-lifter",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="lift the bundled sample and write an HTML page")
    demo.add_argument(
        "--input", default=str(SAMPLE_DIR / "openpose_json"), help="OpenPose JSON directory"
    )
    demo.add_argument("--out", default="out/demo", help="output folder")
    demo.add_argument("--model", default=None, help="weights (default: the shipped model)")
    demo.add_argument("--device", default="auto", help="auto | cpu | cuda")
    demo.set_defaults(func=_demo)
    from pose_lifter.ros.parameters import DEFAULT_NODE_NAME
    from pose_lifter.tools.replay import DEFAULT_OUTPUT_NAMESPACE
    from pose_lifter.tools.sample_bag import SAMPLE_BAG, VTEST_VIDEO

    replay = sub.add_parser(
        "replay",
        help="run a rosbag2 bag through the node's processing code path (offline or live)",
        description="Offline (default): run the bag's image or Skeleton2DArray messages through "
        "the node's processing code path; write an output bag and a report. --live: publish the "
        "bag into a running graph and measure the node's end-to-end latency and drops.",
    )
    replay.add_argument("bag", help="rosbag2 directory (sqlite3 or mcap)")
    replay.add_argument(
        "--topics",
        nargs="+",
        metavar="TOPIC",
        help="input topics (Image, CompressedImage or Skeleton2DArray; plus "
        "CameraInfo / ground-truth topics); default: the bag's only input topic",
    )
    replay.add_argument("--out", help="offline: output bag directory (new)")
    replay.add_argument(
        "--overwrite", action="store_true", help="replace an existing output bag directory"
    )
    replay.add_argument(
        "--report", help="report directory (report.json + report.html; live: " "live_report.json)"
    )
    replay.add_argument(
        "--params-file",
        help="the node's parameters YAML (default: the shipped " "config/pose_lifter.yaml)",
    )
    replay.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME:=VALUE",
        help="offline: set a node parameter on top of the parameters file (repeatable), e.g. "
        "-p target_frame:=map (the bag's /tf and /tf_static then place the outputs)",
    )
    replay.add_argument(
        "--ground-truth",
        help="side npz: joints_3d (N,15,3)|(N,P,15,3) "
        "[+ stamps_ns (N,)]; a Skeleton3DArray topic ending in joints_3d is used "
        "automatically",
    )
    replay.add_argument(
        "--storage", choices=("sqlite3", "mcap"), help="output bag storage (default: the input's)"
    )
    replay.add_argument(
        "--namespace",
        default=DEFAULT_OUTPUT_NAMESPACE,
        help="namespace of the output topics in the output bag",
    )
    replay.add_argument(
        "--node-name",
        default=DEFAULT_NODE_NAME,
        help="offline: fully qualified name of the node replay stands in for; its track ids "
        "are named like that node's (default /pose_lifter: pose_lifter_p1, ...)",
    )
    replay.add_argument("--max-frames", type=int, help="stop after this many input messages")
    replay.add_argument("--live", action="store_true", help="publish into a running graph")
    replay.add_argument(
        "--rate",
        type=float,
        default=1.0,
        help="live: 1 = original timing, R = R times faster, 0 = as fast as possible",
    )
    replay.add_argument("--node-ns", default="/", help="live: namespace of the pose_lifter node")
    replay.add_argument(
        "--remap",
        nargs="+",
        default=[],
        metavar="FROM:=TO",
        help="live: publish bag topic FROM on TO (default: the node's inputs)",
    )
    replay.add_argument("--no-clock", action="store_true", help="live: do not publish /clock")
    replay.add_argument(
        "--wait",
        type=float,
        default=20.0,
        help="live: seconds to wait for the node's topics to match",
    )
    replay.add_argument(
        "--drain",
        type=float,
        default=5.0,
        help="live: seconds to wait for outstanding outputs after the last input",
    )
    replay.set_defaults(func=_replay)
    play = sub.add_parser(
        "play",
        help="play a bag's camera into a running node, in a loop (default: the bundled sample)",
        description="Publish a bag's input topic and CameraInfo on the pose_lifter node's "
        "input topics with their original timing, headers restamped now, in a loop "
        "(demo.launch.py input_mode:=image runs it).",
    )
    play.add_argument("bag", nargs="?", default=str(SAMPLE_BAG), help="rosbag2 directory")
    play.add_argument("--rate", type=float, default=1.0, help="times the original speed")
    play.add_argument("--once", action="store_true", help="stop at the end of the bag")
    play.add_argument("--node-ns", default="/", help="namespace of the pose_lifter node")
    play.set_defaults(func=_play)
    record = sub.add_parser("record-sample", help="rebuild the bundled sample bag from vtest.avi")
    record.add_argument(
        "--video",
        default=str(VTEST_VIDEO),
        help="video file (default: Debian opencv-doc's vtest.avi)",
    )
    record.add_argument("--output", default=str(SAMPLE_BAG), help="bag directory to write")
    record.add_argument("--overwrite", action="store_true", help="replace an existing bag")
    record.add_argument("--first-frame", type=int, default=590)
    record.add_argument("--frames", type=int, default=30)
    record.add_argument("--quality", type=int, default=75, help="JPEG quality")
    record.add_argument("--storage", choices=("sqlite3", "mcap"), default="mcap")
    record.set_defaults(func=_record_sample)
    from pose_lifter.tools.sample_bag import RGBD_SAMPLE_BAG

    rgbd = sub.add_parser(
        "record-rgbd-sample",
        help="rebuild the bundled RGB-D sample bag (synthetic depth bodies of CMU test poses)",
    )
    rgbd.add_argument(
        "--cmu", default="training/data/cmu_mocap_15j.npz", help="CMU mocap npz (training/data)"
    )
    rgbd.add_argument("--output", default=str(RGBD_SAMPLE_BAG), help="bag directory to write")
    rgbd.add_argument("--overwrite", action="store_true", help="replace an existing bag")
    rgbd.add_argument("--frames", type=int, default=10)
    rgbd.add_argument("--seed", type=int, default=0)
    rgbd.add_argument("--storage", choices=("sqlite3", "mcap"), default="mcap")
    rgbd.set_defaults(func=_record_rgbd_sample)
    view = sub.add_parser("view", help="interactive 3D stick figures (Plotly HTML)")
    view.add_argument(
        "file",
        help="npz with joints_3d (N,15,3) or (N,P,15,3), an OpenPose JSON "
        "directory, or a rosbag2 directory",
    )
    view.add_argument("--topic", help="bag: the Skeleton3DArray topic to show")
    view.add_argument("--output", help="HTML path (default: FILE.html)")
    view.add_argument("--model", default=None)
    view.add_argument("--device", default="auto")
    view.add_argument("--max-frames", type=int, default=200)
    view.set_defaults(func=_view)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # ``--ros-args ... [--]`` (launch_ros adds it: name, namespace, remaps) is rclpy's
    ours = argv[: argv.index("--ros-args")] if "--ros-args" in argv else argv
    if "--ros-args" in argv and "--" in argv[argv.index("--ros-args") :]:
        ours += argv[argv.index("--", argv.index("--ros-args")) + 1 :]
    args = build_parser().parse_args(ours)
    args.ros_args = ["pose-lifter", *argv]  # for rclpy.init
    try:
        return args.func(args)
    except (PoseLifterError, ValueError) as error:
        print(f"pose-lifter: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
