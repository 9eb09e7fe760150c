# Shared by the scripts in this folder: root check, system packages, the Swift toolchain.

die() { echo "mxharness: $*" >&2; exit 2; }

need_root() {
    [ "$(id -u)" -eq 0 ] || die "run as root: mxharness creates network namespaces and binds port 25 inside them (CAP_SYS_ADMIN, CAP_NET_ADMIN). Try: sudo $0 $*"
}

# The Debian/Ubuntu packages mxharness uses: unbound (the world's DNS), libunbound-dev (our
# resolver), iproute2 (namespaces), dnsutils (dig, for `dns serve` and tests), postfix (target and
# smtp-source/smtp-sink for benchmarks), postfix-pcre (pcre: tables of the site configurations in
# Tests/PostfixTests/Sites), util-linux (nsenter, unshare for the Postfix preflight), chromium (the matrix HTML page is
# loaded in a headless browser in a test), python3-jsonschema and python3-yaml (Tests/ComposeTests
# validates docker-compose.yml against the Compose schema), nftables and iptables (its
# HostNetworkStateTests read firewall rules with nft, iptables-save and ip6tables-save), opendkim,
# opendkim-tools and opendmarc (the Postfix target's milters for the dkim, dmarc and spf-or-dkim
# checks; the harness starts them per instance in the case's namespace, never as system services),
# ldnsutils (Tests/DNSSECTests check the harness's DNSSEC signer against ldns-keygen, ldns-key2ds
# and ldns-verify-zone), patchelf and dpkg-dev (scripts/package-deb: the binary's RUNPATH,
# dpkg-shlibdeps for Depends) and debootstrap (scripts/check-deb installs the package in a clean
# Debian root), postfix-policyd-spf-python (the Postfix target's spf and spf-pass checks,
# receiver.engines: policyd-spf), rspamd (receiver.engines: rspamd, a milter of the Postfix target;
# its compiled hyperscan cache is kept in /var/cache/mxharness/rspamd, or $MXHARNESS_RSPAMD_CACHE),
# haproxy (sender.proxy: haproxy), libfaketime
# (sender.dkim.break: expired on the Postfix sender: OpenDKIM's clock a day behind) and
# dkimpy-milter (the Postfix sender's signer for Ed25519 under simple header canonicalization,
# which OpenDKIM 2.11 cannot sign verifiably; it depends on python3-dnspython, so pyspf finds
# dnspython system-wide too); the harness starts these in the case's namespace too, never as
# system services. nftables also sends the sender's connections to a proxy in the case's namespace.
PACKAGES="unbound libunbound-dev iproute2 dnsutils postfix postfix-pcre util-linux ca-certificates python3 python3-yaml chromium python3-jsonschema nftables iptables opendkim opendkim-tools opendmarc ldnsutils patchelf dpkg-dev debootstrap postfix-policyd-spf-python rspamd haproxy libfaketime dkimpy-milter"

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
    # OpenDMARC's package would set up a MySQL database for its reports (dbconfig-common): not wanted.
    echo "opendmarc opendmarc/dbconfig-install boolean false" | debconf-set-selections
    # The packages' maintainer scripts start opendkim, opendmarc, rspamd, haproxy and dkimpy-milter as system
    # daemons unless policy-rc.d(8) says no: while installing, it says no to every service start
    # (where the machine has no policy-rc.d of its own), so nothing runs outside the harness's
    # namespaces.
    local policy_rc=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        policy_rc=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\n# mxharness install_packages: no service starts while installing\nexit 101\n' >"$policy_rc"
        chmod 755 "$policy_rc"
    fi
    apt-get update -qq
    local status=0
    apt-get install -y -qq --no-install-recommends $missing >/dev/null || status=$?
    [ -n "$policy_rc" ] && rm -f "$policy_rc"
    return $status
}

