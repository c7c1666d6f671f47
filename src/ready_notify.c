/* --notify: the sd_notify socket dock names in NOTIFY_SOCKET, read in the
 * loop; a READY=1 from an allowed sender opens the gate. */
#include "ready_notify.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lifecycle.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "tree.h"

/* Datagrams read from the notify socket per wake-up, so a flood cannot hold
 * the loop; epoll is level-triggered and wakes dock again for the rest. */
#define NOTIFY_BURST		64

static struct {
	int gate;
	bool creds;			/* SO_PASSCRED is on: senders are known */
	bool warned_sender;
	struct dock_watcher w;
} ready_notify = { .gate = -1 };

/* Who may say READY=1. The abstract address is open to every process of the
 * network namespace, so the sender's credentials decide: dock's own user or
 * root, or else a process of dock's tree (a command that dropped its
 * privileges). */
static bool sender_allowed(const struct ucred *uc, bool known)
{
	if (!ready_notify.creds)
		return true;
	if (!known)
		return false;
	if (uc->uid == 0 || uc->uid == geteuid())
		return true;
	return dock_tree_contains(uc->pid) == 1;
}

static void close_passed_fds(struct msghdr *mh)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int), k;
			int fd;

			for (k = 0; k < n; k++) {
				memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
				close(fd);
			}
		}
	}
}

static bool credentials(struct msghdr *mh, struct ucred *uc)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(*uc))) {
			memcpy(uc, CMSG_DATA(c), sizeof(*uc));
			return true;
		}
	}
	return false;
}

static void on_notify(struct dock_watcher *w, uint32_t events)
{
	char buf[DOCK_NOTIFY_MAX], shown[160];
	/* Room for the credentials only: fds a sender passes (sd_notify's
	 * FDSTORE=1) do not fit and the kernel closes them, which is right,
	 * as dock keeps no fd store. */
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	int i;

	(void)events;
	for (i = 0; i < NOTIFY_BURST; i++) {
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
		};
		struct ucred uc = { 0, (uid_t)-1, (gid_t)-1 };
		bool known, ready;
		ssize_t n;

		n = recvmsg(w->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				dock_warn("--notify: recvmsg");
			return;
		}
		close_passed_fds(&mh);
		known = credentials(&mh, &uc);
		if ((size_t)n > sizeof(buf)) {
			dock_warnx("--notify: %zd-byte message from pid %d ignored (over %d bytes)",
				   n, (int)uc.pid, DOCK_NOTIFY_MAX);
			continue;
		}
		ready = dock_notify_ready(buf, (size_t)n);
		dock_notify_printable(shown, sizeof(shown), buf, (size_t)n);
		dock_debug("notify: from pid %d: %s", (int)uc.pid, shown);
		if (!ready || ready_notify.gate < 0)
			continue;
		if (!sender_allowed(&uc, known)) {
			if (!ready_notify.warned_sender)
				dock_warnx("--notify: READY=1 from pid %d (uid %d), not of dock's "
					   "tree, ignored", (int)uc.pid, (int)uc.uid);
			ready_notify.warned_sender = true;
			continue;
		}
		/* The socket stays open and read after READY=1: a command that
		 * goes on sending STATUS= or WATCHDOG= must not get errors, and
		 * an idle socket costs no wake-up. */
		dock_lifecycle_open_gate(ready_notify.gate);
	}
}

/* Binds the notify socket and publishes its address in NOTIFY_SOCKET.
 *
 * The address is abstract and kernel-chosen (autobind): nothing is created
 * on a filesystem, so it works with a read-only root or an image without
 * /run or /tmp, leaves no stale file after a SIGKILL, and two docks sharing
 * a network namespace cannot collide. sd_notify implementations (libsystemd,
 * systemd-notify, the Go and Python ones) take "@name" as an abstract
 * address. The cost: the command must stay in dock's network namespace. */
static int notify_open(void)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	size_t namelen, base = offsetof(struct sockaddr_un, sun_path);
	char value[sizeof(sa.sun_path) + 1];
	int fd, one = 1;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		dock_warn("--notify: socket");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	/* An address of the family alone asks the kernel for a unique
	 * abstract name. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa_family_t)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		dock_warn("--notify: bind");
		close(fd);
		return -1;
	}
	namelen = len > base + 1 ? len - base - 1 : 0;
	if (namelen == 0 || namelen >= sizeof(value) - 1 || sa.sun_path[0] != '\0' ||
	    memchr(sa.sun_path + 1, '\0', namelen) != NULL) {
		dock_warnx("--notify: the kernel gave the socket an unusable address");
		close(fd);
		return -1;
	}
	value[0] = '@';
	memcpy(value + 1, sa.sun_path + 1, namelen);
	value[namelen + 1] = '\0';
	ready_notify.creds = setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == 0;
	if (!ready_notify.creds)
		dock_warn("--notify: SO_PASSCRED; any sender's READY=1 will count");
	ready_notify.w.fd = fd;
	ready_notify.w.cb = on_notify;
	if (dock_loop_add(&ready_notify.w, EPOLLIN) < 0) {
		dock_warn("--notify: epoll");
		close(fd);
		return -1;
	}
	if (setenv("NOTIFY_SOCKET", value, 1) < 0) {
		dock_warn("--notify: setenv");
		dock_loop_del(&ready_notify.w);
		close(fd);
		return -1;
	}
	dock_debug("notify: NOTIFY_SOCKET=%s", value);
	return 0;
}

int dock_ready_notify_setup(void)
{
	if (notify_open() < 0)
		return -1;
	ready_notify.gate = dock_lifecycle_add_gate("notify (READY=1)");
	if (ready_notify.gate < 0) {
		dock_warnx("--notify: too many readiness conditions");
		return -1;
	}
	return 0;
}
