"""Which skips a test run may have; any other skip fails the run (see conftest.py)."""

from __future__ import annotations

#: The only skips a run may have: (pattern in the skip reason, why it is allowed). Any other skip
#: fails the run (a broken import or a missing fixture must not pass as a skip).
ALLOWED_SKIPS: tuple[tuple[str, str], ...] = (
    ("no CUDA GPU visible", "no GPU on this machine (the device check runs where one is lent)"),
    ("could not import 'mediapipe'", "BlazePose is opt-in (pip install mediapipe)"),
    ("workspace suite", "runs in scripts/ros_workspace_test.sh against the colcon install"),
    ("vtest.avi missing", "the sample bag's source video comes with apt's opencv-doc"),
    ("yolo_msgs is not installed", "optional input; not on the wheel registries"),
    ("hri_msgs is not installed", "optional input; not on the wheel registries"),
    ("is installed here", "the refusal without an optional message package is not exercised"),
    ("rmw is not Fast DDS", "the forced middleware loss needs Fast DDS's profile file"),
    (
        "vision_msgs is not installed",
        "optional output; not on the wheel registries (tested with it built from source)",
    ),
)


def unexpected_skips(reports) -> list[str]:
    """``path: reason`` of every skip report whose reason is not on :data:`ALLOWED_SKIPS`."""
    found = []
    for report in reports:
        reason = (
            str(report.longrepr[-1])
            if isinstance(report.longrepr, tuple)
            else str(report.longrepr)
        )
        if not any(pattern in reason for pattern, _ in ALLOWED_SKIPS):
            found.append(f"{report.nodeid}: {reason}")
    return found
