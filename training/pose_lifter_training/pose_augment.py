"""Augmentations of 3D mocap poses: other skeletons and other combinations of the same motions.

The mocap data has few actors (CMU: one template skeleton; HDM05: five people), so a lifter
trained on it alone learns their proportions (CMU's torso is 0.42 m, HDM05's 0.56-0.63 m) and
their motions. Two augmentations widen that, on world poses ``(B, 15, 3)`` in metres, y up:

- :func:`scale_bones`: every bone (left and right alike) drawn longer or shorter, log-normally,
  re-chained from MidHip outwards so the pose's joint angles are kept.
- :func:`mix_parts`: one pose's legs under another pose's upper body (turned so both hip lines
  agree), e.g. an upright torso over squatting legs, which neither dataset holds.

Seeded by the caller's torch generator.
"""

from __future__ import annotations

import torch

from pose_lifter.runtime.joints import (
    CHAIN,
    JOINT_NAMES,
    LANKLE,
    LHIP,
    LKNEE,
    MIDHIP,
    RANKLE,
    RHIP,
    RKNEE,
)


#: The length group of each bone of :data:`CHAIN` (left and right share one).
_GROUP_NAMES = sorted({tuple(sorted(JOINT_NAMES[j].lstrip("RL") for j in bone)) for bone in CHAIN})
CHAIN_GROUP = torch.tensor(
    [
        _GROUP_NAMES.index(tuple(sorted(JOINT_NAMES[j].lstrip("RL") for j in bone)))
        for bone in CHAIN
    ]
)
#: The joints :func:`mix_parts` takes from the other pose (hips and legs).
LEG_JOINTS = (RHIP, RKNEE, RANKLE, LHIP, LKNEE, LANKLE)


def scale_bones(joints: torch.Tensor, std: float, generator: torch.Generator) -> torch.Tensor:
    """Scale each bone group of each pose by ``exp(N(0, std))``, keeping the joint angles.

    ``joints`` ``(B, 15, 3)``, or ``(B, W, 15, 3)`` windows of one person each (one skeleton per
    window: the same factors for all its frames).
    """
    if std <= 0:
        return joints
    factors = torch.exp(
        std * torch.randn(len(joints), len(_GROUP_NAMES), generator=generator, dtype=joints.dtype)
    )[:, CHAIN_GROUP]
    factors = factors.reshape(factors.shape[:1] + (1,) * (joints.dim() - 3) + factors.shape[1:])
    out = joints.clone()
    for index, (parent, child) in enumerate(CHAIN):
        bone = joints[..., child, :] - joints[..., parent, :]
        out[..., child, :] = out[..., parent, :] + bone * factors[..., index, None]
    return out


def _heading(joints: torch.Tensor) -> torch.Tensor:
    """Angle of the RHip -> LHip line about the vertical (y) axis, ``(...)`` radians."""
    line = joints[..., LHIP, :] - joints[..., RHIP, :]
    return torch.atan2(line[..., 2], line[..., 0])


def mix_parts(
    joints: torch.Tensor, probability: float, generator: torch.Generator
) -> torch.Tensor:
    """With ``probability``, give a pose the hips and legs of another pose of the batch.

    The other pose's legs (relative to its MidHip) are turned about the vertical so that its hip
    line agrees with this pose's, and hung from this pose's MidHip. ``joints`` ``(B, 15, 3)``,
    or ``(B, W, 15, 3)`` windows: a window takes the legs of another window, frame by frame.
    """
    if probability <= 0:
        return joints
    batch = len(joints)
    mixed = torch.rand(batch, generator=generator) < probability
    mixed = mixed.reshape((batch,) + (1,) * (joints.dim() - 3))
    other = joints[torch.randint(batch, (batch,), generator=generator)]
    turn = _heading(joints) - _heading(other)
    c, s = torch.cos(turn)[..., None], torch.sin(turn)[..., None]
    root = joints[..., MIDHIP : MIDHIP + 1, :]
    legs = other[..., LEG_JOINTS, :] - other[..., MIDHIP : MIDHIP + 1, :]
    # turning (x, z) by ``turn`` (atan2(z, x) grows by it) lays the other hip line on this one
    x, y, z = legs.unbind(-1)
    turned = torch.stack([c * x - s * z, y, s * x + c * z], dim=-1)
    out = joints.clone()
    out[..., LEG_JOINTS, :] = torch.where(
        mixed[..., None, None], turned + root, joints[..., LEG_JOINTS, :]
    )
    return out
