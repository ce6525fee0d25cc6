"""Motion sequences, windows of a track's past, and a detector's 2D error, for training."""

from __future__ import annotations

import numpy as np
import torch

from pose_lifter.runtime.joints import FLIP_PERMUTATION, MIDHIP, NUM_JOINTS, RWRIST
from pose_lifter_training.noise import NoiseSection, add_detector_noise, box_diagonal
from pose_lifter_training.sequences import load_sequences, resample, view_sequence
from pose_lifter_training.windows import TemporalSection, WindowSampler

from data_paths import SEQUENCES


def test_sequences_are_cut_at_glitches_and_split_as_the_data_readme_says():
    cmu_train = load_sequences(SEQUENCES, "cmu", "train")
    assert {s.dataset for s in cmu_train} == {"cmu"} and {s.split for s in cmu_train} == {"train"}
    frames = sum(len(s) for s in cmu_train)
    assert 15_000 < frames <= 16_847  # the README's count, less glitches and short pieces
    with np.load(SEQUENCES) as data:
        glitches = data["glitch"]
        assert glitches.sum() == 73
    walking = next(s for s in cmu_train if s.action == "walking")
    step = np.linalg.norm(np.diff(walking.joints_world[:, MIDHIP], axis=0), axis=1) * 60.0
    assert 0.5 < np.median(step) < 2.5  # a walking pace in m/s


def test_resampling_interpolates_between_the_source_rows():
    sequence = load_sequences(SEQUENCES, "hdm05", "test")[0]
    at_20 = resample(sequence, 20.0)  # every 3rd row exactly
    np.testing.assert_allclose(at_20.joints_world, sequence.joints_world[::3][: len(at_20)])
    at_25 = resample(sequence, 25.0)  # t = 0.04 s: row 2.4
    expected = 0.6 * sequence.joints_world[2] + 0.4 * sequence.joints_world[3]
    np.testing.assert_allclose(at_25.joints_world[1], expected, atol=1e-12)


def test_a_sequences_view_projects_by_pinhole_with_its_stamps():
    sequence = resample(load_sequences(SEQUENCES, "cmu", "test")[0], 30.0)
    view = view_sequence(sequence, np.random.default_rng(0))
    k = view.camera_matrix
    again = k[0, 0] * view.joints_cam[..., :2] / view.joints_cam[..., 2:] + k[:2, 2]
    np.testing.assert_allclose(view.pixels, again, atol=1e-9)
    np.testing.assert_allclose(np.diff(view.stamps_s), 1 / 30.0)
    assert view.visible.mean() > 0.9


def test_windows_hold_the_past_at_the_drawn_rate_newest_first():
    sequences = load_sequences(SEQUENCES, "hdm05", "train")[:20]
    section = TemporalSection(rate_hz=(25.0, 25.0), stamp_jitter=0.0, frame_drop=0.0,
                              history_cut=0.0, splice=0.0)
    windows = WindowSampler(sequences, 8, section).sample(64, torch.Generator().manual_seed(0))
    assert windows.joints_world.shape == (64, 8, NUM_JOINTS, 3)
    assert windows.present[:, 0].all()
    ages = windows.age_s[windows.present[:, 7]]
    expected = np.tile(np.arange(8) / 25.0, (len(ages), 1))
    np.testing.assert_allclose(ages.numpy(), expected, atol=1e-6)
    # frames before a sequence's start are absent (some windows start near one)
    cut = TemporalSection(rate_hz=(25.0, 25.0), history_cut=1.0, frame_drop=0.0, splice=0.0)
    short = WindowSampler(sequences, 8, cut).sample(256, torch.Generator().manual_seed(1))
    assert (~short.present).any() and short.present[:, 0].all()
    # absent frames come after present ones: a cut history is the most recent part
    present = short.present.int()
    assert (present[:, 1:] <= present[:, :-1]).all()


def test_a_spliced_window_jumps_to_another_person_nearby():
    sequences = load_sequences(SEQUENCES, "hdm05", "train")[:20]
    plain = TemporalSection(rate_hz=(30.0, 30.0), splice=0.0, history_cut=0.0, frame_drop=0.0)
    spliced = TemporalSection(rate_hz=(30.0, 30.0), splice=1.0, history_cut=0.0, frame_drop=0.0)

    def largest_root_step(section):
        sampler = WindowSampler(sequences, 8, section)
        windows = sampler.sample(128, torch.Generator().manual_seed(2))
        root = windows.joints_world[:, :, MIDHIP]
        return (root[:, 1:] - root[:, :-1]).norm(dim=-1).max(dim=1).values

    assert largest_root_step(plain).max() < 0.3  # one person moves a little in 1/30 s
    jumps = largest_root_step(spliced)
    assert (jumps > 0.3).float().mean() > 0.5 and jumps.max() < 3.0  # someone else, nearby


def test_the_detectors_error_scales_with_the_person_and_swaps_left_and_right():
    rng = torch.Generator().manual_seed(0)
    pose = torch.randn(1, NUM_JOINTS, 2, dtype=torch.float64, generator=rng) * 50 + 300
    visible = torch.ones(1, NUM_JOINTS, dtype=torch.bool)
    assert add_detector_noise(pose, visible, NoiseSection(), rng)[0] is pose  # off by default
    jitter = NoiseSection(relative_std=(0.02, 0.02))
    small, big = pose.repeat(2000, 1, 1), (pose * 3).repeat(2000, 1, 1)
    many = visible.repeat(2000, 1)
    error_small = (add_detector_noise(small, many, jitter, rng)[0] - small).std()
    error_big = (add_detector_noise(big, many, jitter, rng)[0] - big).std()
    assert abs(error_big / error_small - 3.0) < 0.2  # in proportion to the person's size
    diagonal = box_diagonal(small[:1], many[:1])[0]
    assert abs(error_small / (0.02 * diagonal) - 1.0) < 0.1
    swaps = NoiseSection(swap_probability=1.0)
    swapped, _ = add_detector_noise(pose, visible, swaps, rng)
    left_wrist = FLIP_PERMUTATION[RWRIST]
    assert torch.equal(swapped[0, RWRIST], pose[0, left_wrist])  # arms and legs swapped
    outliers = NoiseSection(outlier_probability=1.0, outlier_distance=(0.1, 0.1))
    moved, _ = add_detector_noise(pose, visible, outliers, rng)
    distance = (moved - pose).norm(dim=-1)
    assert torch.allclose(distance, 0.1 * box_diagonal(pose, visible)[:, None])
