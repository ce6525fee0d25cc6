"""The causal temporal stage: steadier poses, constant bones, velocities, resets, no leaks."""

from __future__ import annotations

import numpy as np
import pytest

from pose_lifter.runtime.joints import BONES, NUM_JOINTS, ROOT
from pose_lifter.runtime.metrics import bone_length_cv
from pose_lifter.runtime.temporal import (
    ANCESTORS,
    CHAIN,
    KalmanCV,
    TemporalSettings,
    TemporalStage,
    TrackFilter,
)

RATE_HZ = 25.0
#: Without the average body's proportions at a track's start: a new track is exactly its frame.
NO_PRIOR = TemporalSettings(bone_prior_frames=0.0)


def standing_pose(offset_m=(0.0, 0.0, 4.0)) -> np.ndarray:
    """Return a plausible upright pose (camera optical frame: y down), root at ``offset_m``."""
    pose = np.array(
        [
            [0.0, -0.62, -0.08],  # nose
            [0.0, -0.50, 0.0],  # neck
            [-0.2, -0.48, 0.0],
            [-0.25, -0.2, 0.0],
            [-0.27, 0.05, -0.05],
            [0.2, -0.48, 0.0],
            [0.25, -0.2, 0.0],
            [0.27, 0.05, -0.05],
            [0.0, 0.0, 0.0],  # midhip
            [-0.1, 0.0, 0.0],
            [-0.1, 0.42, 0.02],
            [-0.1, 0.84, 0.0],
            [0.1, 0.0, 0.0],
            [0.1, 0.42, 0.02],
            [0.1, 0.84, 0.0],
        ]
    )
    return pose + np.asarray(offset_m)


def test_the_kalman_filter_follows_a_constant_velocity_and_estimates_it():
    filt = KalmanCV(np.zeros(3), 0.01, 1.0)
    for t in range(1, 100):
        filt.predict(1 / RATE_HZ, 0.1)
        filt.update(np.full(3, 0.8 * t / RATE_HZ), 0.01)
    np.testing.assert_allclose(filt.velocity, 0.8, atol=0.02)
    np.testing.assert_allclose(filt.position, 0.8 * 99 / RATE_HZ, atol=0.02)


def test_ancestors_rebuild_a_pose_from_its_bones():
    pose = standing_pose((0.0, 0.0, 0.0))
    bones = np.array([pose[child] - pose[parent] for parent, child in CHAIN])
    np.testing.assert_allclose(ANCESTORS @ bones, pose - pose[ROOT], atol=1e-12)


def test_noisy_frames_come_out_steadier_with_constant_bones_and_the_walking_speed():
    """A steady filter (low random acceleration) on 3 cm of white noise per coordinate."""
    rng = np.random.default_rng(0)
    speed_mps = np.array([1.2, 0.0, 0.0])
    track = TrackFilter(TemporalSettings(pose_acceleration=0.5, root_acceleration=0.5))
    truth, measured, outputs, velocities = [], [], [], []
    for t in range(150):
        pose = standing_pose() + speed_mps * t / RATE_HZ
        noisy = pose + rng.normal(0.0, 0.03, pose.shape)
        out = track.step(noisy, np.full(NUM_JOINTS, 0.03), t / RATE_HZ, 1000.0)
        truth.append(pose), measured.append(noisy), outputs.append(out.joints_m)
        velocities.append(out.velocity_mps)
    truth, measured, outputs = (np.array(a)[50:] for a in (truth, measured, outputs))

    def relative(poses):
        return poses - poses[:, ROOT : ROOT + 1]

    def acceleration(poses):
        return np.linalg.norm(np.diff(relative(poses), 2, axis=0), axis=2).mean()

    raw_error = np.linalg.norm(relative(measured) - relative(truth), axis=2).mean()
    error = np.linalg.norm(relative(outputs) - relative(truth), axis=2).mean()
    assert error < 0.7 * raw_error
    assert acceleration(outputs) < 0.4 * acceleration(measured)
    assert bone_length_cv(outputs) < 0.1 * bone_length_cv(measured)
    mean_velocity = np.array(velocities)[50:].mean(axis=(0, 1))
    np.testing.assert_allclose(mean_velocity, speed_mps, atol=0.1)


