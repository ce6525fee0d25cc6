import numpy as np
import pytest

from data_paths import CMU


@pytest.fixture(scope="session")
def cmu_test():
    with np.load(CMU) as data:
        return {k.removeprefix("test_"): data[k] for k in data.files if k.startswith("test_")}


@pytest.fixture(scope="session")
def small_npz(tmp_path_factory, cmu_test):
    """Return a small generic npz: keypoints_2d (N,15,2) px + joints_3d (N,15,3) m + action."""
    path = tmp_path_factory.mktemp("data") / "small.npz"
    index = np.random.default_rng(0).choice(len(cmu_test["keypoints_2d"]), 600, replace=False)
    np.savez_compressed(
        path,
        keypoints_2d=cmu_test["keypoints_2d"][index],
        joints_3d=cmu_test["joints_3d"][index],
        action=cmu_test["action"][index],
    )
    return path
