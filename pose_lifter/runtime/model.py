"""The lifter network, shared by the ROS node and the offline training package.

Frames and units: the input is a batch of normalised 2D poses (see
:mod:`pose_lifter.runtime.normalization`: root-centred, divided by the mean joint distance from
the root, image axes x right, y down). The output is a root-relative 3D pose in the same units
with z the depth along the camera's forward axis. Under weak perspective x and y of present joints
are the input; a lifter trained on a detector's 2D (``refine_2d``) corrects them as well. With
``predict_uncertainty`` a fourth channel holds each joint's ``log sigma``: the standard deviation,
per axis, of the 3D error of that joint in the same normalised units (an isotropic Gaussian).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
from torch import nn

from pose_lifter.runtime.joints import BONES, FLIP_PERMUTATION, NUM_JOINTS, ROOT


@dataclass(frozen=True)
class LifterConfig:
    """Architecture hyper-parameters; stored in every weights file.

    Attributes:
        hidden_size: width of every hidden layer (Kudo et al.: 1024).
        num_hidden_layers: hidden linear layers (the seed: 3).
        residual: add a skip link around every pair of hidden layers after the first.
        leaky_slope: LeakyReLU negative slope (Chainer's default 0.2).
        use_confidence_mask: feed the 15 present/missing flags as extra inputs.
        predict_missing_2d: also predict x, y of missing joints (else they stay at 0).
        zero_root_depth: subtract the root's depth so the root is at z = 0.
        flip_average: also lift the left-right mirrored pose and average the two lifts
            (mirrored back): test-time flip augmentation, twice the compute.
        refine_2d: also correct x, y of present joints (the input's 2D error): the output's
            x, y are the input plus a predicted offset.
        predict_uncertainty: add a fourth output channel, each joint's ``log sigma``.
        window: frames of a track's 2D the lifter reads, the current one and ``window - 1``
            before it (1: a single-frame lifter).
    """

    hidden_size: int = 1024
    num_hidden_layers: int = 3
    residual: bool = True
    leaky_slope: float = 0.2
    use_confidence_mask: bool = True
    predict_missing_2d: bool = True
    zero_root_depth: bool = True
    flip_average: bool = False
    refine_2d: bool = False
    predict_uncertainty: bool = False
    window: int = 1

    @property
    def output_channels(self) -> int:
        """Channels per joint of the output: x, y, z (+ log sigma)."""
        return 4 if self.predict_uncertainty else 3

    @classmethod
    def from_dict(cls, values: dict) -> "LifterConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown LifterConfig keys: {sorted(unknown)}")
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)


class PoseMLP(nn.Module):
    """MLP with LeakyReLU and optional residual links (Kudo et al.'s generator/discriminator).

    ``h1 = act(W1 x)``, then hidden layers in pairs: ``h_{k+1} = act(W_{k+1} h_k)``,
    ``h_{k+2} = act(W_{k+2} h_{k+1} + h_k)``; output ``W_out h_last`` (no activation).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden_size: int = 1024,
        num_hidden_layers: int = 3,
        residual: bool = True,
        leaky_slope: float = 0.2,
    ):
        super().__init__()
        if num_hidden_layers < 1:
            raise ValueError("num_hidden_layers must be >= 1")
        self.hidden = nn.ModuleList(
            [nn.Linear(in_features, hidden_size)]
            + [nn.Linear(hidden_size, hidden_size) for _ in range(num_hidden_layers - 1)]
        )
        self.output = nn.Linear(hidden_size, out_features)
        self.residual = residual
        self.leaky_slope = leaky_slope
        for layer in [*self.hidden, self.output]:
            nn.init.normal_(layer.weight, std=0.02)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = nn.functional.leaky_relu
        h = act(self.hidden[0](x), self.leaky_slope)
        skip = h
        for index, layer in enumerate(self.hidden[1:], start=1):
            pre = layer(h)
            if self.residual and index % 2 == 0:
                pre = pre + skip
            h = act(pre, self.leaky_slope)
            if index % 2 == 0:
                skip = h
        return self.output(h)


#: Scale of the frames' ages as network inputs (a tenth of a second -> 1).
AGE_FEATURE_PER_S = 10.0


class LifterModel(nn.Module):
    """Generator: normalised 2D pose + present mask -> root-relative 3D pose.

    ``forward(keypoints_2d, mask)``: ``keypoints_2d`` ``(N, 15, 2)`` float, normalised;
    ``mask`` ``(N, 15)`` bool or float (1 = present). Returns ``(N, 15, 3)``: x, y (the input
    where present, or the input plus a predicted correction with ``refine_2d``; predicted or 0
    where missing) and z (depth, root at 0 when configured); ``(N, 15, 4)`` with
    ``predict_uncertainty``, the last channel each joint's ``log sigma``.

    A temporal lifter (``window`` W > 1) reads a track's recent past:
    ``forward(keypoints_2d (N, W, 15, 2), mask (N, W, 15), age_s (N, W))``, frame 0 the
    current one and frame k the k-th before it, every frame normalised with the *current*
    frame's root and scale; ``age_s`` is how long before the current frame each was taken
    (seconds; 0 for the current one), and a frame the track does not have is all-missing.
    The output is the current frame's pose, as above.
    """

    def __init__(self, config: LifterConfig | None = None):
        super().__init__()
        self.config = config or LifterConfig()
        c = self.config
        in_features = c.window * NUM_JOINTS * (3 if c.use_confidence_mask else 2)
        if c.window > 1:
            in_features += c.window  # each frame's age
        self._head_channels = (3 if c.predict_missing_2d or c.refine_2d else 1) + int(
            c.predict_uncertainty
        )
        out_features = NUM_JOINTS * self._head_channels
        self.mlp = PoseMLP(
            in_features,
            out_features,
            c.hidden_size,
            c.num_hidden_layers,
            c.residual,
            c.leaky_slope,
        )
        # x -> -x of a mirrored input and of its lift (constants of the traced graph)
        self.register_buffer("mirror", torch.tensor([-1.0, 1.0]), persistent=False)
        unmirror = [-1.0] + [1.0] * (c.output_channels - 1)
        self.register_buffer("unmirror", torch.tensor(unmirror), persistent=False)

    def forward(
        self, keypoints_2d: torch.Tensor, mask: torch.Tensor, age_s: torch.Tensor | None = None
    ) -> torch.Tensor:
        mask = mask.to(keypoints_2d.dtype)
        if self.config.window > 1 and age_s is None:
            raise ValueError("a temporal lifter needs each frame's age (age_s)")
        if not self.config.flip_average:
            return self._lift(keypoints_2d, mask, age_s)
        # one pass over the batch and its mirror image (x -> -x, left <-> right joints)
        flip = list(FLIP_PERMUTATION)
        mirror = self.mirror.to(keypoints_2d.dtype)
        both = self._lift(
            torch.cat([keypoints_2d, keypoints_2d[..., flip, :] * mirror]),
            torch.cat([mask, mask[..., flip]]),
            None if age_s is None else torch.cat([age_s, age_s]),
        )
        lifted, mirrored = both.chunk(2)
        return 0.5 * (lifted + mirrored[:, flip] * self.unmirror.to(lifted.dtype))

    def _lift(
        self, keypoints_2d: torch.Tensor, mask: torch.Tensor, age_s: torch.Tensor | None
    ) -> torch.Tensor:
        c = self.config
        xy = keypoints_2d * mask.unsqueeze(-1)
        features = [xy.flatten(1)]
        if c.use_confidence_mask:
            features.append(mask.flatten(1))
        if c.window > 1:
            features.append(age_s * AGE_FEATURE_PER_S)
            xy, mask = xy[:, 0], mask[:, 0]  # the current frame's
        features = torch.cat(features, dim=1)
        out = self.mlp(features).view(-1, NUM_JOINTS, self._head_channels)
        depth = out[..., 0]
        if c.refine_2d:
            xy = xy + out[..., 1:3]
        elif c.predict_missing_2d:
            xy = xy + (1.0 - mask).unsqueeze(-1) * out[..., 1:3]
        if c.zero_root_depth:
            depth = depth - depth[:, ROOT : ROOT + 1]
        channels = [xy, depth.unsqueeze(-1)]
        if c.predict_uncertainty:
            channels.append(out[..., -1:])
        return torch.cat(channels, dim=-1)


class Discriminator(nn.Module):
    """Tell real normalised 2D poses ``(N, 15, 2)`` from re-projected ones (logits ``(N,)``).

    The sigmoid of the seed's discriminator is folded into the BCE-with-logits loss. With
    ``use_kcs`` the input also carries the kinematic-chain-space features of Wandt and Rosenhahn
    (RepNet, 2019): the Gram matrix of the 2D bone vectors (pairwise bone dot products, upper
    triangle), which exposes bone lengths and angles directly.
    """

    def __init__(
        self,
        hidden_size: int = 1024,
        num_hidden_layers: int = 3,
        residual: bool = True,
        leaky_slope: float = 0.2,
        use_kcs: bool = False,
    ):
        super().__init__()
        self.use_kcs = use_kcs
        num_bones = len(BONES)
        in_features = NUM_JOINTS * 2 + (num_bones * (num_bones + 1) // 2 if use_kcs else 0)
        self.mlp = PoseMLP(in_features, 1, hidden_size, num_hidden_layers, residual, leaky_slope)
        self.register_buffer("bone_parents", torch.tensor([p for p, _ in BONES]), persistent=False)
        self.register_buffer(
            "bone_children", torch.tensor([c for _, c in BONES]), persistent=False
        )
        rows, cols = torch.triu_indices(num_bones, num_bones)
        self.register_buffer("triu", rows * num_bones + cols, persistent=False)

    def forward(self, keypoints_2d: torch.Tensor) -> torch.Tensor:
        features = keypoints_2d.flatten(1)
        if self.use_kcs:
            bones = keypoints_2d[:, self.bone_children] - keypoints_2d[:, self.bone_parents]
            gram = (bones @ bones.transpose(1, 2)).flatten(1)[:, self.triu]
            features = torch.cat([features, gram], dim=1)
        return self.mlp(features).squeeze(1)
