#!/usr/bin/env bash
# Create/refresh the development environment for pose_lifter. Idempotent, no prompts,
# offline except for the package registries pip is configured with.
#
#   1. .venv/ (python3 -m venv) + `pip install -r requirements.txt`
#      (skipped while .venv/.requirements.sha256 matches requirements.txt)
#   2. include-path links the ROS wheels' exported CMake targets expect
#      (/opt/python/cpXY-cpXY/..., see ROS2_PIP_WHEELS.md)
#   3. colcon build of the pose_lifter_msgs interface package into install/
#      (skipped while install/.pose_lifter_msgs.sha256 matches the message sources)
#   4. pip install -e . (root ament_python package, into the venv = ROS prefix)
#      and pip install -e training/ if training/pyproject.toml exists
#      (skipped while .venv/.local_pkgs.sha256 matches their packaging files)
#
# Afterwards: `source scripts/env.sh`.
# Env knobs: PYTHON (interpreter for the venv, default python3), SETUP_FORCE=1 (redo all steps).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"
FORCE="${SETUP_FORCE:-0}"
t0=$SECONDS

log() { printf '[setup_env] %s\n' "$*" >&2; }

# Serialise concurrent runs (two `make` targets at once) on the same checkout.
exec 9>"$ROOT/.setup_env.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

sha() { sha256sum | cut -d' ' -f1; }
# Hash of the given files/dirs (names + contents), skipping ones that do not exist.
hash_paths() {
  local p
  for p in "$@"; do
    if [ -d "$p" ]; then
      find "$p" -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | LC_ALL=C sort -z | xargs -0r sha256sum
    elif [ -f "$p" ]; then
      sha256sum "$p"
    fi
  done | sha
}

# ---------------------------------------------------------------- 1. venv + pip
PYVER="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
case "$PYVER" in
  3.10|3.11|3.12) ;;
  *) log "Python $PYVER found; the ROS 2 kilted wheels exist for 3.10-3.12 only (set PYTHON=python3.X)"; exit 1 ;;
esac

if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
  log "broken venv, recreating"; rm -rf "$VENV"
fi
if [ -x "$VENV/bin/python" ]; then
  VENV_PYVER="$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)"
  if [ "$VENV_PYVER" != "$PYVER" ]; then
    log "venv has Python $VENV_PYVER, wanted $PYVER: recreating"; rm -rf "$VENV"
  fi
fi
if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV with $PYTHON ($PYVER)"
  "$PYTHON" -m venv "$VENV"
fi
# Keep colcon from crawling the venv (it is inside the workspace).
touch "$VENV/COLCON_IGNORE"

# shellcheck disable=SC1091
set +u; . "$VENV/bin/activate"; set -u
PY="$VENV/bin/python"

REQ_HASH="$({ echo "py=$PYVER"; cat requirements.txt; } | sha)"
REQ_STAMP="$VENV/.requirements.sha256"
if [ "$FORCE" = 1 ] || [ "$(cat "$REQ_STAMP" 2>/dev/null || true)" != "$REQ_HASH" ]; then
  log "pip install -r requirements.txt"
  PIP_Q=()
  [ "${CI:-}" = true ] && PIP_Q=(-q)
  "$PY" -m pip install ${PIP_Q[@]+"${PIP_Q[@]}"} --disable-pip-version-check -r requirements.txt
  echo "$REQ_HASH" > "$REQ_STAMP"
  rm -f "$VENV/.local_pkgs.sha256"   # reinstall local packages on top of the new set
else
  log "requirements unchanged, skipping pip"
fi

# ------------------------------------------- 2. include links for the ROS CMake targets
# shellcheck source=scripts/ros_wheels_links.sh
. "$ROOT/scripts/ros_wheels_links.sh"
ros_wheels_links

# ------------------------------------------- 3. colcon build of pose_lifter_msgs
# Only the interface package is built with colcon; the root ament_python package is
# pip-installed editable into the venv (step 4) so Python edits need no rebuild and no
# stale copy in install/ shadows the source tree.
MSG_BUILD_FLAGS=(-DBUILD_TESTING=OFF -DPython3_EXECUTABLE="$PY"
  # RPATH so the generated libs / Python extensions find each other without
  # LD_LIBRARY_PATH (extensions live in lib/pythonX.Y/site-packages/pose_lifter_msgs/).
  '-DCMAKE_INSTALL_RPATH=$ORIGIN;$ORIGIN/../../..')
# (only the requirement lines that can affect the build: ROS wheels, colcon, numpy)
ROS_REQ_HASH="$({ echo "py=$PYVER"; grep -Ei '^[[:space:]]*(ros-|catkin|colcon|numpy|setuptools)' requirements.txt; } | sha)"
MSG_HASH="$({ echo "req=$ROS_REQ_HASH"; echo "flags=${MSG_BUILD_FLAGS[*]}"; hash_paths pose_lifter_msgs; } | sha)"
MSG_STAMP="$ROOT/install/.pose_lifter_msgs.sha256"
if [ "$FORCE" = 1 ] || [ ! -f install/pose_lifter_msgs/share/pose_lifter_msgs/package.xml ] \
   || [ "$(cat "$MSG_STAMP" 2>/dev/null || true)" != "$MSG_HASH" ]; then
  log "colcon build pose_lifter_msgs"
  rm -rf build/pose_lifter_msgs install/pose_lifter_msgs
  # Plain environment: the venv only (no leftovers of a sourced install/ or other ROS).
  env -u PYTHONPATH -u COLCON_PREFIX_PATH -u CMAKE_PREFIX_PATH -u AMENT_PREFIX_PATH \
    AMENT_PREFIX_PATH="$VENV" CMAKE_PREFIX_PATH="$VENV" \
    colcon --log-base log build --base-paths pose_lifter_msgs \
      --build-base build --install-base install \
      --event-handlers console_cohesion- status- ${CI:+summary+} \
      --cmake-args "${MSG_BUILD_FLAGS[@]}"
  echo "$MSG_HASH" > "$MSG_STAMP"
