# Sourced by the README's commands: make sure uv is there (installing it with pip if not), then
# sync the workspace exactly as uv.lock says. Safe to run again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
if command -v uv >/dev/null 2>&1; then
  UV=(uv)
elif python3 -m uv --version >/dev/null 2>&1; then
  UV=(python3 -m uv)
else
  echo "Installing uv with pip (first run only)..." >&2
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  UV=(python3 -m uv)
fi
"${UV[@]}" sync --locked --quiet
export MELTANO_CLI_DISABLE_VERSION_CHECK=1
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false
