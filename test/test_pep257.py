"""ament_pep257 over the package and its tools, with the options of setup.cfg [ament_pep257]."""

import configparser
from pathlib import Path

import pytest
from ament_pep257.main import main

REPO = Path(__file__).resolve().parents[1]
LINTED = ["pose_lifter", "launch", "test", "bench", "training", "scripts", "setup.py"]


def _options() -> list[str]:
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    options = []
    for key, value in config["ament_pep257"].items():
        options += [f"--{key}", *value.split()]
    return options


@pytest.mark.linter
@pytest.mark.pep257
def test_pep257():
    paths = [str(REPO / path) for path in LINTED if (REPO / path).exists()]
    assert main(argv=[*paths, *_options()]) == 0, "docstring style errors (see the output above)"
