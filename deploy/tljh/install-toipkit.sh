#!/usr/bin/env bash
# Install the ToIP course on a server running The Littlest JupyterHub (TLJH), as root:
#
#     sudo bash deploy/tljh/install-toipkit.sh https://github.com/ORG/REPO.git [BRANCH]
#
# Installs the system packages the labs use (binder/apt.txt), toipkit and nbgitpuller into the
# users' environment (/opt/tljh/user), and a Hub setting that stops an absent student's XiVO
# sandbox after 30 minutes. Students then open labs with the links of `toipkit course link`.
# Idempotent: run it again after a course update.
set -euo pipefail

REPO="${1:?usage: $0 GIT_URL [BRANCH]}"
BRANCH="${2:-main}"
TLJH="${TLJH_PREFIX:-/opt/tljh}"
PIP="$TLJH/user/bin/pip"
IDLE_MINUTES="${TOIPKIT_SANDBOX_IDLE_MINUTES:-30}"
# toipkit runs from a checkout (its data/ folder holds the sample captures): a world-readable
# one, updated in place.
COURSE="${TOIPKIT_COURSE_DIR:-/opt/toip-course}"

[ "$(id -u)" -eq 0 ] || { echo "run as root (sudo)" >&2; exit 1; }
[ -x "$PIP" ] || { echo "$PIP not found: is TLJH installed (https://tljh.jupyter.org)?" >&2; exit 1; }

if [ -d "$COURSE/.git" ]; then
    git -C "$COURSE" fetch --quiet --depth 1 origin "$BRANCH"
    git -C "$COURSE" reset --quiet --hard FETCH_HEAD
else
    git clone --quiet --depth 1 --branch "$BRANCH" "$REPO" "$COURSE"
fi
chmod -R a+rX "$COURSE"

echo "==> system packages (binder/apt.txt)"
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$COURSE/binder/apt.txt" |
    xargs apt-get install -y -qq --no-install-recommends

echo "==> toipkit and nbgitpuller into $TLJH/user"
"$PIP" install --quiet --upgrade -e "$COURSE[lab]" nbgitpuller

echo "==> Hub settings"
mkdir -p "$TLJH/config/jupyterhub_config.d"
cat > "$TLJH/config/jupyterhub_config.d/toipkit.py" <<PY
# Written by install-toipkit.sh: an absent student's sandbox (API, SIP registrar, media
# services) stops after this many idle minutes; their next request starts it again.
c.Spawner.environment.update({"TOIPKIT_SANDBOX_IDLE_MINUTES": "$IDLE_MINUTES"})
PY
tljh-config set user_environment.default_app jupyterlab
tljh-config reload hub

echo "==> check (as a student would see it)"
"$TLJH/user/bin/toipkit" doctor || true
echo "done: give students the links printed by"
echo "    toipkit course link --hub https://YOUR-HUB --repo $REPO --branch $BRANCH --lab 00"
