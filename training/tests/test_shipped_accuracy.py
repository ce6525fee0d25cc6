"""The shipped lifters still score what their model card says on the whole CMU test split.

Pins every shipped model (default, seed, supervised) within 0.5 mm of ``MODEL_CARD.md``'s
table and ``results.json`` (N-MPJPE and PA-MPJPE, all joints and 2 removed), so a changed
model, normalisation or backend cannot pass silently. 4,320 poses, a few seconds.
"""

from __future__ import annotations

import json
import re

import pytest

from pose_lifter.runtime.model_files import shipped_model_path
from pose_lifter_training.data import load_source
from pose_lifter_training.evaluate import evaluate, model_lifter

from data_paths import CMU

MODELS = shipped_model_path().parent
RESULTS = json.loads((MODELS / "results.json").read_text())["results"]
CARD = (MODELS / "MODEL_CARD.md").read_text()
TOLERANCE_MM = 0.5


@pytest.fixture(scope="module")
def cmu_test():
    return load_source(CMU, "test")


def card_row(name: str) -> list[float]:
    """N-MPJPE, PA-MPJPE, PCK, flip rate, N and PA with 2 missing of ``name``'s card row."""
    row = re.search(rf"^\| {re.escape(name)} \|(.*)\|$", CARD, re.MULTILINE)
    assert row, f"no row for {name} in MODEL_CARD.md"
    return [float(cell) for cell in row.group(1).split("|")]


@pytest.mark.parametrize("name", ["default", "seed", "supervised"])
def test_shipped_model_scores_its_model_card(cmu_test, name):
    result = evaluate({name: model_lifter(MODELS / f"{name}.safetensors")}, cmu_test, (2,))[name]
    n, pa, _, _, n_missing, pa_missing = card_row(name)
    measured = (result["n_mpjpe_mm"], result["pa_mpjpe_mm"])
    measured_missing = (result["missing_2"]["n_mpjpe_mm"], result["missing_2"]["pa_mpjpe_mm"])
    assert measured == pytest.approx((n, pa), abs=TOLERANCE_MM)
    assert measured_missing == pytest.approx((n_missing, pa_missing), abs=TOLERANCE_MM)
    recorded = RESULTS[name]
    assert result["n_mpjpe_mm"] == pytest.approx(recorded["n_mpjpe_mm"], abs=TOLERANCE_MM)
    assert result["pa_mpjpe_mm"] == pytest.approx(recorded["pa_mpjpe_mm"], abs=TOLERANCE_MM)
