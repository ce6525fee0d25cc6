"""The shipped lifters still score what their model card says on the CMU and HDM05 test splits.

Pins every shipped model (:data:`SHIPPED_MODELS`) within 0.5 mm of ``MODEL_CARD.md``'s tables
and ``results.json`` (N-MPJPE and PA-MPJPE, all joints and 2 removed), and the default's test
sequences through the node's step (accuracy and steadiness), so a changed model, normalisation,
temporal stage or backend cannot pass silently; and the card's and the README's proxy tables
are the committed ``proxy.json``. A few seconds per model.
"""

from __future__ import annotations

import json
import re

import pytest

from pose_lifter.runtime.lifter import PoseLifter
from pose_lifter.runtime.model_files import SHIPPED_MODELS, shipped_model_path
from pose_lifter_training.data import load_source
from pose_lifter_training.evaluate import evaluate, model_lifter
from pose_lifter_training.proxy_report import proxy_tables, with_readme_table
from pose_lifter_training.sequence_eval import evaluate_sequences
from pose_lifter_training.sequences import load_sequences

from data_paths import CMU, HDM05, SEQUENCES as SEQUENCE_FILE

MODELS = shipped_model_path().parent
REPO = MODELS.parents[1]
RESULTS = json.loads((MODELS / "results.json").read_text())["results"]
SEQUENCES_RESULTS = json.loads((MODELS / "results.json").read_text())["sequences"]
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


def test_the_card_and_the_readme_show_the_proxy_results():
    """The card's proxy tables and the README's accuracy table are the committed proxy.json."""
    rows = json.loads((MODELS / "proxy.json").read_text())
    assert proxy_tables(rows) in CARD
    readme = (REPO / "README.md").read_text()
    assert with_readme_table(readme, rows) == readme


@pytest.mark.parametrize("label", TEST_SETS)
def test_shipped_default_steadiness_is_its_model_card(label):
    """The default's test sequences through the node's step: as results.json records."""
    recorded = SEQUENCES_RESULTS[label]["default"]
    sequences = load_sequences(SEQUENCE_FILE, label.lower(), "test")
    result = evaluate_sequences(PoseLifter(shipped_model_path("default"), "cpu"), sequences)
    for key in ("n_mpjpe_mm", "pa_mpjpe_mm", "mpjve_mm", "accel_error_mm"):
        assert result[key] == pytest.approx(recorded[key], abs=TOLERANCE_MM), key
    assert result["bone_cv"] == pytest.approx(recorded["bone_cv"], abs=0.002)
    assert result["coverage"] == pytest.approx(recorded["coverage"], abs=0.01)