# The README's commands say `mxharness ...`: after a build, /usr/local/bin/mxharness links to this
# clone's debug binary (the one the tests use), so they work as written.
link_binary() {
    local binary="$PWD/.build/debug/mxharness"
    [ -x "$binary" ] || die "no $binary: build it first (swift build --product mxharness)"
    if [ "$(readlink /usr/local/bin/mxharness 2>/dev/null)" != "$binary" ]; then
        ln -sfn "$binary" /usr/local/bin/mxharness
        echo "mxharness: /usr/local/bin/mxharness -> $binary"
    fi
}

find_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        for d in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
            [ -x "$d/swift" ] && PATH="$PATH:$d" && break
        done
    fi
    command -v swift >/dev/null 2>&1 || die "no Swift toolchain on PATH: install Swift 6 from swift.org (it is not a Debian package), then run this again"
}

# Exim and OpenSMTPD conflict with postfix as Debian packages, so they are never installed with
# apt: their .deb files are downloaded and unpacked with `dpkg -x` into a harness-owned folder
# (kept between runs), and the libraries and system users they need are added. The harness finds
# them through MXHARNESS_MTA_DIR (default below): $MXHARNESS_MTA_DIR/exim/usr/sbin/exim4 and
# $MXHARNESS_MTA_DIR/opensmtpd/usr/sbin/smtpd. Usage: unpack_mtas [exim] [opensmtpd] [dnspython]
#
# dnspython is unpacked the same way, for the harness's policyd-spf alone (on its PYTHONPATH):
# apt installs python3-spf with python3-dns (pydns, the first of its alternatives), which turns a
# SERVFAIL or REFUSED into "no SPF record" instead of a temporary error. The unpacked copy keeps
# the harness's policyd-spf on dnspython whatever the machine has (dkimpy-milter, one of the
# packages above, installs python3-dnspython system-wide).
MXHARNESS_MTA_DIR="${MXHARNESS_MTA_DIR:-/var/cache/mxharness/mta}"
export MXHARNESS_MTA_DIR

unpack_mta_debs() {   # unpack_mta_debs NAME PACKAGE...  (MTA_STAMP: what .unpacked must say)
    local name="$1"; shift
    local dest="$MXHARNESS_MTA_DIR/$name" stamp="${MTA_STAMP:-}"
    [ -f "$dest/.unpacked" ] && [ "$(cat "$dest/.unpacked")" = "$stamp" ] && return 0
    local tmp
    tmp=$(mktemp -d)
    if [ -n "${MTA_DOWNLOAD:-}" ]; then
        ( cd "$tmp" && "$MTA_DOWNLOAD" "$@" ) || { rm -rf "$tmp"; echo "mxharness: could not download $*" >&2; return 1; }
    else
        ( cd "$tmp" && apt-get download -qq "$@" >/dev/null 2>&1 ) || {
            apt-get update -qq >/dev/null 2>&1
            ( cd "$tmp" && apt-get download -qq "$@" >/dev/null ) || { rm -rf "$tmp"; echo "mxharness: could not download $*" >&2; return 1; }
        }
    fi
    rm -rf "$dest"; mkdir -p "$dest"
    for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$dest"; done
    rm -rf "$tmp"
    printf '%s' "$stamp" > "$dest/.unpacked"
}

