"""The installed package, as ``ros2 run`` and ``ros2 launch`` see it.

Everything here reads the install (the ament index: ``share/pose_lifter`` and
``lib/pose_lifter``), never the source tree. launch_ros is not installable here, so the launch
files are read as Python syntax: every package, executable, parameters file and config they
name must exist in the install (or be an optional viewer started only on request), and every
launch argument they declare must be used.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from rcl_interfaces.srv import GetParameters

from pose_lifter.entry_points import installed_executable
from pose_lifter.ros.parameters import FIELDS
from ros_helpers import CONFIG, SHARE, call_service, ros_process

LAUNCH_FILES = sorted((SHARE / "launch").glob("*.launch.py"))
#: Packages launch files may start that pose_lifter does not depend on: viewers a headless
#: robot lacks, started only when asked (a ``condition``).
OPTIONAL_PACKAGES = {"rviz2"}
EXECUTABLES = ("pose_lifter_node", "openpose_bridge", "pose-lifter")
#: The pose_lifter node's input topic names (what the launch file may remap).
NODE_TOPICS = {"keypoints_2d", "camera_info", "image", "depth", "detections"}
RUNTIME_ONLY = ("torch", "plotly", "rosbags")


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", None)) == name
    ]


def _keywords(call: ast.Call) -> dict[str, ast.expr]:
    return {keyword.arg: keyword.value for keyword in call.keywords}


def _constant(node: ast.expr | None):
    return node.value if isinstance(node, ast.Constant) else None


def _table_names(tree: ast.AST) -> set[str]:
    """First column of the module's tables of rows (``ARGUMENTS = (("name", ...), ...)``)."""
    return {
        _constant(row.elts[0])
        for assign in ast.walk(tree)
        if isinstance(assign, ast.Assign)
        and isinstance(assign.value, ast.Tuple)
        and assign.value.elts
        and all(isinstance(row, ast.Tuple) for row in assign.value.elts)
        for row in assign.value.elts
    }


def _first_arguments(tree: ast.AST, function: str) -> set[str]:
    """Names given to ``function("name")``, or to ``function(name)`` in a loop over a table."""
    names = set()
    for call in _calls(tree, function):
        value = _constant(call.args[0])
        names |= {value} if value is not None else _table_names(tree)
    return names


def test_the_launch_files_are_installed():
    assert {path.name for path in LAUNCH_FILES} == {
        "pose_lifter.launch.py",
        "openpose_bridge.launch.py",
        "demo.launch.py",
    }


@pytest.mark.parametrize("launch_file", LAUNCH_FILES, ids=lambda path: path.name)
def test_launch_file_names_only_what_the_install_has(launch_file):
    source = launch_file.read_text()
    tree = ast.parse(source, feature_version=(3, 10))
    compile(source, str(launch_file), "exec")
    nodes = _calls(tree, "Node")
    assert nodes, f"{launch_file.name} starts no node"
    for call in nodes:
        keywords = _keywords(call)
        package, executable = _constant(keywords["package"]), _constant(keywords["executable"])
        if package == "pose_lifter":
            path = Path(installed_executable(executable))
            assert path.is_file() and os.access(path, os.X_OK), f"{executable}: no {path}"
        else:
            assert package in OPTIONAL_PACKAGES, f"{launch_file.name} starts {package}"
            assert "condition" in keywords, f"{package} must start only when asked"
    # Files under share/pose_lifter: os.path.join(share, "<folder>", "<file>").
    for call in _calls(tree, "join"):
        parts = [_constant(arg) for arg in call.args[1:]]
        if call.args and getattr(call.args[0], "id", None) == "share" and None not in parts:
            assert SHARE.joinpath(*parts).is_file(), f"{launch_file.name} names {parts}"


@pytest.mark.parametrize("launch_file", LAUNCH_FILES, ids=lambda path: path.name)
def test_every_launch_argument_is_declared_and_used(launch_file):
    tree = ast.parse(launch_file.read_text())
    declared = _first_arguments(tree, "DeclareLaunchArgument")
    used = _first_arguments(tree, "LaunchConfiguration")
    assert declared and used == declared, (
        f"declared but unused: {sorted(declared - used)}; "
        f"used but undeclared: {sorted(used - declared)}"
    )


