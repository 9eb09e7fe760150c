#define _GNU_SOURCE
#include <sched.h>
#include "cnamespace.h"

int mxh_enter_network_namespace(int fd) {
    return setns(fd, CLONE_NEWNET);
}
