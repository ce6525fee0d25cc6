"""Training configuration: every hyper-parameter, read from and written to YAML files.

Shipped configs live in ``training/configs/`` (``seed``, ``default``, ``supervised``); a config
name resolves there, anything else is a path. Unknown keys are errors (typos never pass silently).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pose_lifter.runtime.model import LifterConfig
from pose_lifter_training.cameras import CameraSection
from pose_lifter_training.noise import NoiseSection
from pose_lifter_training.windows import TemporalSection

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


@dataclass
class DataSource:
    """One training input: an npz or an OpenPose --write_json directory.

    One training input: an npz (``keypoints_2d`` [+ ``joints_3d``], optional ``<split>_`` prefix)
    or an OpenPose ``--write_json`` directory. ``limit`` keeps the first N poses. ``dataset``
    keeps the sequences of one dataset of a sequence file (``cmu``, ``hdm05``).
    """

    path: str
    split: str | None = None
    limit: int | None = None
    dataset: str | None = None


@dataclass
class DiscriminatorSection:
    hidden_size: int = 1024
    num_hidden_layers: int = 3
    residual: bool = True
    leaky_slope: float = 0.2
    use_kcs: bool = False  # add 2D bone Gram-matrix features (RepNet's KCS)


@dataclass
class OptimSection:
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    weight_decay: float = 1e-5
    lr_decay_per_epoch: float = 1.0
    grad_clip_norm: float = 0.0  # > 0: clip both networks' gradient norm to this


@dataclass
class LossSection:
    """Loss weights (0 disables a term)."""

    adversarial: float = 1.0
    heuristic: float = 1.0
    consistency_3d: float = 0.0
    consistency_2d: float = 0.0
    bone_symmetry: float = 0.0
    bone_proportions: float = 0.0
    missing_distill: float = 0.0
    missing_2d: float = 0.0
    supervised_depth: float = 0.0
    supervised_pose: float = 0.0  # pose_data views: depth + the hidden joints' x, y (3D truth)
    uncertainty_nll: float = 0.0  # pose_data views: Gaussian NLL of the error (log sigma head)
    velocity: float = 0.0  # sequence_data windows: frame-to-frame change against the truth's
    acceleration: float = 0.0  # sequence_data windows: second difference against the truth's


@dataclass
class AugmentSection:
    """Augmentations of the training poses.

    GAN rotations (azimuth, elevation, re-normalised fakes), left-right flips, hidden joints,
    and for 3D poses (``pose_data``) other skeletons and mixed body parts
    (:mod:`pose_lifter_training.pose_augment`).
    """

    azimuth_range_deg: float = 180.0
    elevation_range_deg: float = 0.0
    renormalize_fakes: bool = False
    flip: bool = False
    max_dropped_joints: int = 0
    drop_probability: float = 0.0
    bone_scale_std: float = 0.0  # pose_data: log-normal spread of every bone group's length
    mix_parts: float = 0.0  # pose_data: probability of another pose's legs
    flicker_probability: float = 0.0  # sequence_data windows: a joint missing in one frame


@dataclass
class TrainSection:
    """How to train.

    ``mode``: ``gan`` (unsupervised, 2D only), ``supervised`` (L2 on depth: views drawn of
    ``pose_data``, or the fixed-camera 3D of ``train_data``) or ``hybrid`` (supervised on
    ``pose_data`` views plus the adversarial terms on ``train_data``'s 2D, one step).
    """

    mode: str = "gan"
    epochs: int = 20
    batch_size: int = 256
    generator_steps: int = 1
    ema_decay: float = 0.0  # > 0: keep an exponential moving average of the generator (exported)
    views_per_pose: int = 8  # pose_data: drawn views of each 3D pose per epoch
    steps_per_epoch: int = 0  # > 0: fixed steps per epoch (pose_data: training length not tied
    # to the data's size, so a proxy run without one dataset trains as long as the full run)
    disc_accuracy_cap: float = 0.9
    label_smoothing: float = 0.0
    validation_fraction: float = 0.05
    select_checkpoint_by: str = "proxy"  # proxy (2D-only) or last
    log_every_steps: int = 50
    torch_threads: int = 0  # 0 = torch default
    export_flip_average: bool = False  # exported weights average the lift of the mirrored pose


@dataclass
class TrainConfig:
    name: str = "default"
    seed: int = 0
    train_data: list[DataSource] = field(default_factory=list)  # 2D (+3D through fixed cameras)
    # 3D world poses (mocap with R, t): supervised views drawn at training time (``cameras``)
    pose_data: list[DataSource] = field(default_factory=list)
    # 60 Hz world-frame sequences: windows of a track's past for a temporal lifter
    sequence_data: list[DataSource] = field(default_factory=list)
    temporal: TemporalSection = field(default_factory=TemporalSection)
    cameras: CameraSection = field(default_factory=CameraSection)
    noise: NoiseSection = field(default_factory=NoiseSection)  # the 2D error of a detector
    monitor_data: DataSource | None = (
        None  # optional 3D data logged per epoch, never used to select
    )
    model: LifterConfig = field(default_factory=LifterConfig)  # the generator's architecture
    discriminator: DiscriminatorSection = field(default_factory=DiscriminatorSection)
    optim: OptimSection = field(default_factory=OptimSection)
    losses: LossSection = field(default_factory=LossSection)
    augment: AugmentSection = field(default_factory=AugmentSection)
    train: TrainSection = field(default_factory=TrainSection)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _build(cls, values, where: str):
    if values is None:
        return cls()
    if not isinstance(values, dict):
        raise ValueError(f"{where}: expected a mapping, got {type(values).__name__}")
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    kwargs = {}
    for name, value in values.items():
        sub = _SECTIONS.get((cls, name))
        if sub is DataSource and isinstance(value, list):
            kwargs[name] = [
                _build(DataSource, v, f"{where}.{name}[{i}]") for i, v in enumerate(value)
            ]
        elif sub is not None and value is not None:
            kwargs[name] = _build(sub, value, f"{where}.{name}")
        elif cls in (CameraSection, NoiseSection, TemporalSection) and isinstance(value, list):
            kwargs[name] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        else:
            kwargs[name] = value
    return cls(**kwargs)


_SECTIONS = {
    (TrainConfig, "train_data"): DataSource,
    (TrainConfig, "pose_data"): DataSource,
    (TrainConfig, "sequence_data"): DataSource,
    (TrainConfig, "temporal"): TemporalSection,
    (TrainConfig, "cameras"): CameraSection,
    (TrainConfig, "noise"): NoiseSection,
    (TrainConfig, "monitor_data"): DataSource,
    (TrainConfig, "model"): LifterConfig,
    (TrainConfig, "discriminator"): DiscriminatorSection,
    (TrainConfig, "optim"): OptimSection,
    (TrainConfig, "losses"): LossSection,
    (TrainConfig, "augment"): AugmentSection,
    (TrainConfig, "train"): TrainSection,
}


def resolve_config_path(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    return CONFIG_DIR / f"{name_or_path}.yaml"


def load_config(name_or_path: str, overrides: list[str] | None = None) -> TrainConfig:
    """Read a config by name or path and apply overrides.

    Read a config by name (``training/configs/<name>.yaml``) or path, then apply
    ``section.key=value`` overrides (values parsed as YAML).
    """
    path = resolve_config_path(name_or_path)
    if not path.is_file():
        raise FileNotFoundError(f"config {name_or_path!r} not found (looked at {path})")
    values = yaml.safe_load(path.read_text()) or {}
    for override in overrides or []:
        key, sep, raw = override.partition("=")
        if not sep:
            raise ValueError(f"override {override!r} must look like section.key=value")
        target = values
        *parents, leaf = key.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = yaml.safe_load(raw)
    config = _build(TrainConfig, values, str(path))
    if config.train.mode not in ("gan", "supervised", "hybrid"):
        raise ValueError(
            f"train.mode must be gan, supervised or hybrid, got {config.train.mode!r}"
        )
    return config


def save_config(config: TrainConfig, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
