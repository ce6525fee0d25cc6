"""Paths of the bundled data the training tests use."""

from pathlib import Path

TRAINING_DIR = Path(__file__).resolve().parents[1]
CMU = TRAINING_DIR / "data" / "cmu_mocap_15j.npz"
HDM05 = TRAINING_DIR / "data" / "hdm05_15j.npz"
SEQUENCES = TRAINING_DIR / "data" / "motion_sequences_60hz.npz"
