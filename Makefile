# pose_lifter developer entry points. Every target builds/refreshes the environment first
# (scripts/setup_env.sh is idempotent and stamp-based: ~1 s when nothing changed).
# Commands run inside the env via scripts/env.sh (venv + install/ overlay + ROS vars).
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := test

IN_ENV = source scripts/env.sh &&
TEST_DIRS = $(wildcard test training/tests)
PYTEST_ARGS ?=

.PHONY: setup test test-unit test-workspaces demo demo-rgbd bench clean

setup:
	bash scripts/setup_env.sh

# make test = the suite in the development env, then the user's path on two distros: a colcon
# workspace built with the README's commands (scripts/ros_workspace_test.sh), its installed-node
# DDS tests and `colcon test` linters.
test: test-unit test-workspaces

# pytest exit code 5 (no tests collected) is a failure like any other non-zero code.
test-unit: setup
	@if [ -z "$(strip $(TEST_DIRS))" ]; then echo "make test: no test directories (test/, training/tests/)" >&2; exit 1; fi
	@$(IN_ENV) python -m pytest -q $(TEST_DIRS) $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5) -> failure" >&2; fi; \
	  exit $$rc

WORKSPACE_DISTROS = jazzy kilted
test-workspaces:
	@for distro in $(WORKSPACE_DISTROS); do bash scripts/ros_workspace_test.sh $$distro || exit $$?; done

# Replay the bundled camera sample bag (30 JPEG frames of vtest.avi + CameraInfo) through the
# node's processing code path (MoveNet detector + lifter), offline: writes the output bag and
# the HTML/JSON report under out/demo/ and prints where they are.
DEMO_BAG = pose_lifter/sample_data/vtest_bag
demo: setup
	@start=$$(date +%s.%N); \
	$(IN_ENV) python -m pose_lifter.tools.cli replay $(DEMO_BAG) --out out/demo/vtest_replay --overwrite \
	  -p detector.tiles:=2 -p detector.max_persons:=12 -p detector.num_threads:=2 \
	  --report out/demo/report && \
	echo "make demo: open out/demo/report/report.html (replay took $$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" $$start $$(date +%s.%N)) s incl. start-up)"

# The RGB-D variant: the bundled RGB-D sample bag (keypoints + compressedDepth + CameraInfo +
# ground truth; synthetic depth bodies of CMU test poses, `pose-lifter record-rgbd-sample`).
RGBD_BAG = pose_lifter/sample_data/rgbd_bag
demo-rgbd: setup
	$(IN_ENV) python -m pose_lifter.tools.cli replay $(RGBD_BAG) --out out/demo/rgbd_replay --overwrite \
	  --report out/demo/rgbd_report && echo "make demo-rgbd: open out/demo/rgbd_report/report.html"

# Benchmarks print tables (numbers, ratios side by side); nothing here asserts a time.
BENCHES = bench/bench_lifter.py bench/bench_detector.py bench/bench_node_startup.py bench/bench_node_load.py \
          bench/bench_image_node.py bench/bench_node_idle.py bench/bench_soak.py bench/bench_training.py \
          bench/bench_rgbd.py
bench: setup
	@for script in $(BENCHES); do \
	  if [ -f $$script ]; then echo "== $$script"; $(IN_ENV) python $$script || exit $$?; fi; \
	done

clean:
	rm -rf .venv .ws build install log .pytest_cache .hypothesis .setup_env.lock
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
	find . -name '*.egg-info' -type d -prune -not -path './.git/*' -exec rm -rf {} +
