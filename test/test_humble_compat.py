"""Kept compatible with ROS 2 Humble (not installable here): what its sources require.

- Python 3.10 syntax (Ubuntu 22.04) for the package, its launch files and setup.py.
- No rclpy API newer than Humble. The lists below are what rclpy's ``rolling`` has and its
  ``humble`` branch lacks (github.com/ros2/rclpy, both branches compared on 2026-12-01).
- setuptools 59 (Humble's): no ``**`` in package_data globs.
- Bags Humble's ``ros2 bag`` reads: rosbag2_storage's humble ``metadata_io.cpp`` decodes
  ``offered_qos_profiles`` as a string for metadata version >= 4 and ignores unknown keys, so
  version 8 (string) is readable and version 9 (a list) is not.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml
from std_msgs.msg import Header

from pose_lifter.tools.bag_io import BAG_VERSION, BagWriter

REPO = Path(__file__).resolve().parents[1]
SHIPPED = (
    sorted((REPO / "pose_lifter").rglob("*.py"))
    + sorted((REPO / "launch").glob("*.py"))
    + [REPO / "setup.py"]
)
#: rclpy Node methods and modules that arrived after Humble (Iron and later).
NEWER_THAN_HUMBLE = {
    "add_post_set_parameters_callback",
    "add_pre_set_parameters_callback",
    "remove_post_set_parameters_callback",
    "remove_pre_set_parameters_callback",
    "count_clients",
    "count_services",
    "get_fully_qualified_node_names",
    "list_parameters",
    "wait_for_node",
}
NEWER_MODULES = {
    "clock_type",
    "event_handler",
    "logging_service",
    "parameter_client",
    "parameter_event_handler",
    "service_introspection",
    "type_description_service",
    "type_hash",
}


def _imported(node: ast.AST) -> set[str]:
    """Modules an import statement imports (none for other statements)."""
    if isinstance(node, ast.ImportFrom) and node.module:
        return {node.module}
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    return set()


def _newer_rclpy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.startswith("rclpy.") and m.split(".")[1] in NEWER_MODULES}


def humble_fallbacks(tree: ast.AST) -> set[int]:
    """Find the imports of newer rclpy modules whose ``except ImportError`` imports Humble's.

    Only such a fallback is exempt: its ``try`` imports a module newer than Humble and one of
    its ``ImportError`` handlers imports an rclpy module Humble has.
    """
    exempt = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        handlers = [
            handler
            for handler in node.handlers
            if getattr(handler.type, "id", None) in ("ImportError", "ModuleNotFoundError")
        ]
        humble = {
            module
            for handler in handlers
            for statement in handler.body
            for module in _imported(statement)
            if module.startswith("rclpy.")
        }
        if humble and not _newer_rclpy(humble):
            exempt |= {
                id(statement) for statement in node.body if _newer_rclpy(_imported(statement))
            }
    return exempt


def newer_rclpy_imports(source: str) -> set[str]:
    """rclpy modules newer than Humble that ``source`` imports outside a Humble fallback."""
    tree = ast.parse(source, feature_version=(3, 10))
    exempt = humble_fallbacks(tree)
    return {
        module
        for node in ast.walk(tree)
        if id(node) not in exempt
        for module in _newer_rclpy(_imported(node))
    }


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: str(path.relative_to(REPO)))
def test_python_310_syntax_and_humble_rclpy(path):
    source = path.read_text()
    tree = ast.parse(source, str(path), feature_version=(3, 10))
    used = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    used |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert used & NEWER_THAN_HUMBLE == set()
    assert newer_rclpy_imports(source) == set()


def test_only_a_humble_fallback_exempts_a_newer_import():
    fallback = (
        "try:\n    from rclpy.event_handler import X\n"
        "except ImportError:\n    from rclpy.qos_event import X\n"
    )
    assert newer_rclpy_imports(fallback) == set()
    no_fallback = (
        "try:\n    from rclpy.event_handler import X\n"
        "except ImportError:\n    X = None\n"
    )
    assert newer_rclpy_imports(no_fallback) == {"rclpy.event_handler"}
    other_package = (
        "try:\n    import tf2_ros\n    from rclpy.type_hash import T\n"
        "except ImportError:\n    tf2_ros = None\n"
    )
    assert newer_rclpy_imports(other_package) == {"rclpy.type_hash"}
    newer_fallback = (
        "try:\n    from rclpy.event_handler import X\n"
        "except ImportError:\n    from rclpy.type_hash import X\n"
    )
    assert newer_rclpy_imports(newer_fallback) == {"rclpy.event_handler", "rclpy.type_hash"}


def test_package_data_globs_work_with_setuptools_59():
    tree = ast.parse((REPO / "setup.py").read_text())
    patterns = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    assert not [pattern for pattern in patterns if "**" in pattern]


def _check_humble_readable(metadata_path: Path):
    info = yaml.safe_load(metadata_path.read_text())["rosbag2_bagfile_information"]
    assert 4 <= info["version"] <= 8
    for key in (
        "storage_identifier",
        "duration",
        "starting_time",
        "message_count",
        "relative_file_paths",
        "compression_format",
        "compression_mode",
        "files",
    ):
        assert key in info, key
    for topic in info["topics_with_message_count"]:
        metadata = topic["topic_metadata"]
        assert {"name", "type", "serialization_format"} <= set(metadata)
        assert isinstance(metadata["offered_qos_profiles"], str), metadata


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_written_bags_are_readable_by_humble(tmp_path, storage):
    assert BAG_VERSION == 8
    with BagWriter(tmp_path / "bag", storage) as writer:
        writer.write("/header", Header(frame_id="camera"), 1_000_000_000)
    _check_humble_readable(tmp_path / "bag" / "metadata.yaml")


def test_shipped_sample_bag_is_readable_by_humble():
    _check_humble_readable(REPO / "pose_lifter" / "sample_data" / "vtest_bag" / "metadata.yaml")
