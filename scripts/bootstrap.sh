#!/usr/bin/env bash
# Set up everything toipkit needs, then open the labs (`lab`) or run the whole suite (`test`).
# Idempotent: a second run only redoes what changed. Used by `make lab`, `make test` and .ci/run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
# System packages: what Binder installs (binder/apt.txt, one list for both) plus test-only tools.
TEST_ONLY_PACKAGES=(chromium)  # tests/browser: headless JupyterLab checks

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

find_python() {
    for candidate in python3.13 python3.12 python3.11 python3.10 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
           "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
            command -v "$candidate"; return 0
        fi
    done
    return 1
}

apt_install() {
    # $@: Debian packages. Installs as root; otherwise prints the command and carries on.
    [ "$#" -gt 0 ] || return 0
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing system packages: $*"
        export DEBIAN_FRONTEND=noninteractive
        # tshark asks whether non-root users may capture; answer no without a prompt.
        echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    else
        printf 'missing system packages; run:\n    sudo apt-get install -y %s\ncontinuing with what works.\n' "$*" >&2
    fi
}

system_packages() {
    sed -e 's/#.*//' -e '/^[[:space:]]*$/d' binder/apt.txt
    [ "${#TEST_ONLY_PACKAGES[@]}" -eq 0 ] || printf '%s\n' "${TEST_ONLY_PACKAGES[@]}"
}

system_tools() {
    local missing=() package
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "not a Debian system: install by hand: $(system_packages | tr '\n' ' ')" >&2
        return 0
    fi
    while read -r package; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$package")
    done < <(system_packages)
    apt_install "${missing[@]}"
}

python_env() {
    local python
    if ! python="$(find_python)"; then
        apt_install python3 python3-venv python3-pip
        python="$(find_python)" || { echo "Python >= 3.10 with venv is required" >&2; exit 1; }
    fi
    if [ ! -x "$PY" ]; then
        say "creating $VENV with $python"
        "$python" -m venv "$VENV"
    fi
    # Reinstall only when the project's metadata changed since the last install.
    local stamp="$VENV/.toipkit-installed" digest
    digest="$(cat pyproject.toml | sha256sum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
        say "installing toipkit and its lab/dev extras into .venv"
        "$PY" -m pip install --quiet --upgrade pip
        "$PY" -m pip install --quiet -e ".[lab,dev]"
        echo "$digest" > "$stamp"
    fi
}

setup() {
    system_tools
    python_env
    # French user interface by default (the language pack comes with the `lab` extra), for
    # `make lab` as for the browser test of `make test`.
    "$PY" -m toipkit.course.labsettings >/dev/null
}

hub_tools() {
    # The JupyterHub test (tests/scale) needs configurable-http-proxy from npm, installed into
    # the venv (its bin/ is where the test looks first).
    [ -x "$VENV/bin/configurable-http-proxy" ] && return 0
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    if command -v npm >/dev/null 2>&1; then
        say "installing configurable-http-proxy (npm) into .venv"
        npm install --silent --no-audit --no-fund --prefix "$VENV/node" configurable-http-proxy
        ln -sf "$VENV/node/node_modules/.bin/configurable-http-proxy" \
            "$VENV/bin/configurable-http-proxy"
    else
        echo "npm not found: the JupyterHub test will be skipped" >&2
    fi
}

run_lab() {
    setup
    local port="${PORT:-8888}" args=()
    [ -n "${DISPLAY:-}" ] || args+=(--no-browser)
    [ "$(id -u)" -ne 0 ] || args+=(--allow-root)
    say "starting JupyterLab on labs/ — open the URL printed below (Ctrl-C to stop)"
    exec "$VENV/bin/jupyter" lab --ip=127.0.0.1 --port="$port" \
        --ServerApp.root_dir="$ROOT" \
        --LabApp.default_url="/lab/tree/labs/00-prise-en-main.ipynb" "${args[@]}"
}

run_tests() {
    setup
    hub_tools
    say "ruff"
    "$VENV/bin/ruff" check .
    say "mypy (type checking, settings in pyproject.toml)"
    "$VENV/bin/mypy"
    say "course notebooks conventions"
    "$VENV/bin/toipkit" course check
    say "unit, conformance and integration tests"
    # pytest exits 5 when it collects nothing: that fails here too (set -e), never green.
    # Three workers on two cores: the live-network files mostly wait on real time (their own
    # group, see tests/conftest.py) while the CPU-bound files share the other two.
    "$VENV/bin/pytest" tests -p no:cacheprovider -n "${TOIPKIT_TEST_WORKERS:-3}" --dist loadfile \
        --durations=25
    say "solution notebooks (strict nbval)"
    "$VENV/bin/pytest" --nbval solutions --nbval-sanitize-with tests/nbval_sanitize.cfg \
        -p no:cacheprovider
}

case "${1:-}" in
    lab) run_lab ;;
    test) run_tests ;;
    setup) setup ;;
    *) echo "usage: $0 lab|test|setup" >&2; exit 2 ;;
esac
