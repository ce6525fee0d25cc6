"""Person tracking and One-Euro smoothing (pure numpy, no ROS graph)."""

from __future__ import annotations

import numpy as np
import pytest

from pose_lifter.ros.openpose_bridge import SAMPLE_DIRECTORY
from pose_lifter.runtime.openpose_json import read_openpose_directory
from pose_lifter.runtime.matching import greedy_pairs
from pose_lifter.runtime.smoothing import MAX_GAP_S, OneEuroFilter, SkeletonSmoother
from pose_lifter.runtime.tracking import PersonTracker, cost_matrix


def _frames():
    for frame in read_openpose_directory(SAMPLE_DIRECTORY):
        kp = frame.keypoints_2d.astype(np.float64)
        mask = kp[..., 2] > 0
        scale = np.array(
            [np.linalg.norm(k[m, :2] - k[8, :2], axis=1).mean() for k, m in zip(kp, mask)]
        )
        yield kp[..., :2], mask, scale


def test_ids_stable_over_the_sample_sequence_even_when_order_changes():
    tracker = PersonTracker()
    first = None
    for index, (kp, mask, scale) in enumerate(_frames()):
        order = [1, 0] if index % 2 else [0, 1]
        ids = tracker.update(kp[order], mask[order], scale[order])
        ids = [ids[order.index(p)] for p in range(2)]  # back to input order
        first = first or ids
        assert ids == first
    assert len(set(first)) == 2
    assert all(i[0].isalpha() and len(i) <= 8 for i in first)


def test_new_person_new_id_and_forgotten_after_max_missed():
    frames = list(_frames())
    tracker = PersonTracker(max_missed=2)
    kp, mask, scale = frames[0]
    a, b = tracker.update(kp, mask, scale)
    for _ in range(3):  # person b absent 3 times > max_missed
        assert tracker.update(kp[:1], mask[:1], scale[:1]) == [a]
    assert b not in tracker.active_ids
    again = tracker.update(kp, mask, scale)
    assert again[0] == a and again[1] not in (a, b)  # ids are never reused


def test_far_away_pose_is_not_matched():
    kp, mask, scale = next(_frames())
    tracker = PersonTracker(max_distance=0.5)
    (first,) = tracker.update(kp[:1], mask[:1], scale[:1])
    (moved,) = tracker.update(kp[:1] + 10 * scale[0], mask[:1], scale[:1])
    assert moved != first


def test_cost_matrix_is_scale_free_and_needs_common_joints():
    kp = np.zeros((1, 15, 2))
    first, second = (np.arange(15) < 7)[None], (np.arange(15) >= 7)[None]
    assert cost_matrix(kp, first, np.ones(1), kp, second, np.ones(1))[0, 0] == np.inf
    moved = cost_matrix(
        kp, first | second, np.array([2.0]), kp + [3.0, 4.0], first | second, np.array([5.0])
    )
    assert moved[0, 0] == 1.0  # 5 px on average / the larger scale 5 px


def test_one_euro_reduces_jitter_and_follows_motion():
    rng = np.random.default_rng(0)
    t = np.arange(300) / 30.0
    still = np.ones((len(t), 3))
    noisy = still + rng.normal(0, 0.02, still.shape)
    filt = OneEuroFilter(min_cutoff_hz=1.0, beta=0.5)
    smooth = np.array([filt(x, ti) for x, ti in zip(noisy, t)])
    assert np.abs(smooth - still)[30:].mean() < 0.5 * np.abs(noisy - still)[30:].mean()
    ramp = np.stack([t, 0 * t, 0 * t], 1)  # 1 m/s
    fast = OneEuroFilter(min_cutoff_hz=1.0, beta=5.0)
    followed = np.array([fast(x, ti) for x, ti in zip(ramp, t)])
    assert np.abs(followed - ramp)[30:, 0].max() < 0.05  # lag below 5 cm at 1 m/s


def test_one_euro_restarts_after_gap_or_time_going_back():
    filt = OneEuroFilter(min_cutoff_hz=0.01, beta=0.0)
    filt(np.zeros(3), 0.0)
    assert np.allclose(filt(np.ones(3), 0.1), 0.0, atol=0.01)  # heavily smoothed
    assert np.allclose(filt(np.full(3, 5.0), 0.1 + 2 * MAX_GAP_S), 5.0)  # gap: restart
    assert np.allclose(filt(np.full(3, 7.0), 0.05), 7.0)  # stamp went back: restart


@pytest.mark.parametrize("active", [{"a"}, set()])
def test_skeleton_smoother_drops_filters_of_vanished_tracks(active):
    smoother = SkeletonSmoother()
    smoother(["a"], np.zeros((1, 15, 3)), 0.0, {"a"})
    out = smoother(["a"], np.ones((1, 15, 3)), 0.1, active)
    assert np.allclose(out, 1.0) == (not active)  # a fresh filter passes the first sample


def test_greedy_pairs_cheapest_first_each_once():
    cost = np.array([[0.1, 0.05, np.inf], [0.2, 0.3, np.nan], [5.0, 0.2, 0.4]])
    assert greedy_pairs(cost, 1.0) == [(0, 1), (1, 0), (2, 2)]
    assert greedy_pairs(cost, 0.3) == [(0, 1), (1, 0)]  # 0.4 is above the limit
    assert greedy_pairs(np.zeros((0, 3)), 1.0) == []
    assert greedy_pairs(np.full((2, 2), np.inf), 1.0) == []
