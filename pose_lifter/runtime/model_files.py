"""Where the lifter's files live and how they belong together (no torch, no onnx needed).

A lifter ships as two files with the same stem in ``pose_lifter/models/``:

- ``<name>.safetensors``: the generator's weights and its architecture (training, the torch
  backend, ``device: cuda``);
- ``<name>.onnx``: the same network as an ONNX graph (the CPU runtime, ONNX Runtime), written
  by ``pose-lifter-train export``; its metadata records the SHA-256 of the safetensors file it
  was exported from, so a stale ONNX file next to retrained weights is refused.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

#: ``format`` metadata entry of every pose_lifter weights and ONNX file.
FORMAT_TAG = "pose_lifter"
#: ONNX metadata key holding the SHA-256 (hex) of the safetensors file it was exported from.
SOURCE_SHA256_KEY = "source_sha256"
DEFAULT_MODEL_NAME = "default"
#: The shipped lifters (``pose_lifter/models/<name>.{safetensors,onnx}``; see MODEL_CARD.md):
#: ``default`` (CMU + HDM05 mocap 3D), ``mocap_only`` (the lifter that is guaranteed free of
#: MPII's research-only annotations, so it may go on a commercial robot), ``seed`` (the seed
#: report's GAN, MPII) and ``supervised`` (the plain supervised baseline).
SHIPPED_MODELS = ("default", "mocap_only", "seed", "supervised")
#: Shipped names that are another model's files: the default is trained on mocap only today.
MODEL_ALIASES = {"mocap_only": "default"}
WEIGHTS_SUFFIX = ".safetensors"
ONNX_SUFFIX = ".onnx"


def shipped_model_path(name: str = DEFAULT_MODEL_NAME, suffix: str = WEIGHTS_SUFFIX) -> Path:
    """Path of a shipped model file (one of :data:`SHIPPED_MODELS`) in the package."""
    name = MODEL_ALIASES.get(name, name)
    return Path(str(resources.files("pose_lifter") / "models" / f"{name}{suffix}"))


def default_model_path() -> Path:
    """Path of the shipped default weights (safetensors) inside the installed package."""
    return shipped_model_path(DEFAULT_MODEL_NAME, WEIGHTS_SUFFIX)


def weights_path_for(path: str | Path) -> Path:
    """Return the safetensors file a model path names (``x.onnx`` -> ``x.safetensors``)."""
    return Path(path).with_suffix(WEIGHTS_SUFFIX)


def onnx_path_for(path: str | Path) -> Path:
    """Return the ONNX file that belongs to a model path (``x.safetensors`` -> ``x.onnx``)."""
    return Path(path).with_suffix(ONNX_SUFFIX)


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
