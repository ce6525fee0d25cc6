"""Write the bundled copies of the shared pose data (``training/data/``) from the originals.

    python training/scripts/bundle_data.py --source ../shared/data --out training/data

Mocap files (CMU, HDM05): per split the samples' ``joints_3d``, ``keypoints_2d``, ``K``, ``R``,
``t`` (world -> camera), ``action``, ``sequence``, ``frame``, ``camera``; ``joints_world`` is
dropped (it is ``R^T (joints_3d - t)``, recovered by
:func:`pose_lifter_training.data.load_world_poses`). MPII: ``keypoints_2d`` and ``image_name``.
The 60 Hz sequences: every array (world frame).
Every file keeps ``joint_names`` and the original ``meta`` (provenance JSON). Arrays are copied
unchanged (float32), so results on the copies equal results on the originals.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

MOCAP_KEYS = ("joints_3d", "keypoints_2d", "K", "R", "t", "action", "sequence", "frame", "camera")
FILES = {
    "cmu_mocap_15j.npz": [f"{split}_{key}" for split in ("train", "test") for key in MOCAP_KEYS],
    "hdm05_15j.npz": [f"{split}_{key}" for split in ("train", "test") for key in MOCAP_KEYS],
    "mpii_2d_15j.npz": ["keypoints_2d", "image_name"],
    "motion_sequences_60hz.npz": [
        "joints_world",
        "sequence_index",
        "source_frame",
        "glitch",
        "sequence_dataset",
        "sequence_split",
        "sequence_name",
        "sequence_action",
        "sequence_actor",
    ],
}


def bundle(source: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, keys in FILES.items():
        with np.load(source / name, allow_pickle=False) as original:
            arrays = {key: original[key] for key in [*keys, "joint_names", "meta"]}
        np.savez_compressed(out / name, **arrays)
        print(f"{out / name}: {(out / name).stat().st_size / 1e6:.1f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", type=Path, required=True, help="the shared data folder")
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "data")
    bundle(**vars(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
