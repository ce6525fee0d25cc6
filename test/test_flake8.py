"""ament_flake8 over the package, its tests, tools and training code (config: setup.cfg)."""

from pathlib import Path

import pytest
from ament_flake8.main import main_with_errors

REPO = Path(__file__).resolve().parents[1]
LINTED = ["pose_lifter", "launch", "test", "bench", "training", "scripts", "setup.py"]


@pytest.mark.flake8
@pytest.mark.linter
def test_flake8():
    paths = [str(REPO / path) for path in LINTED if (REPO / path).exists()]
    status, errors = main_with_errors(argv=["--config", str(REPO / "setup.cfg"), *paths])
    assert status == 0, f"{len(errors)} code style errors:\n" + "\n".join(errors)
