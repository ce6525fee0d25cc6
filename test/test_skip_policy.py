"""A skip passes only with a reason on the allow-list (test/skip_policy.py ALLOWED_SKIPS)."""

from types import SimpleNamespace

from skip_policy import unexpected_skips


def skip(reason: str):
    return SimpleNamespace(
        nodeid="test_x.py::test_x", longrepr=("test_x.py", 3, f"Skipped: {reason}")
    )


def test_only_allowed_reasons_pass():
    allowed = skip("no CUDA GPU visible: GPU path not exercised")
    broken = skip("could not import 'pose_lifter.ros.node': No module named 'rclpy'")
    assert unexpected_skips([allowed]) == []
    assert unexpected_skips([allowed, broken]) == [
        "test_x.py::test_x: Skipped: could not import 'pose_lifter.ros.node': No module named "
        "'rclpy'"
    ]
