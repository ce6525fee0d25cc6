"""The offline transform buffer against hand-computed transforms (tf2's semantics)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pose_lifter.runtime.transform_buffer import RigidTransform, TransformBuffer, slerp

S = 1_000_000_000  # ns per second


def about_z(degrees: float) -> tuple[float, float, float, float]:
    half = math.radians(degrees) / 2
    return (0.0, 0.0, math.sin(half), math.cos(half))


def test_static_chain_and_its_inverse_by_hand():
    buffer = TransformBuffer()
    # map -> base: base is 2 m along map x, turned 90 deg about z
    buffer.set_transform("map", "base", RigidTransform(about_z(90), (2.0, 0.0, 0.0)), static=True)
    # base -> cam: cam is 1 m above base
    buffer.set_transform("base", "cam", RigidTransform(translation_m=(0.0, 0.0, 1.0)), static=True)
    map_from_cam = buffer.lookup("map", "cam", 5 * S)
    # a point 1 m along cam x: base (1, 0, 1) -> turned: (0, 1, 1) -> shifted: (2, 1, 1)
    assert map_from_cam.apply([1.0, 0.0, 0.0]) == pytest.approx([2.0, 1.0, 1.0])
    cam_from_map = buffer.lookup("cam", "map", 0)
    assert cam_from_map.apply([2.0, 1.0, 1.0]) == pytest.approx([1.0, 0.0, 0.0], abs=1e-12)
    assert buffer.lookup("cam", "cam", 0).apply([3.0, 4.0, 5.0]) == pytest.approx([3, 4, 5])


def test_siblings_through_their_common_parent():
    buffer = TransformBuffer()
    buffer.set_transform(
        "base", "left", RigidTransform(translation_m=(0.0, 0.5, 0.0)), static=True
    )
    buffer.set_transform(
        "base", "right", RigidTransform(translation_m=(0.0, -0.5, 0.0)), static=True
    )
    # the origin of "right" is 1 m to the -y of "left"
    assert buffer.lookup("left", "right", 0).apply([0.0, 0.0, 0.0]) == pytest.approx([0, -1, 0])


def test_dynamic_link_interpolates_and_does_not_extrapolate():
    buffer = TransformBuffer()
    buffer.set_transform("odom", "base", RigidTransform(about_z(0), (0.0, 0.0, 0.0)), 10 * S)
    buffer.set_transform("odom", "base", RigidTransform(about_z(90), (4.0, 0.0, 0.0)), 12 * S)
    mid = buffer.lookup("odom", "base", 11 * S)  # half way: 2 m along x, turned 45 deg
    assert mid.translation_m == pytest.approx((2.0, 0.0, 0.0))
    assert mid.rotation_xyzw == pytest.approx(about_z(45))
    quarter = buffer.lookup("odom", "base", 10 * S + S // 2)
    assert quarter.translation_m == pytest.approx((1.0, 0.0, 0.0))
    assert quarter.rotation_xyzw == pytest.approx(about_z(22.5))
    assert buffer.lookup("odom", "base", 12 * S).translation_m == pytest.approx((4, 0, 0))
    assert buffer.lookup("odom", "base", 9 * S) is None  # before the first sample
    assert buffer.lookup("odom", "base", 13 * S) is None  # after the last


def test_static_and_dynamic_mixed_chain():
    buffer = TransformBuffer()
    buffer.set_transform(
        "map", "odom", RigidTransform(translation_m=(10.0, 0.0, 0.0)), static=True
    )
    buffer.set_transform("odom", "base", RigidTransform(translation_m=(0.0, 0.0, 0.0)), 0)
    buffer.set_transform("odom", "base", RigidTransform(translation_m=(0.0, 2.0, 0.0)), 2 * S)
    buffer.set_transform("base", "cam", RigidTransform(about_z(180), (0.0, 0.0, 1.5)), static=True)
    at_1s = buffer.lookup("map", "cam", S)
    # cam point (1, 0, 0) -> turned 180: (-1, 0, 1.5) -> base at (0, 1, 0): (-1, 1, 1.5) -> +10
    assert at_1s.apply([1.0, 0.0, 0.0]) == pytest.approx([9.0, 1.0, 1.5])
    assert buffer.lookup("map", "cam", 3 * S) is None


def test_unconnected_frames_and_bad_input():
    buffer = TransformBuffer()
    buffer.set_transform("map", "base", RigidTransform(), static=True)
    buffer.set_transform("world", "cam", RigidTransform(), static=True)
    assert not buffer.connected("map", "cam") and buffer.connected("map", "base")
    assert buffer.lookup("map", "cam", 0) is None
    assert buffer.frames == {"map", "base", "world", "cam"}
    with pytest.raises(ValueError):
        buffer.set_transform("a", "a", RigidTransform())
    with pytest.raises(ValueError):
        buffer.set_transform("a", "b", RigidTransform((0.0, 0.0, 0.0, 0.0)))


def test_slerp_takes_the_short_way_and_matches_matrices():
    a, b = np.array(about_z(170)), -np.array(about_z(-170))  # b is -q of -170 deg (= 190 deg)
    half = slerp(a, b, 0.5)
    rotation = RigidTransform(tuple(half)).matrix()
    expected = RigidTransform(about_z(180)).matrix()
    assert np.allclose(rotation, expected, atol=1e-9)
    composed = RigidTransform(about_z(30)).compose(RigidTransform(about_z(60)))
    assert np.allclose(composed.matrix(), RigidTransform(about_z(90)).matrix())


def about_x(degrees: float) -> tuple[float, float, float, float]:
    half = math.radians(degrees) / 2
    return (math.sin(half), 0.0, 0.0, math.cos(half))


def test_a_chain_turning_about_two_axes_by_hand():
    """map -> base turns 90 deg about z, base -> cam 90 deg about x: the order matters.

    A point 1 m along cam y: in base, turned 90 deg about x, it is 1 m along base z (y -> z);
    in map, the turn about z leaves z alone, then 1 m up plus base's offset: (2, 0, 1). The
    product the other way round (about x first in map's frame) would put it at (2, 0, 1) only
    by chance for this point, so the x axis is checked too: cam x -> base x -> map y.
    """
    buffer = TransformBuffer()
    buffer.set_transform("map", "base", RigidTransform(about_z(90), (2.0, 0.0, 0.0)), static=True)
    buffer.set_transform("base", "cam", RigidTransform(about_x(90), (0.0, 0.0, 0.0)), static=True)
    map_from_cam = buffer.lookup("map", "cam", 0)
    assert map_from_cam.apply([0.0, 1.0, 0.0]) == pytest.approx([2.0, 0.0, 1.0], abs=1e-12)
    assert map_from_cam.apply([1.0, 0.0, 0.0]) == pytest.approx([2.0, 1.0, 0.0], abs=1e-12)
    # cam z: base x-turn takes z -> -y, map z-turn takes -y -> +x: (2 + 1, 0, 0)
    assert map_from_cam.apply([0.0, 0.0, 1.0]) == pytest.approx([3.0, 0.0, 0.0], abs=1e-12)
    # the composed rotation is q_z(90) * q_x(90) (parent's first), by hand
    c = math.sqrt(0.5)
    expected = (c * c, c * c, c * c, c * c)  # (0.5, 0.5, 0.5, 0.5)
    assert map_from_cam.rotation_xyzw == pytest.approx(expected, abs=1e-12)
    back = buffer.lookup("cam", "map", 0)
    assert back.apply([3.0, 0.0, 0.0]) == pytest.approx([0.0, 0.0, 1.0], abs=1e-12)


def test_an_interpolated_lookup_through_a_two_axis_chain_by_hand():
    """odom -> base turns about z over time; base -> cam is a static 90 deg turn about x."""
    buffer = TransformBuffer()
    buffer.set_transform("odom", "base", RigidTransform(about_z(0), (0.0, 0.0, 0.0)), 10 * S)
    buffer.set_transform("odom", "base", RigidTransform(about_z(90), (2.0, 0.0, 0.0)), 12 * S)
    buffer.set_transform("base", "cam", RigidTransform(about_x(90), (0.0, 0.0, 0.5)), static=True)
    mid = buffer.lookup("odom", "cam", 11 * S)  # base at (1, 0, 0) turned 45 deg about z
    # cam z -> base -y (then 0.5 m up); turned 45 deg about z: -y -> (sin 45, -cos 45, 0)
    c = math.sqrt(0.5)
    assert mid.apply([0.0, 0.0, 1.0]) == pytest.approx([1.0 + c, -c, 0.5], abs=1e-12)
    # cam y -> base z: unchanged by the turn about z
    assert mid.apply([0.0, 1.0, 0.0]) == pytest.approx([1.0, 0.0, 1.5], abs=1e-12)


def test_stamp_zero_is_the_latest_common_time_and_known_by_hides_later_samples():
    buffer = TransformBuffer()

    def moving(parent, child, stamp_s, translation):  # received at its stamp
        shift = RigidTransform(translation_m=translation)
        buffer.set_transform(parent, child, shift, stamp_s * S, received_ns=stamp_s * S)

    moving("odom", "base", 10, (0, 0, 0))
    moving("odom", "base", 12, (2, 0, 0))
    moving("base", "arm", 9, (0, 1, 0))
    moving("base", "arm", 11, (0, 3, 0))
    # latest common time of odom->base (12 s) and base->arm (11 s): 11 s
    latest = buffer.lookup("odom", "arm", 0)
    assert latest.translation_m == pytest.approx((1.0, 3.0, 0.0))
    # known by 11.5 s: odom->base has only its 10 s sample, so 11 s cannot be interpolated
    assert buffer.lookup("odom", "arm", 11 * S, known_by_ns=11 * S + S // 2) is None
    assert buffer.lookup("odom", "arm", 0, known_by_ns=11 * S + S // 2).translation_m == (
        pytest.approx((0.0, 2.0, 0.0))
    )  # latest common: 10 s (arm interpolated half way)
    assert buffer.lookup("odom", "arm", 11 * S, known_by_ns=12 * S) is not None
