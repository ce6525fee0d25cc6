"""Every loss term on a case small enough to compute by hand."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from pose_lifter.runtime.joints import LSHOULDER, NECK, NOSE, RSHOULDER
from pose_lifter_training import losses


def test_discriminator_loss_and_accuracy():
    real, fake = torch.tensor([0.0, 2.0]), torch.tensor([0.0, -1.0])
    # BCE(0 -> 1) = BCE(0 -> 0) = ln 2; BCE(2 -> 1) = ln(1 + e^-2); BCE(-1 -> 0) = ln(1 + e^-1)
    expected = 0.5 * (math.log(2) + math.log1p(math.exp(-2))) + 0.5 * (
        math.log(2) + math.log1p(math.exp(-1))
    )
    assert losses.discriminator_loss(real, fake).item() == pytest.approx(expected, rel=1e-6)
    # label smoothing 0.9: BCE(0 -> 0.9) is still ln 2 for a zero logit
    smoothed = 0.5 * (
        math.log(2) + (0.9 * math.log1p(math.exp(-2)) + 0.1 * (2 + math.log1p(math.exp(-2))))
    )
    smoothed += 0.5 * (math.log(2) + math.log1p(math.exp(-1)))
    assert losses.discriminator_loss(real, fake, 0.9).item() == pytest.approx(smoothed, rel=1e-6)
    # real: one of two logits > 0; fake: one of two < 0
    assert losses.discriminator_accuracy(real, fake).item() == pytest.approx(0.5)


def test_adversarial_wants_fakes_judged_real():
    assert losses.adversarial(torch.tensor([0.0])).item() == pytest.approx(math.log(2))
    assert losses.adversarial(torch.tensor([10.0])).item() < 1e-4


def _face_and_shoulders(nose_z: float) -> torch.Tensor:
    pose = torch.zeros(1, 15, 3)
    pose[0, NOSE] = torch.tensor([0.0, -0.2, nose_z])
    pose[0, RSHOULDER] = torch.tensor([-0.2, 0.0, 0.0])
    pose[0, LSHOULDER] = torch.tensor([0.2, 0.0, 0.0])
    pose[0, NECK] = torch.zeros(3)
    return pose


def test_heuristic_is_the_negative_part_of_sin_beta():
    # f = (0, -.2, z), s = (-.4, 0, 0): sin beta = f_z s_x / (|f| |s|) = -z * .4 / (|f| .4)
    facing = _face_and_shoulders(-0.1)  # nose towards the camera: sin beta > 0, no loss
    assert losses.heuristic(facing).item() == 0.0
    away = _face_and_shoulders(0.1)
    assert losses.heuristic(away).item() == pytest.approx(0.1 / math.hypot(0.2, 0.1), rel=1e-5)


def test_bone_symmetry_relative_difference():
    pose = torch.zeros(1, 15, 3)
    pose[0, RSHOULDER] = torch.tensor([-0.3, 0.0, 0.0])  # right neck-shoulder 0.3, left 0.1
    pose[0, LSHOULDER] = torch.tensor([0.1, 0.0, 0.0])
    # the elbows stay at the origin, so the upper arms are 0.3 and 0.1 long too: pairs
    # neck-shoulder and shoulder-elbow both give |0.3 - 0.1| / 0.2 = 1, the other four pairs 0
    assert losses.bone_symmetry(pose).item() == pytest.approx(2.0 / 6, rel=1e-5)


def test_consistency_terms():
    pose = torch.zeros(1, 15, 3)
    back = pose.clone()
    back[0, 0] = torch.tensor([3.0, 4.0, 12.0])  # one joint off by 13 (3D) and 5 (2D)
    assert losses.consistency_3d(back, pose).item() == pytest.approx(13 / 15)
    mask = torch.ones(1, 15)
    assert losses.consistency_2d(back, pose[..., :2], mask).item() == pytest.approx(5 / 15)
    mask[0, 0] = 0  # a missing input joint has no 2D target
    assert losses.consistency_2d(back, pose[..., :2], mask).item() == 0.0


def test_missing_joint_terms():
    teacher = torch.zeros(1, 15, 3, requires_grad=True)
    partial = torch.zeros(1, 15, 3)
    partial[0, 2] = torch.tensor([0.6, 0.8, 1.5])
    assert losses.missing_distill(partial, teacher).item() == pytest.approx(1.5 / 15)
    dropped = torch.zeros(1, 15, dtype=torch.bool)
    dropped[0, 2] = dropped[0, 3] = True
    mask = torch.ones(1, 15)
    mask[0, 3] = 0  # joint 3 was not in the input: no target
    assert losses.missing_2d(partial, teacher[..., :2], dropped, mask).item() == pytest.approx(1.0)
    # the teacher is a target, not trained through this term
    losses.missing_distill(partial.requires_grad_(), teacher).backward()
    assert teacher.grad is None


def test_supervised_depth_and_weighted_sum():
    predicted = torch.zeros(2, 15, 3)
    depth = torch.zeros(2, 15)
    depth[0, 0] = 3.0
    assert losses.supervised_depth(predicted, depth).item() == pytest.approx(9 / 30)
    weights = SimpleNamespace(adversarial=2.0, heuristic=0.5)
    terms = {"adversarial": torch.tensor(1.5), "heuristic": torch.tensor(4.0)}
    assert losses.weighted_sum(terms, weights).item() == pytest.approx(5.0)
    with pytest.raises(ValueError):
        losses.weighted_sum({}, weights)


def _pose_with_bone_lengths(lengths) -> torch.Tensor:
    """Build a pose whose BONES have ``lengths``: each child straight down from its parent."""
    from pose_lifter.runtime.joints import BONES, NECK

    pose = torch.zeros(1, 15, 3, dtype=torch.float64)
    pose[0, NECK] = torch.tensor([0.0, 0.0, 2.0], dtype=torch.float64)
    for (parent, child), length in zip(BONES, lengths):
        pose[0, child] = pose[0, parent] + torch.tensor([0.0, length, 0.0], dtype=torch.float64)
    return pose


def test_bone_proportions_zero_for_a_human_body_at_any_scale():
    body = _pose_with_bone_lengths(losses.BONE_PROPORTIONS)
    assert losses.bone_proportions(body).item() == pytest.approx(0.0, abs=1e-9)
    assert losses.bone_proportions(3.7 * body).item() == pytest.approx(0.0, abs=1e-9)


def test_bone_proportions_hand_computed_for_a_short_thigh():
    lengths = list(losses.BONE_PROPORTIONS)
    total = sum(lengths)
    lengths[9] *= 0.5  # right thigh foreshortened to half
    # shares: thigh (0.5 * 0.245) / (total - 0.1225), every other bone x total / (total - 0.1225)
    shrink = total / (total - 0.1225)
    expected = (abs(math.log(0.5 * shrink)) + 13 * abs(math.log(shrink))) / 14
    body = _pose_with_bone_lengths(lengths)
    assert losses.bone_proportions(body).item() == pytest.approx(expected, rel=1e-6)


def test_supervised_pose_counts_depths_everywhere_and_x_y_where_hidden():
    target = torch.zeros(2, 15, 3)
    predicted = torch.zeros(2, 15, 3)
    predicted[0, 3] = torch.tensor([1.0, 2.0, 3.0])  # visible: only its depth counts, 3^2
    predicted[1, 4] = torch.tensor([1.0, 2.0, 0.0])  # hidden: x, y count, 1 + 4
    hidden = torch.zeros(2, 15, dtype=torch.bool)
    hidden[1, 4] = True
    assert losses.supervised_pose(predicted, target, hidden).item() == pytest.approx(14 / 30)
