"""The package's three layers, with imports running one way: tools -> ros -> runtime.

Every module of ``pose_lifter`` belongs to one of ``runtime`` (no ROS), ``ros`` (the ROS 2 layer)
and ``tools`` (offline tools); the only top-level modules are the package ``__init__`` and the
console-script guards. The training package builds on the runtime alone.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "pose_lifter"
LAYERS = ("runtime", "ros", "tools")
#: Which layers each layer (and the training package) may import.
ALLOWED = {
    "runtime": {"runtime"},
    "ros": {"runtime", "ros"},
    "tools": {"runtime", "ros", "tools"},
    "training": {"runtime"},
}
#: Top-level distributions that mean "ROS": none of them may appear in the runtime or training.
ROS_MODULES = {
    "rclpy",
    "rosbags",
    "ament_index_python",
    "builtin_interfaces",
    "diagnostic_msgs",
    "geometry_msgs",
    "lifecycle_msgs",
    "message_filters",
    "pose_lifter_msgs",
    "rcl_interfaces",
    "rosgraph_msgs",
    "sensor_msgs",
    "std_msgs",
    "tf2_msgs",
    "tf2_ros",
    "visualization_msgs",
}
TOP_LEVEL = {"__init__.py", "entry_points.py"}


def imported_modules(path: Path) -> set[str]:
    """Every absolute module name ``path`` imports (also inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            if node.module == "pose_lifter":
                names.update(f"pose_lifter.{alias.name}" for alias in node.names)
    return names


def layer_of(module: str) -> str | None:
    """``runtime``/``ros``/``tools`` for a pose_lifter module (its top-level name otherwise)."""
    parts = module.split(".")
    if parts[0] != "pose_lifter" or len(parts) < 2:
        return None
    return parts[1]


def sources(layer: str) -> list[Path]:
    if layer == "training":
        return sorted((REPO / "training" / "pose_lifter_training").glob("*.py"))
    return sorted((PACKAGE / layer).rglob("*.py"))


def test_every_module_belongs_to_a_layer():
    top = {p.name for p in PACKAGE.glob("*.py")}
    assert top == TOP_LEVEL
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(LAYERS)
    for layer in LAYERS:
        assert len(sources(layer)) >= 4, layer


@pytest.mark.parametrize("layer", [*LAYERS, "training"])
def test_imports_run_one_way(layer):
    wrong = []
    for path in sources(layer):
        for module in imported_modules(path):
            target = layer_of(module)
            if module.split(".")[0] == "pose_lifter" and target not in ALLOWED[layer]:
                wrong.append(f"{path.relative_to(REPO)} imports {module}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("layer", ["runtime", "training"])
def test_runtime_and_training_never_import_ros(layer):
    wrong = [
        f"{path.relative_to(REPO)} imports {module}"
        for path in sources(layer)
        for module in imported_modules(path)
        if module.split(".")[0] in ROS_MODULES
    ]
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_a_wrong_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from pose_lifter.tools.replay import replay_offline\n")
    modules = imported_modules(bad)
    assert "pose_lifter.tools.replay" in modules
    assert layer_of("pose_lifter.tools.replay") not in ALLOWED["ros"]
