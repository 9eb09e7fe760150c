# Shared by the scripts in this folder: root check, system packages, the Swift toolchain.

die() { echo "mxharness: $*" >&2; exit 2; }

need_root() {
    [ "$(id -u)" -eq 0 ] || die "run as root: mxharness creates network namespaces and binds port 25 inside them (CAP_SYS_ADMIN, CAP_NET_ADMIN). Try: sudo $0 $*"
}

# The Debian/Ubuntu packages mxharness uses: unbound (the world's DNS), libunbound-dev (our
# resolver), iproute2 (namespaces), dnsutils (dig, for `dns serve` and tests), postfix (target and
# smtp-source/smtp-sink for benchmarks), util-linux (nsenter), chromium (the matrix HTML page is
# loaded in a headless browser in a test), python3-jsonschema and python3-yaml (Tests/ComposeTests
# validates docker-compose.yml against the Compose schema).
PACKAGES="unbound libunbound-dev iproute2 dnsutils postfix util-linux ca-certificates python3 python3-yaml chromium python3-jsonschema"

install_packages() {
    local missing=""
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    echo "mxharness: installing system packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    # Postfix must not ask questions nor configure a system mail service.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

find_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        for d in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
            [ -x "$d/swift" ] && PATH="$PATH:$d" && break
        done
    fi
    command -v swift >/dev/null 2>&1 || die "no Swift toolchain on PATH: install Swift 6 from swift.org (it is not a Debian package), then run this again"
}
