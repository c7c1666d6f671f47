/* The web hook's name resolution.
 *
 * It is the one step of a delivery with no non-blocking libc interface:
 * getaddrinfo blocks for as long as DNS takes. A host written as an IP
 * address is converted at once (AI_NUMERICHOST never blocks); any other
 * name is resolved by a short-lived child process that writes the addresses
 * into a pipe, which the loop watches like any other fd. The answer is
 * kept for later statuses, and resolved again only after every address
 * failed to connect (at most once a second, hookhttp.c), so a typical run
 * forks once.
 *
 * Resolving at setup instead would be simpler, but a slow hook must
 * never delay the command's start, and a DNS timeout is several seconds.
 * dock has one thread by design (docs/decisions.md), and a DNS client of
 * dock's own would have to reproduce resolv.conf, search domains,
 * /etc/hosts and nsswitch order; the child gets all of that from the libc,
 * for one fork. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "hookstate.h"
#include "sys.h"

/* What the resolver child sends back, in one write: it is smaller than
 * PIPE_BUF, so the parent reads all of it or nothing. */
struct resolver_msg {
	int32_t gai_error;		/* 0, or an EAI_* code */
	int32_t sys_errno;		/* with EAI_SYSTEM */
	uint32_t count;
	struct {
		uint32_t len;
		struct sockaddr_storage ss;
	} addr[HOOK_MAX_ADDRS];
};
_Static_assert(sizeof(struct resolver_msg) <= 4096, "the resolver's answer must be one atomic pipe write");

bool dock_hook_numeric_addresses(void)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;

	if (getaddrinfo(hook.set.url->host, hook.set.url->port, &hints, &res) != 0)
		return false;
	hook.naddrs = 0;
	for (ai = res; ai != NULL && hook.naddrs < HOOK_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(hook.addrs[0]) ||
		    (ai->ai_family != AF_INET && ai->ai_family != AF_INET6))
			continue;
		memcpy(&hook.addrs[hook.naddrs], ai->ai_addr, ai->ai_addrlen);
		hook.addr_lens[hook.naddrs] = ai->ai_addrlen;
		hook.naddrs++;
	}
	freeaddrinfo(res);
	return hook.naddrs > 0;
}

/* Stops a resolver still running. The pidfd makes the kill safe: the
 * child may have died and been reaped meanwhile (dock reaps every child),
 * and its pid may already be someone else's; a pidfd cannot be reused. */
void dock_hook_stop_resolver(void)
{
	if (hook.resolver_w.fd >= 0) {
		dock_loop_del(&hook.resolver_w);
		close(hook.resolver_w.fd);
		hook.resolver_w.fd = -1;
	}
	if (hook.resolver_pidfd >= 0) {
		dock_sys_pidfd_send_signal(hook.resolver_pidfd, SIGKILL);
		close(hook.resolver_pidfd);
		hook.resolver_pidfd = -1;
	}
	/* Without a pidfd (kernels before 5.3) the child is left to finish:
	 * its write then fails on the closed pipe and it exits. */
	hook.resolver_pid = 0;
}

static const char *gai_message(int gai, int sys_errno)
{
	return gai == EAI_SYSTEM ? strerror(sys_errno) : gai_strerror(gai);
}

/* Runs in the helper made by dock_child_fork(): dock's signals stay
 * blocked there, so the tree shutdown's SIGTERM (sent when the command
 * ends) does not end the lookup the final status needs. The lookup ends by
 * itself (the resolver's own timeout), and the shutdown's SIGKILL bounds
 * it. */
static __attribute__((noreturn)) void resolver_child(int wfd)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	static struct resolver_msg msg;

	memset(&msg, 0, sizeof(msg));
	msg.gai_error = getaddrinfo(hook.set.url->host, hook.set.url->port, &hints, &res);
	msg.sys_errno = errno;
	for (ai = res; ai != NULL && msg.count < HOOK_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(msg.addr[0].ss))
			continue;
		msg.addr[msg.count].len = ai->ai_addrlen;
		memcpy(&msg.addr[msg.count].ss, ai->ai_addr, ai->ai_addrlen);
		msg.count++;
	}
	if (write(wfd, &msg, sizeof(msg)) < 0)
		_exit(1);
	_exit(0);
}

/* RESOLVING, "resolved" in hook.c's table: the answer (or the child's
 * end without one) is in. */
static void on_resolver(struct dock_watcher *w, uint32_t events)
{
	static struct resolver_msg msg;
	const char *host = hook.set.url->host;
	ssize_t n;
	unsigned i;

	(void)events;
	n = read(w->fd, &msg, sizeof(msg));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* The child has answered (or died); it is reaped by dock's reaper
	 * like any other child. Its pidfd is closed without a signal. */
	dock_loop_del(&hook.resolver_w);
	close(hook.resolver_w.fd);
	hook.resolver_w.fd = -1;
	if (hook.resolver_pidfd >= 0)
		close(hook.resolver_pidfd);
	hook.resolver_pidfd = -1;
	hook.resolver_pid = 0;

	if (n != (ssize_t)sizeof(msg)) {
		dock_hook_set_error("cannot resolve %s: resolver process ended without an answer", host);
		dock_hook_attempt_failed(true);
		return;
	}
	if (msg.gai_error != 0 || msg.count == 0) {
		dock_hook_set_error("cannot resolve %s: %s", host,
				    msg.gai_error ? gai_message(msg.gai_error, msg.sys_errno) : "no address");
		dock_hook_attempt_failed(true);
		return;
	}
	hook.naddrs = 0;
	for (i = 0; i < msg.count && i < HOOK_MAX_ADDRS; i++) {
		if (msg.addr[i].len > sizeof(hook.addrs[0]))
			continue;
		memcpy(&hook.addrs[hook.naddrs], &msg.addr[i].ss, msg.addr[i].len);
		hook.addr_lens[hook.naddrs] = msg.addr[i].len;
		hook.naddrs++;
	}
	hook.resolved_ms = dock_now_ms();
	dock_debug("web hook: %s resolved to %u address%s", host, hook.naddrs, hook.naddrs == 1 ? "" : "es");
	dock_hook_connect_from(0);
}

void dock_hook_resolve(void)
{
	const char *host = hook.set.url->host;
	pid_t pid;
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		dock_hook_set_error("cannot resolve %s: pipe: %s", host, strerror(errno));
		dock_hook_attempt_failed(true);
		return;
	}
	pid = dock_child_fork(&p[1], 1, &hook.resolver_pidfd);
	if (pid < 0) {
		dock_hook_set_error("cannot resolve %s: fork: %s", host, strerror(errno));
		close(p[0]);
		close(p[1]);
		dock_hook_attempt_failed(true);
		return;
	}
	if (pid == 0)
		resolver_child(p[1]);
	close(p[1]);
	hook.resolver_pid = pid;
	hook.resolver_w.fd = p[0];
	hook.resolver_w.cb = on_resolver;
	if (dock_loop_add(&hook.resolver_w, EPOLLIN) < 0) {
		dock_hook_set_error("cannot resolve %s: epoll: %s", host, strerror(errno));
		dock_hook_attempt_failed(true);	/* dock_hook_stop_resolver kills and closes */
		return;
	}
	dock_debug("web hook: resolving %s (pid %d)", host, (int)pid);
	hook.phase = PH_RESOLVING;
}
