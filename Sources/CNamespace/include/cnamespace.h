#ifndef CNAMESPACE_H
#define CNAMESPACE_H

/// Moves the calling thread into the network namespace open at `fd` (setns(2), CLONE_NEWNET).
/// Returns 0, or -1 with errno set.
int mxh_enter_network_namespace(int fd);

/// A rtnetlink socket (NETLINK_ROUTE) in the calling thread's network namespace; it stays bound to
/// that namespace whichever thread uses it later. Returns the descriptor, or -1 with errno set.
int mxh_netlink_open(void);

/// Adds (`add` non-zero) or removes one address on interface `ifindex` through `fd`, as
/// `ip addr add|del ADDRESS/32|128 dev IF [nodad]` does: a host prefix, scope global, IPv6
/// additions without duplicate address detection. `address` holds 4 (AF_INET) or 16 (AF_INET6)
/// bytes. Returns 0, or the negative errno the kernel answered with.
int mxh_netlink_address(int fd, int add, int family, const unsigned char *address, int ifindex);

/// Brings the loopback link of the calling thread's network namespace up (SIOCSIFFLAGS), without
/// starting a process. Returns 0, or -1 with errno set.
int mxh_loopback_up(void);

#endif
