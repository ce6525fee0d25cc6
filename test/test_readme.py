"""The README a newcomer reads: short, quick start first, and every command in it checked.

- At most 250 lines; the colcon quick start (the block CI executes) within the first 80.
- Every command of its ``bash`` blocks is one a test runs or checks: the quick-start block is
  executed line by line by ``scripts/ros_workspace_test.sh``; ``ros2 launch`` lines name an
  installed launch file and only arguments it declares; ``make`` lines name Makefile targets
  (``make test`` is what ``.ci/run`` runs; ``make demo`` runs the replay CLI that
  ``test_cli.py`` runs on the same bag). A command no rule knows fails the test.
- Every ``doc/`` link points at a file that exists.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
CI_MARK = "<!-- ci:ros-workspace -->"


def bash_commands(text: str) -> list[str]:
    """Commands of the ``bash`` blocks (continuation lines joined, comments dropped)."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            command = line.split("  #")[0].split(" # ")[0].strip()
            if command:
                commands.append(re.sub(r"\s+", " ", command))
    return commands


def ci_block() -> list[str]:
    return bash_commands(README.split(CI_MARK)[1])


def launch_arguments(name: str) -> set[str]:
    tree = ast.parse((REPO / "launch" / name).read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "DeclareLaunchArgument"
        and isinstance(node.args[0], ast.Constant)
    }


def test_short_with_the_quick_start_first():
    lines = README.splitlines()
    assert len(lines) <= 250, len(lines)
    first = next(i for i, line in enumerate(lines) if line.strip() == CI_MARK)
    assert first < 80 and "colcon build" in "\n".join(lines[first : first + 15])


def test_every_command_is_run_or_checked_by_a_test():
    ci = set(ci_block())
    script = (REPO / "scripts" / "ros_workspace_test.sh").read_text()
    assert "ci:ros-workspace" in script  # it executes the quick-start block line by line
    targets = set(re.findall(r"^([a-z-]+):", (REPO / "Makefile").read_text(), re.MULTILINE))
    for command in bash_commands(README):
        if command in ci:
            continue
        words = command.split()
        if words[:2] == ["ros2", "launch"]:
            assert words[2] == "pose_lifter" and (REPO / "launch" / words[3]).is_file(), command
            arguments = {word.split(":=")[0] for word in words[4:]}
            assert arguments <= launch_arguments(words[3]), command
        elif words[0] == "make":
            assert words[1] in targets, command
        else:
            raise AssertionError(f"README command no test runs or checks: {command}")
    assert "make test" in (REPO / ".ci" / "run").read_text()


def demo_arguments() -> list[str]:
    """Return the arguments ``make demo`` gives the replay CLI (from ``make -n demo``)."""
    dry_run = subprocess.run(
        ["make", "-n", "demo"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    joined = dry_run.replace("\\\n", " ")
    line = next(line for line in joined.splitlines() if "pose_lifter.tools.cli replay" in line)
    command = line.split("python -m pose_lifter.tools.cli", 1)[1].split("&&")[0]
    return shlex.split(command)


def test_make_demo_runs_the_replay_this_test_runs(tmp_path):
    """``make demo`` = the replay CLI on the bundled camera bag: run exactly that here.

    The same arguments as the Makefile's (the detector's tiles and threads included), only the
    output folders moved to the test's own.
    """
    arguments = demo_arguments()
    assert arguments[:2] == ["replay", "pose_lifter/sample_data/vtest_bag"]
    assert "detector.tiles:=2" in arguments
    out, report = tmp_path / "vtest_replay", tmp_path / "report"
    for flag, path in (("--out", out), ("--report", report)):
        arguments[arguments.index(flag) + 1] = str(path)
    arguments[1] = str(REPO / arguments[1])
    from pose_lifter.tools.cli import main

    assert main(arguments) == 0
    summary = json.loads((report / "report.json").read_text())["summary"]
    assert summary["frames"] == 30 and summary["persons_3d"] > 30
    assert summary["persons_per_frame_mean"] > 5.0  # the tiles find the small people
    assert (report / "report.html").is_file()


def test_the_demo_line_is_in_the_quick_start():
    assert "ros2 launch pose_lifter demo.launch.py" in ci_block()


def test_doc_links_exist():
    links = re.findall(r"\]\(((?:doc|pose_lifter)/[^)#]+)\)", README)
    assert links
    for link in links:
        assert (REPO / link).is_file(), link
    for page in (REPO / "doc").glob("*.md"):
        for link in re.findall(r"\]\(([a-z_]+\.md)\)", page.read_text()):
            assert (REPO / "doc" / link).is_file(), (page.name, link)
