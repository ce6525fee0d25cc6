"""A 2D detector's error model, applied to exact projections at training time (torch).

A lifter trained on exact projections alone takes every pixel at face value: 5 px of error on a
350 px tall person then moves its depths by decimetres from frame to frame. Detectors err in
ways this module draws, per view ``(B, 15, 2)`` pixels:

- **Gaussian jitter** scaled to the person's size: the standard deviation is a fraction of the
  diagonal of the joints' bounding box, drawn per view (clean views included) and varied per
  joint (log-normally), since a detector's error grows with the person's size in pixels.
- **Outliers**: a joint put somewhere else on or near the body (a few per cent of joints).
- **Left/right confusions**: both arms' or both legs' joints swapped (a view now and then), as
  detectors do with people seen from the side or from behind.

Visibility is unchanged except where a confusion swaps it with the joint's twin. Seeded by the
caller's generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from pose_lifter.runtime.joints import (
    LANKLE,
    LELBOW,
    LHIP,
    LKNEE,
    LSHOULDER,
    LWRIST,
    RANKLE,
    RELBOW,
    RHIP,
    RKNEE,
    RSHOULDER,
    RWRIST,
)

#: Pairs swapped by a left/right confusion of the arms, and of the legs.
ARM_PAIRS = ((RSHOULDER, LSHOULDER), (RELBOW, LELBOW), (RWRIST, LWRIST))
LEG_PAIRS = ((RHIP, LHIP), (RKNEE, LKNEE), (RANKLE, LANKLE))


@dataclass
class NoiseSection:
    """The detector error model's parameters (all off by default).

    Attributes:
        relative_std: range (uniform, per view) of the jitter's standard deviation as a
            fraction of the bounding-box diagonal (0.014: 5 px on a 350 px tall person).
        joint_spread: log-normal spread of the standard deviation from joint to joint.
        outlier_probability: chance of each joint being an outlier.
        outlier_distance: range (uniform) of an outlier's displacement, fraction of the
            bounding-box diagonal.
        swap_probability: chance of a view having its arms, or its legs, swapped left/right.
    """

    relative_std: tuple[float, float] = (0.0, 0.0)
    joint_spread: float = 0.0
    outlier_probability: float = 0.0
    outlier_distance: tuple[float, float] = (0.05, 0.3)
    swap_probability: float = 0.0

    @property
    def enabled(self) -> bool:
        return (
            self.relative_std[1] > 0 or self.outlier_probability > 0 or self.swap_probability > 0
        )


def box_diagonal(pixels: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
    """Diagonal ``(...)`` of the bounding box of the visible joints (all joints where none is)."""
    any_visible = visible.any(dim=-1, keepdim=True)
    use = torch.where(any_visible, visible, torch.ones_like(visible))[..., None]
    big = torch.finfo(pixels.dtype).max
    low = torch.where(use, pixels, big).amin(dim=-2)
    high = torch.where(use, pixels, -big).amax(dim=-2)
    return (high - low).norm(dim=-1).clamp(min=1.0)


def swap_pairs(
    pixels: torch.Tensor, visible: torch.Tensor, swapped: torch.Tensor, pairs
) -> tuple[torch.Tensor, torch.Tensor]:
    """Swap the joints of ``pairs`` in the views ``(...)`` where ``swapped`` is True."""
    order = list(range(pixels.shape[-2]))
    for right, left in pairs:
        order[right], order[left] = left, right
    pixels = torch.where(swapped[..., None, None], pixels[..., order, :], pixels)
    visible = torch.where(swapped[..., None], visible[..., order], visible)
    return pixels, visible


def add_detector_noise(
    pixels: torch.Tensor,
    visible: torch.Tensor,
    noise: NoiseSection,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(pixels, visible)`` of views as a detector would report them.

    ``pixels`` ``(B, 15, 2)`` or, for windows of a track, ``(B, W, 15, 2)``: the error level
    and each joint's share of it are drawn per person (the same over a window), the error
    itself per frame.
    """
    if not noise.enabled:
        return pixels, visible
    batch, dtype = pixels.shape[0], pixels.dtype
    frames = pixels.shape[1:-2]  # () or (W,)
    joints = pixels.shape[-2]
    per_person = (batch,) + (1,) * len(frames)
    diagonal = box_diagonal(pixels, visible)
    low, high = noise.relative_std
    level = low + (high - low) * torch.rand(per_person, generator=generator, dtype=dtype)
    spread = torch.exp(
        noise.joint_spread
        * torch.randn(per_person + (joints,), generator=generator, dtype=dtype)
    )
    std = (level * diagonal)[..., None] * spread
    noisy = pixels + std[..., None] * torch.randn(
        pixels.shape, generator=generator, dtype=dtype
    )
    if noise.outlier_probability > 0:
        shape = pixels.shape[:-1]
        outlier = torch.rand(shape, generator=generator) < noise.outlier_probability
        near, far = noise.outlier_distance
        distance = near + (far - near) * torch.rand(shape, generator=generator, dtype=dtype)
        angle = 2 * torch.pi * torch.rand(shape, generator=generator, dtype=dtype)
        offset = torch.stack([torch.cos(angle), torch.sin(angle)], dim=-1)
        offset = offset * (distance * diagonal[..., None])[..., None]
        noisy = torch.where(outlier[..., None], noisy + offset, noisy)
    if noise.swap_probability > 0:
        for pairs in (ARM_PAIRS, LEG_PAIRS):
            swapped = torch.rand(pixels.shape[:-2], generator=generator) < noise.swap_probability
            noisy, visible = swap_pairs(noisy, visible, swapped, pairs)
    return noisy, visible
