"""Lifter weights as safetensors files (never pickle): save, load and validate.

A weights file holds the generator's tensors plus string metadata: ``format`` (``pose_lifter``),
``config`` (JSON of :class:`~pose_lifter.runtime.model.LifterConfig`) and free-form provenance
entries.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from pose_lifter.runtime.errors import ModelLoadError
from pose_lifter.runtime.model import LifterConfig, LifterModel
from pose_lifter.runtime.model_files import FORMAT_TAG, default_model_path


def save_lifter(
    path: str | Path,
    model: LifterModel,
    metadata: dict[str, str] | None = None,
    dtype: torch.dtype = torch.float32,
) -> Path:
    """Write ``model``'s weights and config to ``path`` (safetensors). Returns the path.

    ``dtype=torch.float16`` halves the file (used for the shipped baselines); loading always
    restores float32.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {key: str(value) for key, value in (metadata or {}).items()}
    meta.update(format=FORMAT_TAG, config=json.dumps(model.config.to_dict()))
    tensors = {
        name: tensor.detach().cpu().to(dtype).contiguous()
        for name, tensor in model.state_dict().items()
    }
    save_file(tensors, str(path), metadata=meta)
    return path


def read_metadata(path: str | Path) -> dict[str, str]:
    """Read the string metadata of a weights file.

    The string metadata of a weights file (raises :class:`ModelLoadError` when unreadable).
    """
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"model file {path} does not exist")
    try:
        with safe_open(str(path), framework="pt") as handle:
            return dict(handle.metadata() or {})
    except (SafetensorError, OSError, ValueError) as error:
        raise ModelLoadError(
            f"model file {path} is not a readable safetensors file: {error}"
        ) from error


def load_lifter(
    path: str | Path | None = None, device: str | torch.device = "cpu"
) -> tuple[LifterModel, dict[str, str]]:
    """Load a lifter from a safetensors file (default: the shipped model), in eval mode.

    Raises:
        ModelLoadError: missing, truncated or non-safetensors file, missing config, or tensors
            whose names or shapes do not match the config's architecture.
    """
    path = Path(path) if path else default_model_path()
    metadata = read_metadata(path)
    if metadata.get("format") != FORMAT_TAG or "config" not in metadata:
        raise ModelLoadError(f"model file {path} has no pose_lifter config in its metadata")
    try:
        config = LifterConfig.from_dict(json.loads(metadata["config"]))
    except (ValueError, TypeError) as error:
        raise ModelLoadError(f"model file {path} has an invalid config: {error}") from error
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as error:
        raise ModelLoadError(f"model file {path} cannot be read: {error}") from error
    model = LifterModel(config)
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    found = {name: tuple(t.shape) for name, t in tensors.items()}
    if expected != found:
        missing = sorted(set(expected) - set(found))
        extra = sorted(set(found) - set(expected))
        wrong = sorted(n for n in set(expected) & set(found) if expected[n] != found[n])
        raise ModelLoadError(
            f"model file {path} does not match its config: missing {missing}, unexpected {extra}, "
            f"wrong shape {[(n, found[n], expected[n]) for n in wrong]}"
        )
    model.load_state_dict({name: tensor.float() for name, tensor in tensors.items()})
    return model.to(device).eval(), metadata
