# Source me (bash/zsh) after scripts/setup_env.sh:   source scripts/env.sh
# Activates .venv, overlays the colcon install/ (pose_lifter_msgs), makes the venv an
# ament prefix and keeps DDS on this host with a per-shell domain id.
if [ -n "${BASH_VERSION:-}" ]; then eval '_pl_env="${BASH_SOURCE[0]}"'
elif [ -n "${ZSH_VERSION:-}" ]; then eval '_pl_env="${(%):-%x}"'
else _pl_env="$PWD/scripts/env.sh"   # POSIX sh cannot tell: source it from the repo root
fi
_pl_root="$(cd "$(dirname "$_pl_env")/.." && pwd)"
if [ ! -x "$_pl_root/.venv/bin/python" ]; then
  echo "env.sh: $_pl_root/.venv missing; run scripts/setup_env.sh (or make setup)" >&2
  unset _pl_env _pl_root _pl_u
  return 1 2>/dev/null || exit 1
fi
# colcon's setup scripts are not nounset-safe: relax `set -u` while sourcing them.
case $- in *u*) _pl_u=1; set +u ;; *) _pl_u= ;; esac
# shellcheck disable=SC1091
. "$_pl_root/.venv/bin/activate"
if [ -f "$_pl_root/install/setup.bash" ] && [ -n "${BASH_VERSION:-}" ]; then
  . "$_pl_root/install/setup.bash"
elif [ -f "$_pl_root/install/setup.sh" ]; then
  . "$_pl_root/install/setup.sh"
fi
[ -n "$_pl_u" ] && set -u
# colcon's hooks leave a trailing ':' when LD_LIBRARY_PATH was empty (= search the cwd).
if [ -n "${LD_LIBRARY_PATH:-}" ]; then
  LD_LIBRARY_PATH="$(printf '%s' "$LD_LIBRARY_PATH" | tr -s ':' | sed -e 's/^://' -e 's/:$//')"
  export LD_LIBRARY_PATH
fi
# Let the wheels' bootstrapper (.pth re-exec adding their lib dirs to LD_LIBRARY_PATH)
# run for this venv even if this shell inherited the guard from another Python process.
unset _ROS_WHEELS_BOOTSTRAP_COMPLETE
# The venv is the ROS prefix of the PyPI wheels (share/ament_index lives there).
case ":${AMENT_PREFIX_PATH:-}:" in
  *":$VIRTUAL_ENV:"*) ;;
  *) export AMENT_PREFIX_PATH="${AMENT_PREFIX_PATH:+$AMENT_PREFIX_PATH:}$VIRTUAL_ENV" ;;
esac
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
if [ -z "${ROS_DOMAIN_ID:-}" ]; then
  ROS_DOMAIN_ID=$(( 1 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 101 ))
  export ROS_DOMAIN_ID
fi
unset _pl_env _pl_root _pl_u
