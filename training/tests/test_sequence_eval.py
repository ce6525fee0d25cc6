"""Sequence scores by hand, and the evaluation as the node's step publishes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pose_lifter.runtime.lifter import PoseLifter
from pose_lifter.runtime.people_step import PeopleStep, StepSettings
from pose_lifter_training.sequence_eval import (
    Condition,
    detector_2d,
    evaluate_sequences,
    run_sequence,
    score_sequence,
)
from pose_lifter_training.sequences import load_sequences, resample, view_sequence

from data_paths import SEQUENCES


@pytest.fixture(scope="module")
def sequence():
    return load_sequences(SEQUENCES, "cmu", "test")[0]


def test_the_truth_scores_zero_and_a_jitter_scores_what_it_is(sequence):
    truth = resample(sequence, 25.0).joints_world[:100]
    radius = np.full(truth.shape[:2], 0.01)
    perfect = score_sequence(truth, truth, radius)
    for key in ("n_mpjpe_mm", "pa_mpjpe_mm", "mpjve_mm", "accel_error_mm"):
        assert perfect[key] < 1e-6, key
    assert perfect["coverage"] == perfect["coverage_joints"]  # every joint inside
    # every joint moved by +-5 mm along x, alternating frame by frame
    shaken = truth.copy()
    shaken[:, :, 0] += 0.005 * np.where(np.arange(len(truth)) % 2, 1.0, -1.0)[:, None]
    shaken[:, 8, 0] = truth[:, 8, 0]  # the root stays: the jitter is relative to it
    result = score_sequence(shaken, truth, radius)
    frames = result["accel_frames"]
    assert result["accel_error_mm"] / frames == pytest.approx(20.0 * 14 / 15, rel=1e-3)
    velocity = result["mpjve_mm"] / result["velocity_frames"]
    assert velocity == pytest.approx(10.0 * 14 / 15, rel=1e-3)


def test_the_scaled_noise_is_5_px_for_a_person_350_px_tall(sequence):
    view = view_sequence(resample(sequence, 25.0), np.random.default_rng(0))
    keypoints, _ = detector_2d(view, Condition(noise_px=5.0), np.random.default_rng(1))
    error = keypoints - view.pixels
    height = np.ptp(view.pixels[..., 1], axis=1)
    per_frame = error.std(axis=(1, 2)) / (5.0 * height / 350.0)
    assert 0.8 < np.median(per_frame) < 1.2


def test_evaluation_is_the_nodes_step_frame_after_frame(sequence):
    lifter = PoseLifter(device="cpu")
    short = resample(sequence, 25.0)
    short = dataclasses.replace(short, joints_world=short.joints_world[:60])
    summary = evaluate_sequences(lifter, [short], Condition(), seed=3, cameras=1)
    # the same by hand: the same camera and noise draws, one PeopleStep
    camera_rng, noise_rng = np.random.default_rng(3), np.random.default_rng(4)
    view = view_sequence(short, camera_rng)
    keypoints, confidence = detector_2d(view, Condition(), noise_rng)
    joints, radius, answered = run_sequence(
        PeopleStep(lifter, StepSettings()), view, keypoints, confidence
    )
    by_hand = score_sequence(joints, view.joints_cam, radius)
    assert answered.all()
    assert summary["n_mpjpe_mm"] == pytest.approx(by_hand["n_mpjpe_mm"] / by_hand["answered"])
    assert summary["accel_error_mm"] == pytest.approx(
        by_hand["accel_error_mm"] / by_hand["accel_frames"]
    )
