"""Resumable training checkpoints as safetensors (tensors + JSON metadata; never pickle).

A checkpoint holds the generator, discriminator, both optimisers' states, every random number
generator's state (torch's global one, CUDA's when used, and the trainer's own generators), the
epoch counter and the best proxy score so far: a resumed run continues exactly as an
uninterrupted one would.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file


def _flatten_optimizer(prefix: str, optimizer: torch.optim.Optimizer, tensors: dict) -> list:
    state = optimizer.state_dict()
    for param_index, param_state in state["state"].items():
        for key, value in param_state.items():
            tensors[f"{prefix}.{param_index}.{key}"] = (
                torch.as_tensor(value).detach().cpu().clone()
            )
    return state["param_groups"]


def _restore_optimizer(
    prefix: str, optimizer: torch.optim.Optimizer, tensors: dict, param_groups: list
) -> None:
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        if name.startswith(prefix + "."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": param_groups})


def save_checkpoint(
    path: str | Path,
    modules: dict[str, torch.nn.Module],
    opt_g,
    opt_d,
    scheduler_g,
    scheduler_d,
    epoch: int,
    global_step: int,
    best_proxy: float,
    generators: dict[str, torch.Generator] | None = None,
) -> None:
    """Write everything needed to resume after ``epoch`` completed epochs.

    ``modules`` maps a name (``generator``, ``discriminator``, ``ema``) to a module whose state is
    saved; ``generators`` maps a name to a random number generator of the trainer's.
    """
    tensors: dict[str, torch.Tensor] = {}
    for prefix, module in modules.items():
        for name, tensor in module.state_dict().items():
            tensors[f"{prefix}.{name}"] = tensor.detach().cpu().contiguous()
    groups_g = _flatten_optimizer("opt_g", opt_g, tensors)
    groups_d = _flatten_optimizer("opt_d", opt_d, tensors)
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{index}"] = state
    for name, generator in (generators or {}).items():
        tensors[f"rng.generator.{name}"] = generator.get_state()
    meta = {
        "epoch": epoch,
        "global_step": global_step,
        "best_proxy": best_proxy,
        "param_groups_g": groups_g,
        "param_groups_d": groups_d,
        "scheduler_g": scheduler_g.state_dict(),
        "scheduler_d": scheduler_d.state_dict(),
    }
    tmp = Path(path).with_suffix(".tmp")
    save_file(
        {k: v.contiguous() for k, v in tensors.items()},
        str(tmp),
        metadata={"checkpoint": json.dumps(meta)},
    )
    tmp.replace(path)


def load_checkpoint(
    path: str | Path,
    modules: dict[str, torch.nn.Module],
    opt_g,
    opt_d,
    scheduler_g,
    scheduler_d,
    generators: dict[str, torch.Generator] | None = None,
) -> dict:
    """Restore a checkpoint in place; returns its metadata (epoch, global_step, best_proxy).

    Raises:
        KeyError: the checkpoint lacks the state of one of ``generators`` (an older format).
    """
    with safe_open(str(path), framework="pt") as handle:
        meta = json.loads(handle.metadata()["checkpoint"])
    tensors = load_file(str(path))
    for prefix, module in modules.items():
        module.load_state_dict(
            {
                name[len(prefix) + 1 :]: value
                for name, value in tensors.items()
                if name.startswith(prefix + ".")
            }
        )
    _restore_optimizer("opt_g", opt_g, tensors, meta["param_groups_g"])
    _restore_optimizer("opt_d", opt_d, tensors, meta["param_groups_d"])
    scheduler_g.load_state_dict(meta["scheduler_g"])
    scheduler_d.load_state_dict(meta["scheduler_d"])
    torch.set_rng_state(tensors["rng.torch"])
    cuda_states = [
        tensors[f"rng.cuda.{i}"] for i in range(len(tensors)) if f"rng.cuda.{i}" in tensors
    ]
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda_states)
    for name, generator in (generators or {}).items():
        generator.set_state(tensors[f"rng.generator.{name}"])
    return meta
