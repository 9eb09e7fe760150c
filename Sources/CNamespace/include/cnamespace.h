#ifndef CNAMESPACE_H
#define CNAMESPACE_H

/// Moves the calling thread into the network namespace open at `fd` (setns(2), CLONE_NEWNET).
/// Returns 0, or -1 with errno set.
int mxh_enter_network_namespace(int fd);

/// Brings the loopback link of the calling thread's network namespace up (SIOCSIFFLAGS), without
/// starting a process. Returns 0, or -1 with errno set.
int mxh_loopback_up(void);

#endif
