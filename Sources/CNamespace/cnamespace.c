#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "cnamespace.h"

int mxh_enter_network_namespace(int fd) {
    return setns(fd, CLONE_NEWNET);
}

int mxh_netlink_open(void) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return -1;
    struct sockaddr_nl local;
    memset(&local, 0, sizeof(local));
    local.nl_family = AF_NETLINK;
    if (bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static void add_attribute(struct nlmsghdr *message, unsigned short type, const void *data, int length) {
    struct rtattr *attribute = (struct rtattr *)((char *)message + NLMSG_ALIGN(message->nlmsg_len));
    attribute->rta_type = type;
    attribute->rta_len = RTA_LENGTH(length);
    memcpy(RTA_DATA(attribute), data, length);
    message->nlmsg_len = NLMSG_ALIGN(message->nlmsg_len) + RTA_ALIGN(attribute->rta_len);
}

int mxh_netlink_address(int fd, int add, int family, const unsigned char *address, int ifindex) {
    static unsigned int sequence = 0;
    int length = family == AF_INET ? 4 : 16;
    union {
        struct nlmsghdr header;
        char bytes[NLMSG_SPACE(sizeof(struct ifaddrmsg)) + 3 * RTA_SPACE(16)];
    } request;
    memset(&request, 0, sizeof(request));
    struct nlmsghdr *message = &request.header;
    message->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
    message->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
    message->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
    message->nlmsg_seq = __atomic_add_fetch(&sequence, 1, __ATOMIC_RELAXED);
    struct ifaddrmsg *body = (struct ifaddrmsg *)NLMSG_DATA(message);
    body->ifa_family = (unsigned char)family;
    body->ifa_prefixlen = (unsigned char)(length * 8);
    body->ifa_flags = (family == AF_INET6 && add) ? IFA_F_NODAD : 0;
    body->ifa_scope = RT_SCOPE_UNIVERSE;
    body->ifa_index = (unsigned int)ifindex;
    add_attribute(message, IFA_LOCAL, address, length);
    add_attribute(message, IFA_ADDRESS, address, length);
    if (family == AF_INET6 && add) {
        unsigned int flags = IFA_F_NODAD;
        add_attribute(message, IFA_FLAGS, &flags, sizeof(flags));
    }
    struct sockaddr_nl kernel;
    memset(&kernel, 0, sizeof(kernel));
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd, message, message->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) return -errno;
    char answer[8192];
    for (;;) {
        ssize_t received = recv(fd, answer, sizeof(answer), 0);
        if (received < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        for (struct nlmsghdr *reply = (struct nlmsghdr *)answer; NLMSG_OK(reply, (unsigned int)received);
             reply = NLMSG_NEXT(reply, received)) {
            if (reply->nlmsg_seq != message->nlmsg_seq) continue;
            if (reply->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *error = (struct nlmsgerr *)NLMSG_DATA(reply);
                return error->error;
            }
        }
    }
}

int mxh_loopback_up(void) {
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return -1;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    int result = ioctl(sock, SIOCGIFFLAGS, &request);
    if (result == 0 && !(request.ifr_flags & IFF_UP)) {
        request.ifr_flags |= IFF_UP;
        result = ioctl(sock, SIOCSIFFLAGS, &request);
    }
    close(sock);
    return result;
}
