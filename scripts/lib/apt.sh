# Sourced by the scripts that need Debian packages: `apt_install PACKAGE...` installs them,
# retrying a failed `apt-get update` or `install` (a busy dpkg lock, a mirror that did not
# answer) three times, and shows apt's output when it finally fails.
apt_install() {
    local sudo="" attempt out
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    out="$(mktemp)"
    for attempt in 1 2 3; do
        if DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq >"$out" 2>&1 &&
            DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >>"$out" 2>&1; then
            rm -f "$out"
            return 0
        fi
        echo "apt_install $*: attempt $attempt failed" >&2
        sleep $((attempt * 10))
    done
    cat "$out" >&2
    rm -f "$out"
    return 1
}
