#!/bin/sh
# A hand-configured Postfix with postscreen in front of smtpd, started by mxharness as a
# `receiver.target: exec` MX:
#
#   start: "sh {config_dir}/start-postfix.sh {work_dir} {addresses}"
#
# mxharness runs this in the case's network namespace and a mount namespace of its own (so the
# bind mount over /etc/postfix below is seen by this Postfix only), with /etc/resolv.conf
# pointing at the case's unbound. The script stays in the foreground (`postfix start-fg`);
# mxharness stops its process group when the case ends.
set -eu
work=$1; shift
etc=$work/etc
mkdir -p "$etc" "$work/queue" "$work/data"
cp -a /etc/postfix/. "$etc/"
chown postfix "$work/data"

interfaces=""
for address in "$@"; do
    case "$address" in *:*) address="[$address]" ;; esac
    interfaces="${interfaces:+$interfaces, }$address"
done
# mxharness checks that the MX is up by connecting from the receiver's own address: trusted
# here (postscreen_access_list = permit_mynetworks), so postscreen hands it on at once.
networks="127.0.0.0/8 $interfaces"

cat > "$etc/main.cf" <<CONF
compatibility_level = 3.6
myhostname = mx.example.test
smtpd_banner = \$myhostname ESMTP
inet_interfaces = $interfaces
inet_protocols = all
queue_directory = $work/queue
data_directory = $work/data
maillog_file = /dev/stdout
mydestination = example.test
local_recipient_maps =
alias_maps =
mynetworks = $networks
local_transport = discard:accepted
default_transport = discard:nothing leaves
relay_transport = discard:nothing leaves
# postscreen: a DNSBL hit of weight 2 rejects at the connection's first command; no
# pregreet test, so that a well-behaved client goes straight through to smtpd.
postscreen_dnsbl_sites = bl.example.test*2
postscreen_dnsbl_threshold = 2
postscreen_dnsbl_action = enforce
postscreen_greet_action = ignore
# smtpd behind it: the client must have forward-confirmed reverse DNS.
smtpd_client_restrictions = reject_unknown_client_hostname
unknown_client_reject_code = 550
CONF

# The stock master.cf without chroot (the queue has no resolv.conf) and with postscreen on
# port 25 handing clean clients to smtpd.
sed -E -e '/^smtp +inet/d' -e 's/^([^ #]+ +[^ ]+ +[^ ]+ +[^ ]+ +)y /\1n /' /etc/postfix/master.cf > "$etc/master.cf"
cat >> "$etc/master.cf" <<CONF
smtp      inet  n       -       n       -       1       postscreen
smtpd     pass  -       -       n       -       -       smtpd
dnsblog   unix  -       -       n       -       0       dnsblog
tlsproxy  unix  -       -       n       -       0       tlsproxy
CONF

mount --bind "$etc" /etc/postfix
exec postfix start-fg
