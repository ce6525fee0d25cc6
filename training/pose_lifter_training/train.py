"""The training loop of every lifter, on one CPU/GPU or data-parallel under ``torchrun`` (DDP).

The seed's GAN (Kudo et al. 2018), its improvements, and the supervised lifters (single frame
or temporal, on drawn views of 3D mocap).

Every loss is logged to ``<run_dir>/log.jsonl``; a resumable checkpoint is written every epoch;
the selected generator is exported as ``<run_dir>/best.safetensors``: with
``train.select_checkpoint_by: proxy`` (the GANs) the epoch with the best 2D-only proxy score,
with ``last`` (the supervised configs, the default among them) the last epoch; never by 3D test
error. ``last.safetensors`` is always the last epoch.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from pose_lifter.runtime.joints import MIDHIP, NUM_JOINTS
from pose_lifter.runtime.lifter import resolve_device
from pose_lifter.runtime.metrics import n_mpjpe
from pose_lifter.runtime.model import Discriminator, LifterModel
from pose_lifter.runtime.normalization import normalize_2d as normalize_2d_np
from pose_lifter.runtime.weights import save_lifter
from pose_lifter_training import cameras, geometry, losses, noise, pose_augment
from pose_lifter_training.checkpoint import load_checkpoint, save_checkpoint
from pose_lifter_training.config import TrainConfig, resolve_config_path, save_config
from pose_lifter_training.data import PoseData, concatenate, load_source, load_world_poses
from pose_lifter_training.sequences import load_sequences
from pose_lifter_training.windows import WindowSampler

LOGGER = logging.getLogger(__name__)

#: Consecutive outputs a temporal lifter is trained to keep steady (velocity, acceleration).
STEADINESS_FRAMES = 3

#: Fixed azimuths (degrees) from which the 2D-only proxy views the lifted held-out poses.
PROXY_AZIMUTHS_DEG = (-135.0, -90.0, -45.0, 45.0, 90.0, 135.0, 180.0)


@dataclass
class Distributed:
    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup_distributed(device: torch.device) -> Distributed:
    """Join the ``torchrun`` process group when WORLD_SIZE > 1 (gloo on CPU, nccl on CUDA)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Distributed()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Distributed(dist.get_rank(), dist.get_world_size())


def prepare_inputs(data: PoseData) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """Normalise 2D poses; returns (keypoints (N,15,2), mask (N,15) float, kept index)."""
    normalized = normalize_2d_np(data.keypoints_2d, data.confidence)
    keep = normalized.mask.sum(axis=1) >= NUM_JOINTS // 2
    return (
        torch.from_numpy(normalized.keypoints[keep]),
        torch.from_numpy(normalized.mask[keep].astype(np.float32)),
        np.flatnonzero(keep),
    )


def depth_targets(data: PoseData, index: np.ndarray) -> torch.Tensor:
    """Return supervised depth targets ``(N, 15)``.

    Supervised targets ``(N, 15)``: root-relative GT depth in units of the GT pose's own mean xy
    joint distance from the root (Kudo et al.'s normalisation of 3D ground truth).
    """
    joints = data.joints_3d[index].astype(np.float64)
    centred = joints - joints[:, MIDHIP : MIDHIP + 1]
    radius = np.linalg.norm(centred[..., :2], axis=2).sum(axis=1) / (NUM_JOINTS - 1)
    return torch.from_numpy((centred[..., 2] / radius[:, None]).astype(np.float32))


