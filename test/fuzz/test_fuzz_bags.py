"""Fuzz suite: rosbag2 bags (bag_io, replay)."""

from __future__ import annotations

import random
import shutil
import tempfile
from pathlib import Path

import pytest
from builtin_interfaces.msg import Time
from hypothesis import given
from hypothesis import strategies as st
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header

from pose_lifter.tools import bag_io, replay
from pose_lifter.ros.openpose_bridge import SAMPLE_DIRECTORY, frame_to_msg
from pose_lifter.runtime.openpose_json import read_openpose_directory
from pose_lifter.ros.parameters import Settings
from pose_lifter_msgs.msg import Skeleton2DArray

from fuzzing import (  # shared strategies and checks
    with_fuzz_seed,
    check_output,
    fuzz,
    GOOD_K,
    _rmw_error,
    _scaled,
    snapshot,
)


@pytest.fixture(scope="module")
def bags(tmp_path_factory):
    root = tmp_path_factory.mktemp("bags")
    msgs = [
        frame_to_msg(f, Header(stamp=Time(sec=10 + i), frame_id="cam"), (1280, 720), "openpose")
        for i, f in enumerate(read_openpose_directory(SAMPLE_DIRECTORY)[:6])
    ]
    stream = [("/camera_info", CameraInfo(header=Header(stamp=Time(sec=9)), k=GOOD_K), 9 * 10**9)]
    stream += [("/keypoints_2d", m, (10 + i) * 10**9) for i, m in enumerate(msgs)]
    paths = {
        storage: bag_io.write_bag(root / storage, stream, storage) for storage in bag_io.STORAGES
    }
    return bag_io, paths


@st.composite
def bag_corruption(draw):
    """``(storage, target, action, args)``: what to do to a copy of a valid bag."""
    storage = draw(st.sampled_from(["mcap", "sqlite3"]))
    target = draw(st.sampled_from(["data", "data", "data", "metadata"]))
    action = draw(st.sampled_from(["truncate", "flip", "delete", "garbage"]))
    return (
        storage,
        target,
        action,
        draw(st.floats(0, 1)),
        draw(st.integers(0, 2**32)),
        draw(st.integers(1, 64)),
    )


def _corrupt(src: Path, dst: Path, storage, target, action, where, seed, count):
    shutil.copytree(src, dst)
    files = sorted(dst.glob("*.mcap" if storage == "mcap" else "*.db3"))
    path = files[0] if target == "data" else dst / "metadata.yaml"
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)
    if action == "delete":
        path.unlink()
        return
    if action == "truncate":
        data = data[: int(where * len(data))]
    elif action == "flip":
        for _ in range(count):
            data[rng.randrange(len(data))] = rng.randrange(256)
    else:
        start = int(where * len(data))
        data[start : start + count] = rng.randbytes(count)
    path.write_bytes(bytes(data))


def _truncated_copy(src: Path, dst: Path, fraction: float) -> Path:
    shutil.copytree(src, dst)
    (data,) = sorted(dst.glob("*.db3")) or sorted(dst.glob("*.mcap"))
    data.write_bytes(data.read_bytes()[: int(fraction * data.stat().st_size)])
    return dst


def test_truncated_sqlite_bag_raises_bag_error(bags, tmp_path):
    bag_io, paths = bags
    path = _truncated_copy(paths["sqlite3"], tmp_path / "bag", 0.875)
    with pytest.raises(bag_io.BagError):
        with bag_io.BagReader(path) as reader:
            list(reader.messages())


@with_fuzz_seed
@fuzz(_scaled(0.5, 40), decodes_raw_cdr=True)
@given(bag_corruption())
def test_corrupt_bag_reader_raises_bag_error(bags, pipeline, corruption):
    """Check that a corrupted bag raises BagError.

    BagReader on a corrupted copy: opening, listing and reading raise BagError or work; every
    message read before the damage deserializes to a message the pipeline handles without
    raising, or fails in rclpy's deserializer (RMWError).
    """
    bag_io, paths = bags
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bag"
        _corrupt(paths[corruption[0]], path, *corruption)
        items = []
        try:
            with bag_io.BagReader(path) as reader:  # only BagError may escape the reader
                reader.topics()
                for item in reader.messages():
                    items.append(item)
        except bag_io.BagError:
            pass  # what was read before the damage is still checked below
        for item in items:  # the per-message step itself may raise nothing
            try:
                msg = item.to_rclpy()
            except Exception as error:  # noqa: BLE001
                assert _rmw_error(error), repr(error)
                continue
            if isinstance(msg, Skeleton2DArray):
                check_output(
                    pipeline,
                    msg,
                    ["?"] * len(msg.skeletons),
                    snapshot(pipeline),
                    pipeline.process(msg),
                )


@with_fuzz_seed
@fuzz(_scaled(0.1, 12), decodes_raw_cdr=True)
@given(bag_corruption())
def test_corrupt_bag_replay_raises_bag_error(bags, corruption):
    bag_io, paths = bags
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bag"
        _corrupt(paths[corruption[0]], path, *corruption)
        try:
            replay.replay_offline(path, settings=Settings(), html=False)
        except replay.BagError:
            pass  # a bag that cannot be read is refused; the step never raises
