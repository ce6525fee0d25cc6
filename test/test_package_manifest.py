"""package.xml tells the truth: every import is declared, every key exists.

rosdep cannot run here (no rosdistro index offline), so the keys are checked against lists
read from rosdistro (github.com/ros/rosdistro, ``{humble,jazzy,kilted}/distribution.yaml`` and
``rosdep/python.yaml``, as of 2026-08-22): ROS packages released in all three distros, and
rosdep keys that resolve on Ubuntu and Debian. Python packages without a key are listed in the
requirements files for robots instead.
"""

from __future__ import annotations

import ast
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Released in Humble, Jazzy and Kilted (rosdistro distribution.yaml).
ROS_PACKAGES = {
    "rclpy",
    "rcl_interfaces",
    "builtin_interfaces",
    "std_msgs",
    "geometry_msgs",
    "sensor_msgs",
    "visualization_msgs",
    "vision_msgs",
    "diagnostic_msgs",
    "rosgraph_msgs",
    "tf2_ros_py",
    "tf2_msgs",
    "ament_index_python",
    "launch",
    "launch_ros",
    "ament_flake8",
    "ament_pep257",
    "lifecycle_msgs",
}
#: Keys of rosdistro's rosdep/python.yaml (apt packages, or pip for the -pip keys).
ROSDEP_KEYS = {
    "python3-numpy",
    "python3-yaml",
    "python3-opencv",
    "python3-onnxruntime-pip",
    "python3-rosbags-pip",
    "python3-pytest",
    "python3-hypothesis",
}
WORKSPACE_PACKAGES = {"pose_lifter_msgs"}
#: Top-level import -> the package.xml key that provides it.
IMPORT_KEYS = {
    "tf2_ros": "tf2_ros_py",
    "numpy": "python3-numpy",
    "yaml": "python3-yaml",
    "cv2": "python3-opencv",
    "onnxruntime": "python3-onnxruntime-pip",
    "rosbags": "python3-rosbags-pip",
}
#: Imports without a rosdep key -> the requirements file that installs them.
REQUIREMENTS = {
    "plotly": "requirements/robot.txt",
    "torch": "requirements/robot-gpu.txt",
    "safetensors": "requirements/robot-gpu.txt",
}
#: Imported only when the user opts in, with an install hint in the error: the BlazePose
#: detector backend, and the message packages of input_mode yolo / hri (not declared: yolo_msgs
#: is in no rosdistro, hri_msgs is in Humble and Jazzy but not Kilted).
OPT_IN = {"mediapipe", "yolo_msgs", "hri_msgs"}


def _dependencies(kinds: tuple[str, ...]) -> set[str]:
    root = ElementTree.parse(REPO / "package.xml").getroot()
    return {element.text.strip() for kind in kinds for element in root.iter(kind)}


def _imports(paths) -> set[str]:
    names = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"pose_lifter"}


RUNTIME_FILES = sorted((REPO / "pose_lifter").rglob("*.py")) + sorted(
    (REPO / "launch").glob("*.py")
)


def test_every_runtime_import_is_declared():
    declared = _dependencies(("exec_depend", "depend"))
    for name in sorted(_imports(RUNTIME_FILES) - OPT_IN):
        if name in REQUIREMENTS:
            requirement = (REPO / REQUIREMENTS[name]).read_text().split()
            assert name in requirement, f"{name} missing from {REQUIREMENTS[name]}"
        else:
            key = IMPORT_KEYS.get(name, name)
            assert key in declared, f"import {name}: declare <exec_depend>{key}</exec_depend>"


def test_every_declared_key_exists_and_is_used():
    runtime = _dependencies(("exec_depend", "depend"))
    imported = {IMPORT_KEYS.get(name, name) for name in _imports(RUNTIME_FILES)}
    assert runtime - imported == set(), "declared but never imported"
    every = runtime | _dependencies(("test_depend", "build_depend", "buildtool_depend"))
    unknown = every - ROS_PACKAGES - ROSDEP_KEYS - WORKSPACE_PACKAGES
    assert unknown == set(), f"keys not in rosdistro: {sorted(unknown)}"


def test_test_dependencies_are_declared():
    tests = sorted((REPO / "test").glob("*.py"))
    declared = _dependencies(("test_depend", "exec_depend", "depend"))
    local = {path.stem for path in tests}
    for name in sorted(_imports(tests) - local - OPT_IN):
        if name in REQUIREMENTS:
            continue
        key = IMPORT_KEYS.get(
            name, {"pytest": "python3-pytest", "hypothesis": "python3-hypothesis"}.get(name, name)
        )
        assert key in declared, f"test import {name}: declare <test_depend>{key}</test_depend>"


def test_no_gui_dependency_on_a_headless_robot():
    assert "rviz2" not in _dependencies(("exec_depend", "depend"))