else
  log "pose_lifter_msgs unchanged, skipping colcon build"
fi

# Make the overlay's Python package importable by the venv's python even without
# `source scripts/env.sh` (IDEs, subprocesses with a scrubbed environment).
SITE="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$ROOT/install/pose_lifter_msgs/lib/python$PYVER/site-packages" > "$SITE/pose_lifter_msgs_overlay.pth"
# The typesupport libs are dlopen()ed by name through LD_LIBRARY_PATH. The wheels'
# bootstrapper (.pth re-exec) always puts $VENV/lib on LD_LIBRARY_PATH, so link them there.
find "$VENV/lib" -maxdepth 1 -name 'libpose_lifter_msgs__*' -type l -delete
for so in "$ROOT"/install/pose_lifter_msgs/lib/libpose_lifter_msgs__*.so; do
  [ -e "$so" ] && ln -sfn "$so" "$VENV/lib/$(basename "$so")"
done

# ------------------------------------------- 4. local Python packages (editable)
LOCAL_HASH="$(hash_paths setup.py setup.cfg pyproject.toml package.xml resource launch config \
                         training/pyproject.toml training/setup.py training/setup.cfg)"
LOCAL_STAMP="$VENV/.local_pkgs.sha256"
if [ "$FORCE" = 1 ] || [ "$(cat "$LOCAL_STAMP" 2>/dev/null || true)" != "$LOCAL_HASH" ]; then
  if [ -f setup.py ] || [ -f pyproject.toml ]; then
    log "pip install -e . (root package, data_files land in the venv prefix)"
    # --use-pep517: setuptools' PEP 660 editable wheel (a finder for pose_lifter only;
    # the legacy `setup.py develop` path would put the whole repo root on sys.path).
    "$PY" -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation --use-pep517 -e .
    # Editable installs do not install setup.py's data_files (ament index marker,
    # share/pose_lifter/{package.xml,launch,config}); symlink them into the venv prefix
    # (the ament prefix) so ament_index finds the package and edits are live.
    "$PY" - "$VENV" <<'PYEOF'
import os, sys, runpy, setuptools
prefix = sys.argv[1]
captured = {}
setuptools.setup = lambda **kw: captured.update(kw)
sys.argv = ["setup.py", "--name"]
runpy.run_path("setup.py", run_name="__main__")
name = captured.get("name", "pose_lifter")
# drop stale links from an earlier run (e.g. a removed launch file)
share = os.path.join(prefix, "share", name)
for d, _, files in os.walk(share):
    for f in files:
        p = os.path.join(d, f)
        if os.path.islink(p) and not os.path.exists(p):
            os.remove(p)
n = 0
for dest, files in captured.get("data_files", []):
    ddir = os.path.join(prefix, dest)
    os.makedirs(ddir, exist_ok=True)
    for f in files:
        link = os.path.join(ddir, os.path.basename(f))
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(os.path.abspath(f), link)
        n += 1
print(f"[setup_env] linked {n} data_files of {name} into {prefix}", file=sys.stderr)
PYEOF
  else
    log "no setup.py/pyproject.toml at the root yet, skipping pip install -e ."
  fi
  # ros2 run / launch_ros look for executables in <prefix>/lib/<package>/ (setup.cfg puts them
  # there in a colcon build; pip's editable install leaves them in bin/): link them.
  mkdir -p "$VENV/lib/pose_lifter"
  for exe in pose_lifter_node openpose_bridge pose-lifter; do
    ln -sfn "$VENV/bin/$exe" "$VENV/lib/pose_lifter/$exe"
  done
  if [ -f training/pyproject.toml ]; then
    log "pip install -e training/"
    "$PY" -m pip install -q --disable-pip-version-check --no-build-isolation -e training/
  fi
  echo "$LOCAL_HASH" > "$LOCAL_STAMP"
else
  log "local packages unchanged, skipping pip install -e"
fi

# ------------------------------------------- 5. headless Chromium (report rendering test)
# test/test_report_render.py screenshots the replay report with Debian's chromium package.
# Idempotent; best effort: without apt (or root/sudo) the test skips and says why.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@"
    else return 1; fi
  }
  apt_chromium() { as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1; }
  log "apt-get install -y chromium (headless report rendering test)"
  apt_chromium || { as_root apt-get update -q >/dev/null 2>&1 && apt_chromium; } \
    || log "WARNING: could not install chromium (needs root or sudo and apt); the report rendering test will skip"
fi

log "done in $((SECONDS - t0)) s; now: source scripts/env.sh"
