# Sourced by scripts/test: axe-core, the accessibility checker the Chromium tests run on
# every dashboard page (tests/tests/dashboard_a11y.rs).
#
# Installs the pinned version from the npm registry into target/tools/axe (once; Node.js
# and npm from Debian when they are missing) and exports FMD_TEST_AXE, the path of
# axe.min.js. The tests fail without it; they never skip.
axe_version="4.14.1"
axe_dir="${CARGO_TARGET_DIR:-target}/tools/axe"
axe_js="$axe_dir/node_modules/axe-core/axe.min.js"
if ! grep -qs "\"version\": \"$axe_version\"" "$axe_dir/node_modules/axe-core/package.json"; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "pre-30-axe: installing nodejs and npm"
        declare -F apt_install >/dev/null || source scripts/lib/apt.sh
        apt_install nodejs npm
    fi
    echo "pre-30-axe: installing axe-core $axe_version"
    mkdir -p "$axe_dir"
    npm install --prefix "$axe_dir" --no-save --no-audit --no-fund --loglevel=error "axe-core@$axe_version" >/dev/null
fi
[ -s "$axe_js" ] || { echo "pre-30-axe: $axe_js is missing after npm install" >&2; exit 1; }
FMD_TEST_AXE="$(cd "$(dirname "$axe_js")" && pwd)/axe.min.js"
export FMD_TEST_AXE
echo "pre-30-axe: axe-core $axe_version at $FMD_TEST_AXE"