def test_node_launch_passes_the_installed_parameters_and_remaps_real_topics():
    tree = ast.parse((SHARE / "launch" / "pose_lifter.launch.py").read_text())
    (node,) = [
        call
        for call in _calls(tree, "Node")
        if _constant(_keywords(call)["package"]) == "pose_lifter"
    ]
    keywords = _keywords(node)
    remapped = {_constant(pair.elts[0]) for pair in keywords["remappings"].elts}
    assert remapped == NODE_TOPICS
    overrides = {
        _constant(key) for d in ast.walk(tree) if isinstance(d, ast.Dict) for key in d.keys
    } | {
        _constant(target.slice)
        for target in ast.walk(tree)
        if isinstance(target, ast.Subscript) and isinstance(target.ctx, ast.Store)
    }
    assert overrides - {None} <= set(FIELDS) | {"use_sim_time"}
    default = [
        call
        for call in _calls(tree, "DeclareLaunchArgument")
        if _constant(call.args[0]) == "params_file"
    ][0]
    parts = [_constant(arg) for arg in _keywords(default)["default_value"].args[1:]]
    assert SHARE.joinpath(*parts) == CONFIG and CONFIG.is_file()
    values = yaml.safe_load(CONFIG.read_text())["/**"]["ros__parameters"]

    def flatten(tree, prefix=""):
        for key, value in tree.items():
            if isinstance(value, dict):
                yield from flatten(value, f"{prefix}{key}.")
            else:
                yield f"{prefix}{key}"

    assert set(flatten(values)) == set(FIELDS), "the installed YAML sets every parameter"


def test_bridge_accepts_every_launch_argument_as_a_parameter(ros):
    """Start the installed bridge with every launch argument and read them back.

    Start the installed bridge with the launch file's arguments at their defaults, as the launch
    file passes them, and read them back from the running node.
    """
    tree = ast.parse((SHARE / "launch" / "openpose_bridge.launch.py").read_text())
    table = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "ARGUMENTS"
    )
    defaults = {_constant(row.elts[0]): _constant(row.elts[1]) for row in table.elts}
    args = ["-r", "__ns:=/bridge_launch", "-p", "mode:=watch", "-p", "rate_hz:=1.0"]
    for name, value in defaults.items():
        if name not in ("mode", "rate_hz") and value != "":
            args += ["-p", f"{name}:={value}"]
    with ros_process("openpose_bridge", args) as proc:
        node = ros.node()
        request = GetParameters.Request(names=sorted(defaults))
        response = call_service(
            ros,
            node,
            GetParameters,
            "/bridge_launch/openpose_bridge/" "get_parameters",
            request,
            timeout=30.0,
        )
        assert len(response.values) == len(defaults), proc.log()
        assert all(value.type != 0 for value in response.values), (  # 0 = PARAMETER_NOT_SET
            dict(zip(request.names, response.values)),
            proc.log(),
        )


@pytest.mark.parametrize("executable", EXECUTABLES)
def test_entry_points_are_where_ros2_run_looks(executable):
    path = Path(installed_executable(executable))
    assert path.is_file() and os.access(path, os.X_OK), path
    shebang = path.read_text().splitlines()[0]
    assert shebang.startswith("#!") and "python" in shebang, shebang