# OpenSMTPD 6.8 (Debian 12's own) fails every STARTTLS handshake with OpenSSL 3 (OpenSMTPD issues
# 1171 and 1239: its privilege-separated key operations never reach the key, "EVP lib"); 7.3 and
# later have the fix (pull request 1208). So OpenSMTPD comes from the release's backports suite,
# built for the same release, read from the machine's own Debian mirror with a private apt state
# (the machine's sources and package lists stay as they are); where the release's own version is
# 7.3 or later, or no backports carry it, from the machine's sources as the other MTAs.
OPENSMTPD_MIN_VERSION=7.3
download_opensmtpd() {   # download_opensmtpd PACKAGE... (in the current folder)
    local own codename uri state
    own=$(apt-cache policy opensmtpd 2>/dev/null | awk '/Candidate:/ {print $2}')
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    uri=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null \
        | awk -v s="$codename" '$2 == s {print $1; exit}')
    if [ -n "$codename" ] && [ -n "$uri" ] \
        && ! { [ -n "$own" ] && [ "$own" != "(none)" ] && dpkg --compare-versions "$own" ge "$OPENSMTPD_MIN_VERSION"; }; then
        state="$MXHARNESS_MTA_DIR/.apt-backports"
        mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
        echo "deb $uri $codename-backports main" > "$state/sources.list"
        set -- -o Dir::Etc::SourceList="$state/sources.list" -o Dir::Etc::SourceParts=/dev/null \
            -o Dir::State::Lists="$state/lists" -o Dir::Cache="$state/cache" "$@"
        if apt-get "${@:1:8}" update -qq >/dev/null 2>&1 \
            && apt-get download -qq "$@" >/dev/null 2>&1 \
            && dpkg-deb -f ./*.deb Version | xargs -I{} dpkg --compare-versions {} ge "$OPENSMTPD_MIN_VERSION"; then
            return 0
        fi
        rm -f ./*.deb
        shift 8
    fi
    apt-get download -qq "$@" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get download -qq "$@" >/dev/null; }
}

unpack_mtas() {
    local what="${*:-exim opensmtpd}"
    export DEBIAN_FRONTEND=noninteractive
    mkdir -p "$MXHARNESS_MTA_DIR"
    # One unpacking at a time (the receiver and sender tests may both ask for Exim): the others
    # wait, then find it unpacked.
    exec 9>"$MXHARNESS_MTA_DIR/.lock"
    flock 9
    for mta in $what; do
        case "$mta" in
        exim)
            dpkg-query -W -f='${Status}' libidn12 2>/dev/null | grep -q "install ok installed" \
                || apt-get install -y -qq --no-install-recommends libidn12 >/dev/null 2>&1 \
                || { apt-get update -qq && apt-get install -y -qq --no-install-recommends libidn12 >/dev/null; }
            getent passwd Debian-exim >/dev/null || useradd --system --no-create-home --home-dir /var/spool/exim4 --shell /usr/sbin/nologin Debian-exim
            unpack_mta_debs exim exim4-daemon-light exim4-base exim4-config || echo "mxharness: Exim is not available here; its cases will be skipped" >&2
            ;;
        opensmtpd)
            getent passwd opensmtpd >/dev/null || useradd --system --no-create-home --home-dir /var/lib/opensmtpd/empty --shell /usr/sbin/nologin opensmtpd
            getent passwd opensmtpq >/dev/null || useradd --system --no-create-home --home-dir /var/lib/opensmtpd/empty --shell /usr/sbin/nologin opensmtpq
            mkdir -p /var/lib/opensmtpd/empty
            MTA_STAMP="opensmtpd>=$OPENSMTPD_MIN_VERSION" MTA_DOWNLOAD=download_opensmtpd \
                unpack_mta_debs opensmtpd opensmtpd || echo "mxharness: OpenSMTPD is not available here; its cases will be skipped" >&2
            # An older one (no backports reached) runs all but the TLS cases; the next call tries again.
            local smtpd_version
            # smtpd -h prints its version and exits 1.
            smtpd_version=$({ "$MXHARNESS_MTA_DIR/opensmtpd/usr/sbin/smtpd" -h 2>&1 || true; } \
                | sed -n 's/^version: OpenSMTPD \([0-9.]*\).*/\1/p')
            if [ -n "$smtpd_version" ] && dpkg --compare-versions "$smtpd_version" lt "$OPENSMTPD_MIN_VERSION"; then
                printf 'opensmtpd %s' "$smtpd_version" > "$MXHARNESS_MTA_DIR/opensmtpd/.unpacked"
                echo "mxharness: OpenSMTPD $smtpd_version unpacked (no $OPENSMTPD_MIN_VERSION or later found): its STARTTLS cases will be skipped" >&2
            fi
            ;;
        dnspython)
            unpack_mta_debs dnspython python3-dnspython || echo "mxharness: dnspython is not available here; policyd-spf resolves with python3-dns" >&2
            ;;
        *) flock -u 9; die "unpack_mtas: unknown MTA $mta" ;;
        esac
    done
    flock -u 9
    exec 9>&-
}
