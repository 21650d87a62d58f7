# Sourced by scripts/test: a real SMTP server for the alert tests (tests/tests/alerts.rs).
#
# aiosmtpd (Python's standard SMTP server package, from PyPI) is installed when it cannot
# be imported; the tests start it themselves on a free port of 127.0.0.1 with its Mailbox
# handler and read the messages it stores. Exports FMD_TEST_SMTPD, the command that runs
# it. The tests fail without it, never skip.
smtpd_python="$(command -v python3 || true)"
if [ -z "$smtpd_python" ]; then
    echo "pre-35-smtp: installing python3"
    declare -F apt_install >/dev/null || source scripts/lib/apt.sh
    apt_install python3 python3-pip
    smtpd_python="$(command -v python3)"
fi
if ! "$smtpd_python" -c "import aiosmtpd" >/dev/null 2>&1; then
    echo "pre-35-smtp: installing aiosmtpd from PyPI"
    "$smtpd_python" -m pip install --quiet --disable-pip-version-check "aiosmtpd==1.4.6" 2>&1 \
        | grep -v "Running pip as the 'root' user" || true
fi
"$smtpd_python" -c "import aiosmtpd" || { echo "pre-35-smtp: aiosmtpd is missing after pip install" >&2; exit 1; }
export FMD_TEST_SMTPD="$smtpd_python -m aiosmtpd"
echo "pre-35-smtp: $($smtpd_python -m aiosmtpd --version 2>&1) ($FMD_TEST_SMTPD)"
