"""Every training loss term as a pure function of tensors, and their weighted sum.

Frames and units: normalised poses (see :mod:`pose_lifter_training.geometry`): root-centred,
unit mean joint distance from the root, x right, y down, z forward; batched ``(B, 15, C)``.
``mask`` is ``(B, 15)`` with 1 for present joints. Each function returns a scalar tensor.

The training step computes the terms its config weights (:class:`LossSection`) and adds them
with :func:`weighted_sum`; names of the terms are the config's weight names.
"""

from __future__ import annotations

import torch
from torch import nn

from pose_lifter.runtime.joints import SYMMETRIC_BONES
from pose_lifter_training.geometry import bone_lengths, heuristic_sin_beta

_bce = nn.functional.binary_cross_entropy_with_logits


def discriminator_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor, real_label: float = 1.0
) -> torch.Tensor:
    """Discriminator BCE: real poses -> ``real_label`` (1; less when smoothed), fakes -> 0."""
    return _bce(real_logits, torch.full_like(real_logits, real_label)) + _bce(
        fake_logits, torch.zeros_like(fake_logits)
    )


def discriminator_accuracy(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Mean of the real and the fake classification accuracy (a logit > 0 means real)."""
    return 0.5 * ((real_logits > 0).float().mean() + (fake_logits < 0).float().mean())


def adversarial(fake_logits: torch.Tensor) -> torch.Tensor:
    """Score the generator: BCE of the re-projected fakes against the label real."""
    return _bce(fake_logits, torch.ones_like(fake_logits))


def heuristic(joints_3d: torch.Tensor) -> torch.Tensor:
    """Compute the seed's L_angle = mean(max(0, -sin beta)) on the face and shoulder vectors."""
    return torch.relu(-heuristic_sin_beta(joints_3d)).mean()


def bone_symmetry(joints_3d: torch.Tensor) -> torch.Tensor:
    """Mean relative difference of left/right bone lengths (0 for a symmetric body)."""
    lengths = bone_lengths(joints_3d)
    left = lengths[:, [a for a, _ in SYMMETRIC_BONES]]
    right = lengths[:, [b for _, b in SYMMETRIC_BONES]]
    return ((left - right).abs() / (0.5 * (left + right)).clamp(min=1e-6)).mean()


#: Relative bone lengths of an adult (fractions of stature H; Drillis and Contini 1966, as
#: tabulated in Winter, Biomechanics and Motor Control of Human Movement, fig. 4.1), in
#: :data:`pose_lifter.runtime.joints.BONES` order. Nose-neck is not a segment there: ~0.12 H
#: (chin-to-nose height plus the head's forward offset).
BONE_PROPORTIONS: tuple[float, ...] = (
    0.12,  # neck - nose
    0.13,  # neck - right shoulder (half the shoulder width 0.259 H)
    0.186,  # right upper arm
    0.146,  # right forearm
    0.13,  # neck - left shoulder
    0.186,  # left upper arm
    0.146,  # left forearm
    0.288,  # neck - mid hip (shoulder height 0.818 H - hip height 0.530 H)
    0.095,  # mid hip - right hip (half the hip width 0.191 H)
    0.245,  # right thigh
    0.246,  # right shank
    0.095,  # mid hip - left hip
    0.245,  # left thigh
    0.246,  # left shank
)


def bone_proportions(joints_3d: torch.Tensor) -> torch.Tensor:
    """Mean absolute log ratio of each bone's share of the total length to a human body's.

    Scale-free (lengths are divided by their sum), so it constrains only the proportions: a
    lift that keeps a foreshortened thigh short in 3D pays ``|log(share / 0.245 H share)|``.
    """
    lengths = bone_lengths(joints_3d).clamp(min=1e-6)
    reference = torch.tensor(BONE_PROPORTIONS, dtype=lengths.dtype, device=lengths.device)
    shares = lengths / lengths.sum(dim=1, keepdim=True)
    return (torch.log(shares) - torch.log(reference / reference.sum())).abs().mean()


def consistency_3d(rotated_back: torch.Tensor, joints_3d: torch.Tensor) -> torch.Tensor:
    """Mean joint distance between the re-lifted view rotated back and the first lift."""
    return (rotated_back - joints_3d).norm(dim=-1).mean()


def consistency_2d(
    rotated_back: torch.Tensor, keypoints_2d: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Mean 2D distance of the rotated-back re-lift to the input, over present joints (0 else)."""
    return ((rotated_back[..., :2] - keypoints_2d).norm(dim=-1) * mask).mean()


def missing_distill(partial: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean absolute depth difference of a lift with hidden joints to the full lift (teacher)."""
    return (partial[..., 2] - teacher.detach()[..., 2]).abs().mean()


def missing_2d(
    predicted: torch.Tensor, keypoints_2d: torch.Tensor, dropped: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Mean 2D error of the hidden (``dropped``) joints that the input had (``mask``)."""
    weight = dropped.float() * mask
    error = (predicted[..., :2] - keypoints_2d).norm(dim=-1) * weight
    return error.sum() / weight.sum().clamp(min=1)


def supervised_depth(predicted: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
    """Mean squared error of the predicted depths ``(B, 15, 3)[..., 2]`` to ``depth (B, 15)``."""
    return ((predicted[..., 2] - depth) ** 2).mean()


def supervised_pose(
    predicted: torch.Tensor, target: torch.Tensor, hidden: torch.Tensor
) -> torch.Tensor:
    """Mean squared error of the lifted pose ``(B, 15, 3)`` to the true 3D ``target``.

    Every joint's depth, and the x, y of the ``hidden`` ``(B, 15)`` joints (the others' x, y
    are the input): ``mean((z - z*)^2 + hidden * |xy - xy*|^2)`` over all joints.
    """
    depth = (predicted[..., 2] - target[..., 2]) ** 2
    planar = ((predicted[..., :2] - target[..., :2]) ** 2).sum(-1) * hidden.to(predicted.dtype)
    return (depth + planar).mean()


def velocity(lifted: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Squared error of the frame-to-frame change: ``(B, S, 15, 3)``, index 0 the newest."""
    return (((lifted[:, 0] - lifted[:, 1]) - (truth[:, 0] - truth[:, 1])) ** 2).sum(-1).mean()


def acceleration(lifted: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Squared error of the second difference over three frames ``(B, S >= 3, 15, 3)``."""

    def second(poses: torch.Tensor) -> torch.Tensor:
        return poses[:, 0] - 2.0 * poses[:, 1] + poses[:, 2]

    return ((second(lifted) - second(truth)) ** 2).sum(-1).mean()


#: Range of ``log sigma`` the likelihood sees (normalised units: 0.001 to 20): a sigma head
#: that shrinks towards 0 on one easy pose cannot blow the loss up.
LOG_SIGMA_MIN, LOG_SIGMA_MAX = -7.0, 3.0


def uncertainty_nll(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Gaussian negative log-likelihood of each joint's 3D error under its predicted sigma.

    ``predicted`` ``(B, 15, 4)``: the pose and ``log sigma`` (per-axis standard deviation of an
    isotropic Gaussian); ``target`` ``(B, 15, 3)``. The error is detached: this term trains the
    sigma head only, never pulls the pose. Mean over joints of
    ``|e|^2 / (2 sigma^2) + 3 log sigma``.
    """
    log_sigma = predicted[..., 3].clamp(LOG_SIGMA_MIN, LOG_SIGMA_MAX)
    squared = ((predicted[..., :3] - target) ** 2).sum(-1).detach()
    return (0.5 * squared * torch.exp(-2.0 * log_sigma) + 3.0 * log_sigma).mean()


def weighted_sum(terms: dict[str, torch.Tensor], weights) -> torch.Tensor:
    """``sum(weight[name] * term)`` over ``terms``; ``weights`` has one attribute per name."""
    if not terms:
        raise ValueError("no loss term to optimise")
    return sum(getattr(weights, name) * term for name, term in terms.items())
