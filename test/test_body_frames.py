"""REP 155 body frames (x forward out of the chest, y left, z up) and the frame-name pool."""

from __future__ import annotations

import numpy as np
import pytest
from std_msgs.msg import Header

from pose_lifter.ros.conversions import body_transforms
from pose_lifter.runtime.body_frames import FramePool, body_axes, matrix_to_quaternion
from pose_lifter.runtime.joints import LHIP, LSHOULDER, MIDHIP, NECK, NUM_JOINTS, RHIP, RSHOULDER
from pose_lifter.runtime.placement import quaternion_to_matrix


def standing_person(facing_camera: bool = True) -> np.ndarray:
    """Return a T-shaped torso in the camera optical frame (x right, y down, z forward), m."""
    joints = np.zeros((NUM_JOINTS, 3))
    side = 1.0 if facing_camera else -1.0  # facing the camera: its left is the image's right
    joints[MIDHIP] = (0.0, 0.0, 3.0)
    joints[NECK] = (0.0, -0.5, 3.0)  # up = -y
    joints[LSHOULDER], joints[RSHOULDER] = (side * 0.2, -0.5, 3.0), (-side * 0.2, -0.5, 3.0)
    joints[LHIP], joints[RHIP] = (side * 0.1, 0.0, 3.0), (-side * 0.1, 0.0, 3.0)
    return joints


def random_rotations(count: int, rng) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(count, 3, 3)))
    return q * np.sign(np.linalg.det(q))[:, None, None]


def test_a_person_facing_the_camera_points_x_at_the_camera_and_z_up():
    axes = body_axes(standing_person()[None])[0]
    assert axes[:, 0] == pytest.approx((0, 0, -1))  # forward: out of the chest, to the camera
    assert axes[:, 1] == pytest.approx((1, 0, 0))  # the person's left = image right
    assert axes[:, 2] == pytest.approx((0, -1, 0))  # up = -y of the optical frame
    back = body_axes(standing_person(facing_camera=False)[None])[0]
    assert back[:, 0] == pytest.approx((0, 0, 1))  # seen from behind: forward = away


def test_axes_are_a_rotation_that_follows_the_body():
    rng = np.random.default_rng(0)
    base = standing_person() - standing_person()[MIDHIP]
    rotations = random_rotations(50, rng)
    rotated = np.einsum("pij,kj->pki", rotations, base)  # every joint rotated about MidHip
    axes = body_axes(rotated)
    reference = body_axes(base[None])[0]
    assert np.allclose(axes, rotations @ reference, atol=1e-9)
    assert np.allclose(axes.transpose(0, 2, 1) @ axes, np.eye(3), atol=1e-9)
    assert np.allclose(np.linalg.det(axes), 1.0)


def test_spine_tilt_is_removed_from_the_left_axis():
    joints = standing_person()
    joints[LSHOULDER, 1] -= 0.1  # shoulders not level: left is orthogonalised against up
    axes = body_axes(joints[None])[0]
    assert axes[:, 2] == pytest.approx((0, -1, 0))
    assert abs(axes[:, 1] @ axes[:, 2]) < 1e-12


def test_a_degenerate_torso_keeps_the_parent_orientation():
    collapsed = np.zeros((1, NUM_JOINTS, 3))
    nan = np.full((1, NUM_JOINTS, 3), np.nan)
    assert np.array_equal(body_axes(collapsed)[0], np.eye(3))
    assert np.array_equal(body_axes(nan)[0], np.eye(3))


def test_quaternions_round_trip_through_the_matrix():
    rotations = random_rotations(200, np.random.default_rng(1))
    rotations[:4] = [np.eye(3), np.diag([1, -1, -1]), np.diag([-1, 1, -1]), np.diag([-1, -1, 1])]
    quaternions = matrix_to_quaternion(rotations)
    assert np.allclose(np.linalg.norm(quaternions, axis=1), 1.0)
    assert (quaternions[:, 3] >= 0).all()
    back = np.array([quaternion_to_matrix(q) for q in quaternions])
    assert np.allclose(back, rotations, atol=1e-9)


def test_transforms_rebuild_every_joint_in_the_camera_frame():
    rng = np.random.default_rng(2)
    people = standing_person()[None] + rng.normal(scale=0.05, size=(2, NUM_JOINTS, 3))
    transforms = body_transforms(Header(frame_id="cam"), ["p1", "p2"], people)
    assert len(transforms) == 2 * (1 + NUM_JOINTS)
    by_child = {t.child_frame_id: t for t in transforms}
    for p, name in enumerate(["p1", "p2"]):
        body = by_child[f"body_{name}"]
        assert body.header.frame_id == "cam"
        r = body.transform.rotation
        rotation = quaternion_to_matrix((r.x, r.y, r.z, r.w))
        t = body.transform.translation
        origin = np.array([t.x, t.y, t.z])
        assert origin == pytest.approx(people[p, MIDHIP])
        children = [x for x in transforms if x.header.frame_id == f"body_{name}"]
        assert len(children) == NUM_JOINTS
        for j, child in enumerate(children):
            v = child.transform.translation
            assert rotation @ np.array([v.x, v.y, v.z]) + origin == pytest.approx(people[p, j])
            assert child.transform.rotation.w == 1.0


def test_pool_reuses_names_and_is_bounded_by_people_at_once():
    pool = FramePool("cam_p")
    assert pool.names(["a", "b"], {"a", "b"}) == ["cam_p1", "cam_p2"]
    assert pool.names(["b", "a"], {"a", "b"}) == ["cam_p2", "cam_p1"]  # kept while tracked
    assert pool.names(["c"], {"b", "c"}) == ["cam_p1"]  # a's track ended: its name is reused
    seen = set()
    for step in range(200):  # 3 people at a time, track ids never reused
        ids = [f"t{step}_{k}" for k in range(3)]
        seen.update(pool.names(ids, set(ids)))
    assert seen == {"cam_p1", "cam_p2", "cam_p3"} and pool.size == 3