def test_node_process_imports_no_training_or_tool_dependency():
    """The CPU node (keypoints and image mode) runs on onnxruntime + numpy alone."""
    script = (
        "import sys, rclpy\n"
        "from pose_lifter.ros.node import PoseLifterNode\n"
        "rclpy.init()\n"
        "for mode in ('keypoints', 'image'):\n"
        "    node = PoseLifterNode(cli_args=['--ros-args', '--params-file', sys.argv[1],\n"
        "                                    '-p', 'input_mode:=' + mode, '-p', 'device:=auto'])\n"
        "    backend = node.processor.pipeline.lifter.backend\n"
        "    assert backend == 'onnxruntime', backend\n"
        "    node.destroy_node()\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[2:])))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(CONFIG), *RUNTIME_ONLY],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout


def test_installed_node_maps_no_torch_library(ros):
    """The running installed executable, read from /proc: no libtorch in its memory."""
    with ros_process(
        "pose_lifter_node", ["--params-file", str(CONFIG), "-r", "__ns:=/lean"]
    ) as proc:
        node = ros.node()
        request = GetParameters.Request(names=["input_mode"])
        call_service(
            ros, node, GetParameters, "/lean/pose_lifter/get_parameters", request, timeout=30.0
        )
        maps = Path(f"/proc/{proc.process.pid}/maps").read_text()
        assert "onnxruntime" in maps, proc.log()
        assert "libtorch" not in maps, proc.log()


@pytest.mark.skipif(
    not os.environ.get("POSE_LIFTER_WS_WITHOUT_MSGS"),
    reason="needs the workspace suite's build without pose_lifter_msgs "
    "(scripts/ros_workspace_test.sh)",
)
def test_node_built_without_the_messages_package_says_what_to_run():
    """A workspace where only pose_lifter was built: one line, exit status 1, no traceback."""
    prefix = Path(os.environ["POSE_LIFTER_WS_WITHOUT_MSGS"])
    executable = prefix / "pose_lifter" / "lib" / "pose_lifter" / "pose_lifter_node"
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "AMENT_PREFIX_PATH", "COLCON_PREFIX_PATH")
    }
    environment["PYTHONPATH"] = os.pathsep.join(
        str(path) for path in prefix.glob("pose_lifter/lib/python3*/site-packages")
    )
    environment["AMENT_PREFIX_PATH"] = os.pathsep.join(
        [str(prefix / "pose_lifter"), os.environ.get("VIRTUAL_ENV", sys.prefix)]
    )
    start = time.monotonic()
    result = subprocess.run(
        [str(executable)], capture_output=True, text=True, timeout=60, env=environment
    )
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode == 1, lines
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    assert "pose_lifter_msgs" in lines[0] and "colcon build" in lines[0], lines
    assert time.monotonic() - start < 30


@pytest.mark.skipif(
    not os.environ.get("POSE_LIFTER_EXPECT_PREFIX"),
    reason="only in the workspace suite (scripts/ros_workspace_test.sh)",
)
def test_the_workspace_suite_tests_the_colcon_install():
    """Guard of the workspace suite: the code under test is the install, not the clone."""
    import pose_lifter

    prefix = Path(os.environ["POSE_LIFTER_EXPECT_PREFIX"]).resolve()
    assert prefix in Path(pose_lifter.__file__).resolve().parents, pose_lifter.__file__
    assert prefix in Path(installed_executable("pose_lifter_node")).resolve().parents
    assert prefix in CONFIG.resolve().parents


def _p(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _ros_args(parameters: dict, *extra: str) -> list[str]:
    args = list(extra)
    for name, value in parameters.items():
        args += ["-p", f"{name}:={_p(value)}"]
    return args


@pytest.mark.parametrize("input_mode", ["keypoints", "image"])
def test_demo_launch_processes_show_markers_within_40_s(ros, input_mode):
    """What ``ros2 launch pose_lifter demo.launch.py [input_mode:=image] rviz:=false`` starts.

    The installed player (the OpenPose bridge, or ``pose-lifter play`` of the bundled camera
    bag) and the installed node with the parameters file and the demo's overrides, the same
    constants the launch file passes; nothing else runs: markers must arrive within 40 s.
    """
    from visualization_msgs.msg import MarkerArray

    from pose_lifter.tools.sample_bag import (
        DEMO_BRIDGE_PARAMETERS,
        DEMO_IMAGE_PARAMETERS,
        DEMO_PARAMETERS,
    )

    ns = f"/demo_{input_mode}"
    image_mode = input_mode == "image"
    node_parameters = dict(DEMO_PARAMETERS, **(DEMO_IMAGE_PARAMETERS if image_mode else {}))
    node_args = _ros_args(node_parameters, "--params-file", str(CONFIG), "-r", f"__ns:={ns}")
    if image_mode:
        player = ("pose-lifter", ["-r", f"__ns:={ns}"], ["play"])
    else:
        player = ("openpose_bridge", _ros_args(DEMO_BRIDGE_PARAMETERS, "-r", f"__ns:={ns}"), [])
    started = time.monotonic()
    markers: list = []
    node = ros.node()
    node.create_subscription(MarkerArray, f"{ns}/markers", markers.append, 10)
    with ros_process("pose_lifter_node", node_args) as lifter:
        with ros_process(player[0], player[1], player[2]) as source:
            drawn = lambda: any(m.action == 0 for a in markers for m in a.markers)  # noqa: E731
            ok = ros.spin_until(drawn, 40.0 - (time.monotonic() - started))
            assert ok, lifter.log() + source.log()
    print(f"\ndemo ({input_mode}): first markers {time.monotonic() - started:.1f} s after start")