def test_a_new_track_has_zero_velocity_and_its_measured_pose():
    pose = standing_pose()
    out = TrackFilter(NO_PRIOR).step(pose, np.full(NUM_JOINTS, 0.03), 5.0, 1000.0)
    np.testing.assert_array_equal(out.velocity_mps, 0.0)
    np.testing.assert_allclose(out.joints_m, pose, atol=1e-9)


def _run_into(track: TrackFilter, pose: np.ndarray, stamps) -> np.ndarray:
    for stamp in stamps:
        out = track.step(pose, np.full(NUM_JOINTS, 0.03), stamp, 1000.0)
    return out


def test_gaps_stamps_going_back_and_someone_else_restart_the_filter():
    sigma = np.full(NUM_JOINTS, 0.03)
    first, second = standing_pose(), standing_pose((1.5, 0.0, 4.0))
    for stamp_after in (10.0, 1.0, 49 / RATE_HZ):  # an 8 s gap, time going back, the same stamp
        track = TrackFilter(NO_PRIOR)
        _run_into(track, first, np.arange(50) / RATE_HZ)
        out = track.step(second, sigma, stamp_after, 1000.0)
        np.testing.assert_allclose(out.joints_m, second, atol=1e-9)
    # someone else under the same id (a tracker's switch): far outside what the filter expects
    track = TrackFilter(NO_PRIOR)
    _run_into(track, first, np.arange(50) / RATE_HZ)
    other = standing_pose() @ np.diag([1.0, 0.6, 1.0])  # a crouching body, 2 m to the side
    other = other - other[ROOT] + (2.0, 0.2, 4.0)
    out = track.step(other, sigma, 50 / RATE_HZ, 1000.0)
    np.testing.assert_allclose(out.joints_m, other, atol=1e-9)
    np.testing.assert_array_equal(out.velocity_mps, 0.0)


def test_tracks_never_share_a_history_and_ended_tracks_are_forgotten():
    stage = TemporalStage(NO_PRIOR)
    sigma = np.full((2, NUM_JOINTS), 0.03)
    left, right = standing_pose((-1.0, 0.0, 4.0)), standing_pose((1.0, 0.0, 4.0))
    for t in range(30):
        joints, _, _ = stage.update(["a", "b"], np.stack([left, right]), sigma, t / 25, 1000.0)
    np.testing.assert_allclose(joints[0], left, atol=1e-6)
    np.testing.assert_allclose(joints[1], right, atol=1e-6)
    stage.forget({"b"})
    assert set(stage._filters) == {"b"}
    joints, velocity, _ = stage.update(["a"], right[None], sigma[:1], 31 / 25, 1000.0)
    np.testing.assert_allclose(joints[0], right, atol=1e-9)  # "a" starts afresh
    np.testing.assert_array_equal(velocity, 0.0)


def test_the_stage_switched_off_passes_poses_through():
    stage = TemporalStage(TemporalSettings(enabled=False))
    poses = np.stack([standing_pose()])
    joints, velocity, sigma = stage.update(["a"], poses, np.full((1, 15), 0.02), 0.0, 1000.0)
    np.testing.assert_array_equal(joints, poses)
    np.testing.assert_array_equal(velocity, 0.0)
    assert len(BONES) == len(CHAIN)


def test_a_new_tracks_bones_start_from_an_average_body_and_move_to_its_own():
    """The first frames' bones lean on an average body's shares; later frames win."""
    from pose_lifter.runtime.temporal import BONE_SHARES

    pose = standing_pose()
    long_arms = pose.copy()
    long_arms[4] = long_arms[3] + 2.0 * (pose[4] - pose[3])  # a right forearm twice as long
    track = TrackFilter(TemporalSettings(pose_acceleration=1e4, root_acceleration=1e4))
    sigma = np.full(NUM_JOINTS, 0.03)
    first = track.step(long_arms, sigma, 0.0, 1000.0).joints_m
    for t in range(1, 200):
        late = track.step(long_arms, sigma, t / RATE_HZ, 1000.0).joints_m

    def forearm(joints):
        return np.linalg.norm(joints[4] - joints[3])

    measured = forearm(long_arms)
    assert forearm(first) < 0.8 * measured  # pulled towards the average body's forearm
    assert forearm(late) == pytest.approx(measured, rel=0.05)  # its own, once seen enough
    assert BONE_SHARES.shape == (len(CHAIN),) and (BONE_SHARES > 0).all()
