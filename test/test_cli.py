import json

import numpy as np

from pose_lifter.tools.cli import SAMPLE_DIR, main


def test_demo_lifts_the_bundled_sample_and_writes_html(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert "lifted 40 people in 20 frames" in printed
    assert "walker: N-MPJPE" in printed
    html = (tmp_path / "demo_skeletons.html").read_text()
    assert "plotly" in html.lower() and "cmu_sample_000000000019_keypoints" in html
    poses = np.load(tmp_path / "demo_joints_3d.npz")["joints_3d"]
    assert poses.shape == (20, 2, 15, 3) and np.all(np.isfinite(poses))
    # the walker's right ankle is missing in frames 10-14 and still gets a finite 3D position
    assert np.all(poses[10:15, 0, 11] != 0)


def test_view_npz_and_bad_inputs(tmp_path, capsys):
    path = tmp_path / "poses.npz"
    np.savez(path, joints_3d=np.random.default_rng(0).normal(size=(3, 15, 3)))
    assert main(["view", str(path), "--output", str(tmp_path / "v.html")]) == 0
    assert (tmp_path / "v.html").stat().st_size > 100_000  # plotly.js is embedded
    np.savez(tmp_path / "empty.npz", other=np.zeros(3))
    assert main(["view", str(tmp_path / "empty.npz")]) == 2
    assert "no 'joints_3d'" in capsys.readouterr().err
    (tmp_path / "x.txt").write_text(json.dumps({}))
    assert main(["view", str(tmp_path / "x.txt")]) == 2


def test_sample_directory_is_packaged():
    assert len(list((SAMPLE_DIR / "openpose_json").glob("*.json"))) == 20
