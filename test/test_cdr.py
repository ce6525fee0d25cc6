"""The CDR encoders write exactly what rclpy serializes for the messages built the slow way.

For many random outputs (0-20 persons, missing joints, long and non-ASCII ids, every scale
source, TF frame names or none, velocities, uncertainty radii (0 = unknown) and coverages, stale
marker slots to delete) the bytes of
:attr:`PipelineOutput.skeletons_cdr` / :attr:`PipelineOutput.markers_cdr` must equal
``serialize_message`` of :attr:`PipelineOutput.skeletons` / :attr:`PipelineOutput.markers` at
every byte but the alignment padding (rmw leaves padding uninitialised; ours is zero, as the
field-by-field reference writer writes it), and ``deserialize_message`` must give the message
back. The encoders' layout is checked against the installed message definitions, so a distro
that changes a type fails here first.
"""

from __future__ import annotations

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from rclpy.serialization import deserialize_message, serialize_message
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from pose_lifter.ros import cdr
from pose_lifter.ros.markers import MarkerStyle
from pose_lifter.ros.pipeline import LiftedPeople, PipelineOutput
from pose_lifter_msgs.msg import Skeleton3D, Skeleton3DArray

SCALE_SOURCES = [value for name, value in vars(Skeleton3D).items() if name.startswith("SCALE_")]


class _MarkedPadding(cdr.CdrWriter):
    """The reference writer with 0xFF padding: where it differs from zero padding is padding."""

    def align(self, size: int) -> None:
        self.buffer += b"\xff" * (-(len(self.buffer) - 4) % size)


def reference_cdr(msg, writer_type=cdr.CdrWriter) -> bytes:
    """Serialize ``msg`` field by field from its type's definition (zero padding)."""
    writer = writer_type()
    type_name = f"{type(msg).__module__.split('.')[0]}/{type(msg).__name__}"
    cdr.write_value(writer, type_name, msg)
    return writer.getvalue()


def assert_same_cdr(fast: bytes, msg) -> None:
    """``fast`` is ``msg`` serialized: rmw's bytes but the padding, the reference's exactly."""
    assert fast == reference_cdr(msg)
    rmw = np.frombuffer(serialize_message(msg), np.uint8)
    padding = np.frombuffer(reference_cdr(msg, _MarkedPadding), np.uint8) != np.frombuffer(
        fast, np.uint8
    )
    assert len(rmw) == len(fast)
    differ = np.flatnonzero((rmw != np.frombuffer(fast, np.uint8)) & ~padding)
    assert not len(differ), f"bytes {differ[:10]} differ from rmw's serialization"
    back = deserialize_message(fast, type(msg))
    assert back == deserialize_message(serialize_message(msg), type(msg))


def random_output(rng: np.random.Generator, persons: int) -> PipelineOutput:
    """Return a pipeline output of ``persons`` random people (values as the pipeline makes)."""
    alphabet = list("abcxyz_019") + ["é", "人", "/"]
    long_ids = rng.random() < 0.3

    def word(length: int) -> str:
        return "".join(rng.choice(alphabet, length))

    ids = [
        word(int(rng.integers(300, 600) if long_ids else rng.integers(1, 12)))
        for _ in range(persons)
    ]
    confidence = rng.random((persons, 15))
    confidence[rng.random((persons, 15)) < 0.2] = 0.0  # missing joints (predicted)
    frames = [word(int(rng.integers(0, 20))) for _ in range(persons)]
    people = LiftedPeople(
        ids,
        [word(int(rng.integers(0, 9))) for _ in range(persons)],
        rng.normal([0.0, 0.0, 4.0], 2.0, (persons, 15, 3)),
        confidence,
        rng.random(persons),
        [int(v) for v in rng.choice(SCALE_SOURCES, persons)],
        frames if rng.random() < 0.5 else None,
        rng.normal(0.0, 1.5, (persons, 15, 3)),
        np.where(rng.random((persons, 15)) < 0.1, 0.0, rng.uniform(0.0, 0.5, (persons, 15))),
        float(rng.choice([0.5, 0.9, rng.uniform(0.5, 0.99)])),
    )
    header = Header(
        stamp=Time(sec=int(rng.integers(0, 2**31)), nanosec=int(rng.integers(0, 10**9))),
        frame_id=word(int(rng.integers(0, 30))),
    )
    style = MarkerStyle(
        word(int(rng.integers(1, 40))),
        float(rng.uniform(0.001, 1.0)),
        float(rng.uniform(0.001, 1.0)),
        float(rng.uniform(0.01, 2.0)),
        float(rng.choice([0.0, 0.5, rng.uniform(0.0, 100.0)])),
    )
    centres = people.joints_m.mean(axis=1)
    stamp = (header.stamp.sec, header.stamp.nanosec)
    return PipelineOutput(
        stamp,
        header.frame_id,
        people,
        style,
        int(rng.integers(0, 25)),
        list(range(persons)),
        centres,
    )


@pytest.mark.parametrize("persons", [0, 1, 2, 5, 20])
def test_skeletons_cdr_equals_the_serialized_message(persons):
    rng = np.random.default_rng(persons)
    for _ in range(40):
        output = random_output(rng, persons)
        assert_same_cdr(output.skeletons_cdr, output.skeletons)
        back = deserialize_message(output.skeletons_cdr, Skeleton3DArray)
        assert [s.id for s in back.skeletons] == output.people.ids
        assert [s.scale_source for s in back.skeletons] == output.people.scale_sources
        joints = [
            [(k.position.x, k.position.y, k.position.z) for k in s.keypoints]
            for s in back.skeletons
        ]
        assert np.array_equal(np.reshape(joints, (persons, 15, 3)), output.people.joints_m)


@pytest.mark.parametrize("persons", [0, 1, 2, 5, 20])
def test_markers_cdr_equals_the_serialized_message(persons):
    rng = np.random.default_rng(100 + persons)
    for _ in range(40):
        output = random_output(rng, persons)
        assert_same_cdr(output.markers_cdr, output.markers)
        back = deserialize_message(output.markers_cdr, MarkerArray)
        assert len(back.markers) == len(output.markers.markers)


def test_float32_exact_values_come_back_equal_to_the_message():
    """With float32-exact float32 fields, the deserialized message equals the slow one."""
    rng = np.random.default_rng(7)
    output = random_output(rng, 4)

    def exact(values):
        return np.asarray(values, np.float32).astype(np.float64)

    people = output.people._replace(
        confidence=exact(output.people.confidence),
        scores=exact(output.people.scores),
        uncertainty_m=exact(output.people.uncertainty_m),
        coverage=float(exact(output.people.coverage)),
    )
    exact = PipelineOutput(
        output.stamp,
        output.frame_id,
        people,
        output.marker_style,
        2,
        [0, 1, 2, 3],
        people.joints_m.mean(1),
    )
    assert deserialize_message(exact.skeletons_cdr, Skeleton3DArray) == exact.skeletons


def test_the_encoders_layout_is_the_installed_types_and_rmw():
    assert cdr.outputs_unsupported() is None
    assert cdr.fields("pose_lifter_msgs/Skeleton3D") == cdr.SKELETON3D_FIELDS
    assert cdr.fields("pose_lifter_msgs/Keypoint3D") == cdr.KEYPOINT3D_FIELDS
    before_text, after_text = cdr.marker_defaults()
    assert len(before_text) == len(after_text) == 8  # one template per offset mod 8
