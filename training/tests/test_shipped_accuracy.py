"""The shipped lifters still score what their model card says on the CMU and HDM05 test splits.

Pins every shipped model (:data:`SHIPPED_MODELS`) within 0.5 mm of ``MODEL_CARD.md``'s tables
and ``results.json`` (N-MPJPE and PA-MPJPE, all joints and 2 removed), so a changed model,
normalisation or backend cannot pass silently. 4,320 + 9,022 poses, a few seconds per model.
"""

from __future__ import annotations

import json
import re

import pytest

from pose_lifter.runtime.model_files import SHIPPED_MODELS, shipped_model_path
from pose_lifter_training.data import load_source
from pose_lifter_training.evaluate import evaluate, model_lifter

from data_paths import CMU, HDM05

MODELS = shipped_model_path().parent
RESULTS = json.loads((MODELS / "results.json").read_text())["results"]
CARD = (MODELS / "MODEL_CARD.md").read_text()
TOLERANCE_MM = 0.5
TEST_SETS = {"CMU": CMU, "HDM05": HDM05}


@pytest.fixture(scope="module")
def test_splits():
    return {label: load_source(path, "test") for label, path in TEST_SETS.items()}


def card_row(label: str, name: str) -> list[float]:
    """Return N, PA, PCK, flip rate, N and PA with 2 missing of a row of the card.

    ``name``'s row in the card's ``label`` test-split table.
    """
    section = CARD.split(f"### {label} test split", 1)[1].split("###", 1)[0]
    row = re.search(rf"^\| {re.escape(name)} \|(.*)\|$", section, re.MULTILINE)
    assert row, f"no row for {name} in MODEL_CARD.md's {label} table"
    return [float(cell) for cell in row.group(1).split("|")]


@pytest.mark.parametrize("label", TEST_SETS)
@pytest.mark.parametrize("name", SHIPPED_MODELS)
def test_shipped_model_scores_its_model_card(test_splits, name, label):
    lifter = model_lifter(shipped_model_path(name))
    result = evaluate({name: lifter}, test_splits[label], (2,))[name]
    n, pa, _, _, n_missing, pa_missing = card_row(label, name)
    measured = (result["n_mpjpe_mm"], result["pa_mpjpe_mm"])
    measured_missing = (result["missing_2"]["n_mpjpe_mm"], result["missing_2"]["pa_mpjpe_mm"])
    assert measured == pytest.approx((n, pa), abs=TOLERANCE_MM)
    assert measured_missing == pytest.approx((n_missing, pa_missing), abs=TOLERANCE_MM)
    recorded = RESULTS[label][name]
    assert result["n_mpjpe_mm"] == pytest.approx(recorded["n_mpjpe_mm"], abs=TOLERANCE_MM)
    assert result["pa_mpjpe_mm"] == pytest.approx(recorded["pa_mpjpe_mm"], abs=TOLERANCE_MM)


def test_the_card_and_the_proxy_results_agree():
    """The card's proxy table is the committed proxy.json, to the printed digit."""
    rows = json.loads((MODELS / "proxy.json").read_text())
    proxy_section = CARD.split("## Cross-dataset proxy", 1)[1]
    for name, halves in rows.items():
        for half, runs in halves.items():
            values = [run["pa_mpjpe_mm"] for run in runs]
            mean = sum(values) / len(values)
            spread = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
            row = re.search(rf"^\| {re.escape(name)} \|(.*)\|$", proxy_section, re.MULTILINE)
            assert row, f"no proxy row for {name}"
            cells = [cell.strip() for cell in row.group(1).split("|")]
            column = 2 if half == "cmu" else 5  # PA of the half (after seeds, N)
            assert cells[column] == f"{mean:.1f} +- {spread:.1f}", (name, half, cells)