def view_targets(
    views: cameras.Views, pixels: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return a batch of views as lifter input and target, in one normalised frame.

    ``(keypoints (B, 15, 2), target (B, 15, 3))``: the exact projections of all 15 joints
    normalised as at run time (root MidHip, unit mean joint distance), and the root-relative 3D
    pose in the same units: camera-frame metres times ``focal / root depth`` (pixels at the
    root's depth) over the 2D scale, so the target's x, y equal the input's under weak
    perspective. ``pixels``: what the lifter is given instead (a detector's 2D, ``(B, 15, 2)``),
    expressed in the exact projections' normalised frame.
    """
    keypoints, root, scale = geometry.normalize_2d(views.pixels)
    if pixels is not None:
        keypoints = (pixels - root[:, None]) / scale[:, None, None]
    relative = views.joints_cam - views.joints_cam[:, MIDHIP : MIDHIP + 1]
    units = views.focal_px / (views.joints_cam[:, MIDHIP, 2] * scale)
    return keypoints, relative * units[:, None, None]


def window_targets(
    views: cameras.Views, pixels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`view_targets` of windows: every frame's 2D in the current frame's normalised frame.

    ``views`` of ``(B, W, ...)`` windows (frame 0 the current one) and the detector's
    ``pixels`` ``(B, W, 15, 2)``; returns ``(keypoints (B, W, 15, 2), target (B, 15, 3),
    units (B,))``: the target is the current frame's pose, ``units`` its normalised units per
    metre.
    """
    current = cameras.Views(
        views.joints_cam[:, 0], views.pixels[:, 0], views.visible[:, 0], views.focal_px[:, 0]
    )
    _, root, scale = geometry.normalize_2d(current.pixels)
    keypoints = (pixels - root[:, None, None]) / scale[:, None, None, None]
    units = current.focal_px / (current.joints_cam[:, MIDHIP, 2] * scale)
    return keypoints, view_targets(current)[1], units


def sample_dropped_joints(
    batch: int, max_dropped: int, probability: float, generator: torch.Generator, device
) -> torch.Tensor:
    """``(B, 15)`` bool: with ``probability`` a pose loses 1..max_dropped random joints."""
    dropped = torch.zeros(batch, NUM_JOINTS, dtype=torch.bool)
    if max_dropped <= 0 or probability <= 0:
        return dropped.to(device)
    active = torch.rand(batch, generator=generator) < probability
    counts = torch.randint(1, max_dropped + 1, (batch,), generator=generator) * active
    order = torch.rand(batch, NUM_JOINTS, generator=generator).argsort(dim=1)
    ranks = order.argsort(dim=1)
    dropped = ranks < counts[:, None]
    return dropped.to(device)


def lift_in_full_frame(
    generator: nn.Module,
    keypoints: torch.Tensor,
    mask: torch.Tensor,
    kept: torch.Tensor,
    age_s: torch.Tensor | None = None,
) -> torch.Tensor:
    """Lift poses with only the ``kept`` joints visible.

    Lift poses with only the ``kept`` joints visible, re-normalised as at run time, and express the
    result in the frame of the full pose (``keypoints``'s normalisation); a ``log sigma`` channel
    is carried into that frame too. Windows of a temporal lifter (``keypoints`` ``(B, W, 15, 2)``
    with each frame's ``age_s`` ``(B, W)``) are normalised with the current frame's (frame 0)
    kept joints, as the runtime does.
    """
    kept = kept.to(keypoints.dtype) * mask
    if age_s is None:
        masked, root, scale = geometry.normalize_2d(keypoints, kept)
        lifted = generator(masked, kept)
    else:  # windows (B, W, 15, 2): every frame in the current frame's normalisation
        _, root, scale = geometry.normalize_2d(keypoints[:, 0], kept[:, 0])
        masked = (keypoints - root[:, None, None]) / scale[:, None, None, None]
        lifted = generator(masked * kept[..., None], kept, age_s)
    xy = lifted[..., :2] * scale[:, None, None] + root[:, None, :]
    channels = [xy, lifted[..., 2:3] * scale[:, None, None]]
    if lifted.shape[-1] > 3:  # log sigma, in the full pose's units
        channels.append(lifted[..., 3:] + torch.log(scale)[:, None, None])
    return torch.cat(channels, dim=-1)


class Trainer:
    """Builds models, optimisers and data from a :class:`TrainConfig` and runs epochs."""

    def __init__(
        self,
        config: TrainConfig,
        run_dir: str | Path,
        device: str = "auto",
        config_path: Path | None = None,
    ):
        self.config = config
        self.run_dir = Path(run_dir)
        self.device = torch.device(resolve_device(device))
        self.dist = setup_distributed(self.device)
        if config.train.torch_threads:
            torch.set_num_threads(config.train.torch_threads)
        torch.manual_seed(config.seed)
        self.augment_rng = torch.Generator().manual_seed(config.seed * 1000 + self.dist.rank + 1)
        base = config_path.parent if config_path else Path.cwd()
        self._load_data(base)
        d = config.discriminator
        self.generator = LifterModel(config.model).to(self.device)
        self.discriminator = Discriminator(
            d.hidden_size, d.num_hidden_layers, d.residual, d.leaky_slope, d.use_kcs
        ).to(self.device)
        self.g_train, self.d_train = self.generator, self.discriminator
        self.ema = None
        if config.train.ema_decay > 0:
            self.ema = torch.optim.swa_utils.AveragedModel(
                self.generator,
                multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(config.train.ema_decay),
            )
        if self.dist.world_size > 1:
            self.g_train = DistributedDataParallel(self.generator)
            self.d_train = DistributedDataParallel(self.discriminator)
        o = config.optim
        self.opt_g = torch.optim.Adam(
            self.generator.parameters(), o.lr, (o.beta1, o.beta2), weight_decay=o.weight_decay
        )
        self.opt_d = torch.optim.Adam(
            self.discriminator.parameters(), o.lr, (o.beta1, o.beta2), weight_decay=o.weight_decay
        )
        self.sched_g = torch.optim.lr_scheduler.ExponentialLR(self.opt_g, o.lr_decay_per_epoch)
        self.sched_d = torch.optim.lr_scheduler.ExponentialLR(self.opt_d, o.lr_decay_per_epoch)
        self.epoch = 0
        self.global_step = 0
        self.best_proxy = math.inf
        self._log_file = None
        self._reference: torch.Tensor | None = None

    # ----------------------------------------------------------------------------- data
    def _load_data(self, base: Path) -> None:
        c = self.config
        if not c.train_data and not c.pose_data and not c.sequence_data:
            raise ValueError("config has no train_data, pose_data nor sequence_data")
        self.world = self.windows = None
        if c.pose_data:
            world = [load_world_poses(self._resolve(base, s.path), s.split) for s in c.pose_data]
            self.world = torch.from_numpy(np.concatenate([w.joints_world for w in world]))
        if c.sequence_data:
            if c.train.mode != "supervised":
                raise ValueError("sequence_data (a temporal lifter) trains in supervised mode")
            sequences = [
                sequence
                for s in c.sequence_data
                for sequence in load_sequences(self._resolve(base, s.path), s.dataset, s.split)
            ]
            self.windows = WindowSampler(sequences, c.model.window, c.temporal)
        elif c.model.window > 1:
            raise ValueError("a temporal lifter (model.window > 1) needs sequence_data")
        self.views = (self.world is not None or self.windows is not None) and c.train.mode in (
            "supervised",
            "hybrid",
        )
        if c.train.mode == "hybrid" and (self.world is None or not c.train_data):
            raise ValueError("hybrid training needs pose_data (3D) and train_data (2D)")
        if self.views and not c.train_data:
            self.train_x = self.val_x = None  # views are drawn per step
            self.train_target, self.monitor = None, None
            self._load_monitor(base)
            return
        parts = [load_source(self._resolve(base, s.path), s.split, s.limit) for s in c.train_data]
        data = concatenate(parts)
        keypoints, mask, kept = prepare_inputs(data)
        targets = None
        if c.train.mode == "supervised" and not self.views:
            if data.joints_3d is None:
                raise ValueError(
                    "supervised training needs pose_data, or joints_3d in every train_data source"
                )
            targets = depth_targets(data, kept)
        order = torch.randperm(len(keypoints), generator=torch.Generator().manual_seed(c.seed))
        n_val = int(round(len(order) * c.train.validation_fraction))
        val, train = order[:n_val], order[n_val:]
        self.train_x, self.train_mask = keypoints[train], mask[train]
        self.val_x, self.val_mask = keypoints[val], mask[val]
        self.train_target = None if targets is None else targets[train]
        self._load_monitor(base)

    def _load_monitor(self, base: Path) -> None:
        c, self.monitor = self.config, None
        if c.monitor_data is not None:
            self.monitor = load_source(
                self._resolve(base, c.monitor_data.path),
                c.monitor_data.split,
                c.monitor_data.limit,
            )

    @staticmethod
    def _resolve(base: Path, path: str) -> Path:
        candidate = Path(path)
        return candidate if candidate.is_absolute() else (base / candidate).resolve()

    # ----------------------------------------------------------------------------- steps
    def _angles(self, batch: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        a = self.config.augment
        azimuth = (torch.rand(batch, generator=self.augment_rng) * 2 - 1) * math.radians(
            a.azimuth_range_deg
        )
        elevation = None
        if a.elevation_range_deg > 0:
            elevation = (torch.rand(batch, generator=self.augment_rng) * 2 - 1) * math.radians(
                a.elevation_range_deg
            )
            elevation = elevation.to(self.device)
        return azimuth.to(self.device), elevation

    def _augment(
        self,
        x: torch.Tensor,
        mask: torch.Tensor,
        target: torch.Tensor | None,
        mirror_target: bool = False,
    ):
        """Mirror half of the poses left-right (``flip``): 2D, mask and target alike.

        ``target``: ``(B, 15)`` depths (swapped), or with ``mirror_target`` ``(B, 15, 3)`` poses
        (swapped and x negated). ``x`` and ``mask`` may be windows ``(B, W, 15, ...)``.
        """
        if not self.config.augment.flip:
            return x, mask, target
        flip = (torch.rand(len(x), generator=self.augment_rng) < 0.5).to(self.device)
        per_pose = flip.reshape((len(x),) + (1,) * (x.dim() - 1))  # also windows (B, W, 15, 2)
        x = torch.where(per_pose, geometry.flip_left_right(x), x)
        perm = list(geometry.FLIP_PERMUTATION)
        mask = torch.where(per_pose[..., 0], mask[..., perm], mask)
        if target is not None and mirror_target:
            per_target = flip.reshape((len(x),) + (1,) * (target.dim() - 1))
            target = torch.where(per_target, geometry.flip_left_right(target), target)
        elif target is not None:
            target = torch.where(flip[:, None], target[:, perm], target)
        return x, mask, target

    def _drop(self, batch: int) -> torch.Tensor:
        a = self.config.augment
        return sample_dropped_joints(
            batch, a.max_dropped_joints, a.drop_probability, self.augment_rng, self.device
        )

    def _gan_step(self, x: torch.Tensor, mask: torch.Tensor) -> dict[str, float]:
        """One GAN iteration: the discriminator's update, then the generator's loss terms."""
        logs, terms = self._gan_terms(x, mask)
        return {**logs, **self._optimise(self.opt_g, terms, "loss_g")}

    def _gan_terms(
        self, x: torch.Tensor, mask: torch.Tensor, with_missing: bool = True
    ) -> tuple[dict[str, float], dict[str, torch.Tensor]]:
        """Update the discriminator on ``x``'s lifts; return its logs and the generator's terms.

        ``with_missing``: also the hidden-joint terms (off in hybrid training, whose views
        supervise the hidden joints).
        """
        c, w = self.config, self.config.losses
        pose_3d = self.g_train(x, mask)
        azimuth, elevation = self._angles(len(x))
        rotation = geometry.rotation_matrices(azimuth, elevation)
        fake_2d = geometry.rotate(pose_3d, rotation)[..., :2]
        fake_scale = torch.ones(len(x), device=self.device)
        if c.augment.renormalize_fakes:
            fake_2d, _, fake_scale = geometry.normalize_2d(fake_2d)
        logs: dict[str, float] = {}
        if self.global_step % max(c.train.generator_steps, 1) == 0:
            logs.update(self._discriminator_step(x * mask.unsqueeze(-1), fake_2d.detach()))

        terms: dict[str, torch.Tensor] = {}
        if w.adversarial:
            terms["adversarial"] = losses.adversarial(self.d_train(fake_2d))
        if w.heuristic:
            terms["heuristic"] = losses.heuristic(pose_3d)
        if w.consistency_3d or w.consistency_2d:
            relifted = self.g_train(fake_2d, torch.ones_like(mask))
            back = geometry.rotate(relifted * fake_scale[:, None, None], rotation.transpose(1, 2))
            terms["consistency_3d"] = losses.consistency_3d(back, pose_3d)
            terms["consistency_2d"] = losses.consistency_2d(back, x, mask)
        if w.bone_symmetry:
            terms["bone_symmetry"] = losses.bone_symmetry(pose_3d)
        if w.bone_proportions:
            terms["bone_proportions"] = losses.bone_proportions(pose_3d)
        if with_missing and (w.missing_distill or w.missing_2d):
            dropped = self._drop(len(x))
            if dropped.any():
                partial = lift_in_full_frame(self.g_train, x, mask, ~dropped)
                terms["missing_distill"] = losses.missing_distill(partial, pose_3d)
                terms["missing_2d"] = losses.missing_2d(partial, x, dropped, mask)
        return logs, terms

    def _discriminator_step(self, real_2d: torch.Tensor, fake_2d: torch.Tensor) -> dict:
        """Update the discriminator unless it is already too accurate (Kudo et al.'s cap)."""
        c = self.config
        logits = self.d_train(torch.cat([real_2d, fake_2d]))
        real_logits, fake_logits = logits[: len(real_2d)], logits[len(real_2d) :]
        loss_d = losses.discriminator_loss(real_logits, fake_logits, 1.0 - c.train.label_smoothing)
        accuracy = losses.discriminator_accuracy(real_logits, fake_logits)
        if self.dist.world_size > 1:
            dist.all_reduce(accuracy)
            accuracy /= self.dist.world_size
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self._clip(self.discriminator)
        if accuracy.item() <= c.train.disc_accuracy_cap:
            self.opt_d.step()
        return {"loss_d": loss_d.item(), "d_accuracy": accuracy.item()}

    def _optimise(self, optimizer, terms: dict[str, torch.Tensor], total_name: str | None) -> dict:
        """One optimiser step on the weighted sum of ``terms``; returns their logged values."""
        total = losses.weighted_sum(terms, self.config.losses)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        self._clip(self.generator)
        optimizer.step()
        logs = {f"loss_{name}": term.item() for name, term in terms.items()}
        if total_name:
            logs[total_name] = total.item()
        return logs

    def _clip(self, module: nn.Module) -> None:
        if self.config.optim.grad_clip_norm > 0:
            nn.utils.clip_grad_norm_(module.parameters(), self.config.optim.grad_clip_norm)

    def _views_step(self, index: torch.Tensor) -> dict[str, float]:
        """One supervised iteration on drawn views of the 3D poses ``index``.

        In ``hybrid`` mode the same optimiser step also takes the adversarial terms of a batch
        of the 2D ``train_data`` (real people in photos: poses no mocap camera produced).
        """
        terms, logs = self._views_terms(index), {}
        if self.config.train.mode == "hybrid":
            pick = torch.randint(len(self.train_x), (len(index),), generator=self.augment_rng)
            x = self.train_x[pick].to(self.device)
            mask = self.train_mask[pick].to(self.device)
            x, mask, _ = self._augment(x, mask, None)
            logs, adversarial = self._gan_terms(x, mask, with_missing=False)
            terms.update(adversarial)
        return {**logs, **self._optimise(self.opt_g, terms, "loss_g")}

    def _views_terms(self, index: torch.Tensor) -> dict[str, torch.Tensor]:
        """Supervised terms on 3D poses seen through freshly drawn cameras.

        Augment the world poses (mixed parts, other skeletons), draw a camera per pose, add a
        detector's 2D error (``noise``), flip half of them, hide the joints outside the image
        plus random ones, lift, and regress the depths (and the 2D of the hidden joints, or of
        every joint with ``refine_2d``), and the error's sigma (``uncertainty_nll``).
        """
        if self.windows is not None:
            return self._window_terms(len(index))
        c, rng = self.config, self.augment_rng
        joints = pose_augment.mix_parts(self.world[index], c.augment.mix_parts, rng)
        joints = pose_augment.scale_bones(joints, c.augment.bone_scale_std, rng)
        views = cameras.draw_views(joints, c.cameras, rng)
        pixels, visible = noise.add_detector_noise(views.pixels, views.visible, c.noise, rng)
        x, target = view_targets(views, pixels)
        visible = visible.to(x.dtype)
        x, visible, target = self._augment(
            x.to(self.device), visible.to(self.device), target.to(self.device), mirror_target=True
        )
        kept = (visible > 0) & ~self._drop(len(x))
        usable = kept.sum(dim=1) >= 2
        x, kept, target = x[usable], kept[usable], target[usable]
        predicted = lift_in_full_frame(self.g_train, x, torch.ones_like(visible[usable]), kept)
        return self._pose_terms(predicted, target, x, kept)

    def _pose_terms(
        self, predicted: torch.Tensor, target: torch.Tensor, x: torch.Tensor, kept: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Compute the per-pose terms of lifted views.

        ``predicted`` ``(B, 15, 3|4)`` against ``target`` ``(B, 15, 3)``; ``x`` ``(B, 15, 2)``
        the input and ``kept`` its joints.
        """
        c = self.config
        w, terms = self.config.losses, {}
        if w.supervised_pose:
            refined = ~kept | c.model.refine_2d  # refine_2d: every joint's x, y is predicted
            terms["supervised_pose"] = losses.supervised_pose(predicted, target, refined)
        if w.uncertainty_nll:
            terms["uncertainty_nll"] = losses.uncertainty_nll(predicted, target)
        if w.supervised_depth:
            terms["supervised_depth"] = losses.supervised_depth(predicted, target[..., 2])
        if w.missing_2d:
            present = torch.ones_like(x[..., 0])
            terms["missing_2d"] = losses.missing_2d(predicted, x, ~kept, present)
        return terms

    def _window_terms(self, batch: int) -> dict[str, torch.Tensor]:
        """Supervised terms on windows of a track's past (a temporal lifter).

        As :meth:`_views_terms`, on ``batch`` windows of sequences (one camera each, the
        detector's error drawn per frame, joints hidden over the whole window plus a few
        flickering). With ``velocity`` or ``acceleration`` weights, each window comes with the
        windows of the two frames before it, all three lifted, and the change of the lifted
        pose from frame to frame is held to the true change: the output is as steady as the
        motion.
        """
        c, rng, w = self.config, self.augment_rng, self.config.losses
        steps = STEADINESS_FRAMES if (w.velocity or w.acceleration) else 1
        window = self.windows.sample(batch, rng, extra=steps - 1)
        joints = pose_augment.mix_parts(window.joints_world, c.augment.mix_parts, rng)
        joints = pose_augment.scale_bones(joints, c.augment.bone_scale_std, rng)
        views = cameras.project(joints, cameras.draw_cameras(joints[:, 0, MIDHIP], c.cameras, rng))
        pixels, visible = noise.add_detector_noise(views.pixels, views.visible, c.noise, rng)
        flicker = torch.rand(visible.shape, generator=rng) < c.augment.flicker_probability
        kept = visible & window.present[..., None] & ~flicker & ~self._drop(batch).cpu()[:, None]
        size = self.windows.window
        parts = []  # per step k: the window whose current frame is k frames back
        for k in range(steps):
            frames = slice(k, k + size)
            sub = cameras.Views(*(field[:, frames] for field in views))
            x, target, units = window_targets(sub, pixels[:, frames])
            age = (window.age_s[:, frames] - window.age_s[:, k : k + 1]) * window.present[
                :, frames
            ]
            parts.append((x, kept[:, frames], age, target, units))
        x, keep, age, target, units = (torch.stack(p, dim=1) for p in zip(*parts))
        # a track's first frame: the current window alone, no steadiness (nothing before it)
        alone = torch.rand(batch, generator=rng) < c.temporal.new_track
        keep[alone, 0, 1:] = False
        age[alone, 0] = 0.0
        x, keep, target = self._augment(
            x.to(self.device), keep.to(self.device).float(), target.to(self.device), True
        )
        keep = keep > 0
        usable = (keep[:, :, 0].sum(dim=-1) >= 2).all(dim=1) & window.present[:, :steps].all(
            dim=1
        ).to(self.device)
        x, keep, target = x[usable], keep[usable], target[usable]
        age, units = age[usable].to(self.device), units[usable].to(self.device)
        steady = ~alone[usable.cpu()].to(self.device)
        predicted = lift_in_full_frame(
            self.g_train,
            x.flatten(0, 1),
            torch.ones_like(keep.flatten(0, 1), dtype=x.dtype),
            keep.flatten(0, 1),
            age.flatten(0, 1),
        )
        terms = self._pose_terms(
            predicted, target.flatten(0, 1), x.flatten(0, 1)[:, 0], keep.flatten(0, 1)[:, 0]
        )
        if steps > 1 and steady.any():  # lifted and true poses, root-relative, current units
            lifted = predicted.view(len(x), steps, NUM_JOINTS, -1)[steady][..., :3]
            lifted = lifted - lifted[..., MIDHIP : MIDHIP + 1, :]
            rescale = (units[steady][:, :1] / units[steady])[..., None, None]
            lifted, truth = lifted * rescale, target[steady] * rescale
            if w.velocity:
                terms["velocity"] = losses.velocity(lifted, truth)
            if w.acceleration:
                terms["acceleration"] = losses.acceleration(lifted, truth)
        return terms

    def _supervised_step(
        self, x: torch.Tensor, mask: torch.Tensor, target: torch.Tensor
    ) -> dict[str, float]:
        """One supervised iteration: depth regression (+ the hidden joints' 2D)."""
        dropped = self._drop(len(x))
        predicted = lift_in_full_frame(self.g_train, x, mask, ~dropped)
        terms = {
            "supervised_depth": losses.supervised_depth(
                predicted, target - target[:, MIDHIP : MIDHIP + 1]
            )
        }
        if self.config.losses.missing_2d and dropped.any():
            terms["missing_2d"] = losses.missing_2d(predicted, x, dropped, mask)
        return self._optimise(self.opt_g, terms, None)

    # ----------------------------------------------------------------------------- epochs
    def _resumable_state(self) -> tuple:
        """``(modules, opt_g, opt_d, sched_g, sched_d)``: what a checkpoint saves and restores."""
        return self._checkpointed_modules(), self.opt_g, self.opt_d, self.sched_g, self.sched_d

    def _checkpointed_modules(self) -> dict[str, nn.Module]:
        modules = {"generator": self.generator, "discriminator": self.discriminator}
        if self.ema is not None:
            modules["ema"] = self.ema
        return modules

    @property
    def evaluated_generator(self) -> LifterModel:
        """Return the generator that is scored and exported (its moving average when enabled)."""
        return self.generator if self.ema is None else self.ema.module

    @torch.no_grad()
    def proxy_score(self) -> dict[str, float]:
        """2D-only model-selection score on held-out 2D poses (lower is better).

        Lift the held-out poses, view them from fixed azimuths and re-project: a right 3D pose
        looks like a real person from every side, so each re-projection should have a close
        neighbour among the real training 2D poses (``proxy``: mean nearest-neighbour distance,
        normalised units). The re-lift consistency of those views and the bone asymmetry are
        logged beside it. No 3D label is used. Measured: it ranks finished lifters of different
        recipes in their CMU-test 3D-error order (7 models, one close pair swapped), but within
        one run of a supervised recipe it bottomed out at epoch 4 while the 3D error kept
        falling to epoch ~30, so the supervised configs keep the last epoch instead (GAN mode
        only).
        """
        generator = self.evaluated_generator
        generator.eval()
        x, mask = self.val_x.to(self.device), self.val_mask.to(self.device)
        full = mask.bool().all(dim=1)
        x, mask = x[full], mask[full]
        pose_3d = generator(x, mask)
        reference = self._proxy_reference().to(self.device)
        realism, consistency = [], []
        for degrees in PROXY_AZIMUTHS_DEG:
            rotation = geometry.rotation_matrices(
                torch.full((len(x),), math.radians(degrees), device=self.device)
            )
            fake_2d, _, scale = geometry.normalize_2d(geometry.rotate(pose_3d, rotation)[..., :2])
            for chunk in fake_2d.flatten(1).split(1024):
                realism.append(torch.cdist(chunk, reference).min(dim=1).values)
            relifted = generator(fake_2d, torch.ones_like(mask))
            back = geometry.rotate(relifted * scale[:, None, None], rotation.transpose(1, 2))
            consistency.append((back[..., :2] - x).norm(dim=-1).mean().item())
        violations = (geometry.heuristic_sin_beta(pose_3d) < 0).float().mean().item()
        generator.train()
        realism_score = torch.cat(realism).mean().item()
        consistency_score = float(np.mean(consistency))
        return {
            "proxy": realism_score,
            "proxy_consistency_2d": consistency_score,
            "proxy_bone_symmetry": losses.bone_symmetry(pose_3d).item(),
            "heuristic_violation_rate": violations,
        }

    def _proxy_reference(self) -> torch.Tensor:
        """Up to 10,000 complete real training 2D poses, flattened ``(M, 30)``."""
        if self._reference is None:
            complete = self.train_mask.bool().all(dim=1)
            poses = self.train_x[complete]
            order = torch.randperm(
                len(poses), generator=torch.Generator().manual_seed(self.config.seed)
            )
            self._reference = poses[order[:10_000]].flatten(1)
        return self._reference

    @torch.no_grad()
    def monitor_3d(self) -> dict[str, float]:
        """N-MPJPE (mm) on the optional monitor data: logged for insight, never used to select."""
        if self.monitor is None:
            return {}
        generator = self.evaluated_generator
        generator.eval()
        x, mask, kept = prepare_inputs(self.monitor)
        predicted = generator(x.to(self.device), mask.to(self.device))[..., :3].cpu().numpy()
        generator.train()
        return {"monitor_n_mpjpe_mm": 1000.0 * n_mpjpe(predicted, self.monitor.joints_3d[kept])}

    def _log(self, record: dict) -> None:
        if not self.dist.is_main:
            return
        if self._log_file is None:
            self._log_file = open(self.run_dir / "log.jsonl", "a", encoding="utf-8")
        self._log_file.write(json.dumps(record) + "\n")
        self._log_file.flush()

    @property
    def _checkpoint_path(self) -> Path:
        return self.run_dir / "checkpoint.safetensors"

    def train(self, epochs: int | None = None, resume: bool = False) -> Path:
        """Train until ``epochs`` epochs are done; return the selected weights.

        Run until ``epochs`` epochs are done (config value by default), continuing from the
        run directory's checkpoint when ``resume``; returns the path of the selected generator
        weights (``best.safetensors``).
        """
        epochs = self.config.train.epochs if epochs is None else epochs
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if resume and self._checkpoint_path.exists():
            self._resume()
        if self.dist.is_main:
            save_config(self.config, self.run_dir / "config.yaml")
        started = time.monotonic()
        while self.epoch < epochs:
            summary = self._run_epoch(epochs)
            if self.dist.is_main:
                self._finish_epoch(summary)
            if self.dist.world_size > 1:
                dist.barrier()
        if self.dist.is_main:
            self._log({"done": True, "wall_seconds_this_run": time.monotonic() - started})
        return self.run_dir / "best.safetensors"

    @property
    def _pool_size(self) -> int:
        """Poses (or sequence frames, for windows) an epoch draws its views from."""
        return len(self.windows.joints) if self.windows is not None else len(self.world)

    def _run_epoch(self, epochs: int) -> dict:
        """One pass over this rank's share of the training poses; returns the epoch's means."""
        c = self.config
        started = time.monotonic()
        samples = self._pool_size * c.train.views_per_pose if self.views else len(self.train_x)
        batch = c.train.batch_size
        if c.train.steps_per_epoch:
            samples = c.train.steps_per_epoch * batch * self.dist.world_size
        generator = torch.Generator().manual_seed(c.seed + self.epoch)
        pool = self._pool_size if self.views else len(self.train_x)
        order = torch.randperm(samples, generator=generator) % pool
        order = order[self.dist.rank :: self.dist.world_size]
        steps = len(order) // batch
        progress = tqdm(
            range(steps),
            desc=f"{c.name} epoch {self.epoch + 1}/{epochs}",
            disable=not (self.dist.is_main and sys.stderr.isatty()),
            leave=False,
            mininterval=2.0,
        )
        sums: dict[str, float] = {}
        for step in progress:
            index = order[step * batch : (step + 1) * batch]
            logs = self._step(index)
            for key, value in logs.items():
                sums[key] = sums.get(key, 0.0) + value
            if self.global_step % c.train.log_every_steps == 0:
                self._log({"step": self.global_step, "epoch": self.epoch + 1, **logs})
                progress.set_postfix(
                    {k: f"{v:.3f}" for k, v in logs.items() if k.startswith("loss_")}
                )
        self.sched_g.step()
        if c.train.mode in ("gan", "hybrid"):
            self.sched_d.step()
        self.epoch += 1
        return {
            "epoch": self.epoch,
            "epoch_seconds": time.monotonic() - started,
            **{f"mean_{k}": v / max(steps, 1) for k, v in sums.items()},
        }

    def _step(self, index: torch.Tensor) -> dict[str, float]:
        """One optimisation step on the training poses ``index``; returns the step's logs."""
        if self.views:  # supervised (+ adversarial in hybrid mode) on drawn views
            logs = self._views_step(index % self._pool_size)
        else:
            x, mask = self.train_x[index].to(self.device), self.train_mask[index].to(self.device)
            target = (
                None if self.train_target is None else self.train_target[index].to(self.device)
            )
            x, mask, target = self._augment(x, mask, target)
            if self.config.train.mode == "supervised":
                logs = self._supervised_step(x, mask, target)
            else:
                logs = self._gan_step(x, mask)
        self.global_step += 1
        if self.ema is not None:
            self.ema.update_parameters(self.generator)
        return logs

    def _finish_epoch(self, summary: dict) -> None:
        """Score the epoch (2D proxy, monitor), keep the selected weights, checkpoint, log."""
        if self.config.train.mode == "gan":  # the 2D-only proxy selects GAN epochs
            summary.update(self.proxy_score())
        summary.update(self.monitor_3d())
        by_proxy = self.config.train.select_checkpoint_by == "proxy" and "proxy" in summary
        score = summary["proxy"] if by_proxy else -self.epoch
        summary["selected"] = score < self.best_proxy
        if summary["selected"]:
            self.best_proxy = score
            self._export(self.run_dir / "best.safetensors", selected_epoch=self.epoch)
        self._export(self.run_dir / "last.safetensors", selected_epoch=self.epoch)
        save_checkpoint(
            self._checkpoint_path,
            *self._resumable_state(),
            self.epoch,
            self.global_step,
            self.best_proxy,
            generators={"augment": self.augment_rng},
        )
        self._log(summary)
        LOGGER.info(
            "epoch %d: %s",
            self.epoch,
            {k: round(v, 4) if isinstance(v, float) else v for k, v in summary.items()},
        )

    def _resume(self) -> None:
        meta = load_checkpoint(
            self._checkpoint_path,
            *self._resumable_state(),
            generators={"augment": self.augment_rng},
        )
        self.epoch, self.global_step = meta["epoch"], meta["global_step"]
        self.best_proxy = meta["best_proxy"]
        LOGGER.info("resumed from %s at epoch %d", self._checkpoint_path, self.epoch)

    def _export(self, path: Path, selected_epoch: int) -> None:
        model = self.evaluated_generator
        if self.config.train.export_flip_average:
            model = copy.deepcopy(model)
            model.config = dataclasses.replace(model.config, flip_average=True)
        save_lifter(
            path,
            model,
            {
                "config_name": self.config.name,
                "selected_epoch": str(selected_epoch),
                "train_config": json.dumps(self.config.to_dict()),
            },
        )


def run_training(
    config: TrainConfig,
    run_dir: str | Path,
    device: str = "auto",
    epochs: int | None = None,
    resume: bool = False,
    config_path: str | None = None,
) -> Path:
    """Train per ``config`` into ``run_dir``; returns the selected weights' path."""
    path = resolve_config_path(config_path) if config_path else None
    trainer = Trainer(config, run_dir, device, path)
    try:
        return trainer.train(epochs, resume)
    finally:
        if trainer._log_file:
            trainer._log_file.close()
        if trainer.dist.world_size > 1 and dist.is_initialized():
            dist.destroy_process_group()
