/* The web hook's delivery machine. One status at a time goes through
 *
 *   resolve -> connect -> [TLS handshake] -> send -> receive -> next
 *
 * every step driven by epoll events and two timers (the retry backoff and
 * the per-status deadline), so the command's start, signal forwarding and
 * reaping never wait for the hook server.
 *
 * Name resolution is the one step with no non-blocking libc interface:
 * getaddrinfo blocks for as long as DNS takes. A host written as an IP
 * address is converted at once (AI_NUMERICHOST never blocks); any other
 * name is resolved by a short-lived child process that writes the addresses
 * into a pipe, which the loop watches like any other fd. The answer is
 * kept for later statuses, and resolved again only after every address
 * failed to connect (at most once a second), so a typical run forks once.
 *
 * Resolving at setup instead would be simpler, but a slow hook must
 * never delay the command's start, and a DNS timeout is several seconds.
 * dock has one thread by design (docs/decisions.md), and a DNS client of dock's own would
 * have to reproduce resolv.conf, search domains, /etc/hosts and nsswitch
 * order; the child gets all of that from the libc, for one fork. */
#include "hook.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "child.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "loop.h"
#include "signals.h"
#include "sys.h"
#include "tls.h"
#include "url.h"

/* The status being delivered and the newest one after it: any status in
 * between is superseded, so dropped (see "the queue" below). */
#define HOOK_QUEUE_MAX		2
#define HOOK_BODY_MAX		8192
#define HOOK_REQUEST_MAX	32768
#define HOOK_RESPONSE_HEAD_MAX	16384
/* A 2xx body is read (politely, so the server sees a clean close) up to
 * this much; past it the connection is simply closed. */
#define HOOK_BODY_SKIP_MAX	(1u << 20)
#define HOOK_MAX_ADDRS		8
/* Bounds the body: a host with hundreds of veth interfaces still sends
 * the first 32 (in the kernel's order, so lo and eth0 come first). */
#define HOOK_MAX_INTERFACES	32
#define HOOK_BACKOFF_FIRST_MS	100
#define HOOK_BACKOFF_MAX_MS	2000
#define HOOK_RERESOLVE_MS	1000

enum phase {
	PH_IDLE,	/* nothing pending, no timer armed */
	PH_KICK,	/* a status is queued; the loop starts it */
	PH_RESOLVING,
	PH_CONNECTING,
	PH_HANDSHAKE,
	PH_SENDING,
	PH_RECEIVING,
	PH_BACKOFF,	/* waiting to retry */
};

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

static struct {
	const struct dock_config *cfg;
	struct dock_url url;
	bool https;
	bool numeric_host;		/* an IP literal: never needs the resolver */
	char redacted[512];		/* the URL as logs may show it */
	char auth[400];			/* "Authorization: Basic ..." from userinfo */
	const char *extra[DOCK_MAX_HOOK_HEADERS + 1];
	size_t n_extra;

	struct dock_status queue[HOOK_QUEUE_MAX];
	unsigned head, count;
	bool draining;			/* dock is exiting: nothing waits past drain_at_ms */
	int64_t drain_at_ms;
	bool capped;			/* the current deadline is drain_at_ms, not the status's own */

	enum phase phase;
	int64_t started_ms;		/* of the current status's delivery */
	int64_t deadline_ms;
	int attempts;
	int64_t backoff_ms;
	char last_error[256];
	struct dock_timer wake;		/* kick or retry */
	struct dock_timer deadline;	/* of the current status */
	struct dock_timer drain;	/* dock is exiting */

	/* addresses of the host, kept between statuses */
	struct sockaddr_storage addrs[HOOK_MAX_ADDRS];
	socklen_t addr_lens[HOOK_MAX_ADDRS];
	unsigned naddrs, addr_index;
	int64_t resolved_ms;

	pid_t resolver_pid;
	int resolver_pidfd;
	struct dock_watcher resolver_w;

	struct dock_watcher conn_w;
	uint32_t conn_events;
	struct dock_tls *tls;

	char req[HOOK_REQUEST_MAX];
	size_t req_len, req_off;
	char resp[HOOK_RESPONSE_HEAD_MAX];
	size_t resp_len;
	struct dock_http_response res;
	bool head_done;
	struct dock_http_body body;
	size_t body_skipped;
} h;	/* zero-initialised: in .bss, not 55 KiB of the binary's file */

static void start_next(void);
static void attempt(void);
static void connect_from(unsigned index);

/* ------------------------------------------------------------------ */
/* the body */

/* One entry per interface name, in getifaddrs order, each with its first
 * IPv4 address and its first IPv6 address, a global one preferred over a
 * link-local one (fe80::/10 says little to a platform off the link). */
size_t dock_hook_interfaces(struct dock_hook_iface *out, size_t max)
{
	struct ifaddrs *list, *a;
	size_t n = 0, i;

	if (getifaddrs(&list) < 0) {
		dock_debug("web hook: getifaddrs: %s", strerror(errno));
		return 0;
	}
	for (a = list; a != NULL; a = a->ifa_next) {
		struct dock_hook_iface *f = NULL;

		if (a->ifa_name == NULL)
			continue;
		for (i = 0; i < n; i++)
			if (strncmp(out[i].name, a->ifa_name, sizeof(out[i].name)) == 0)
				f = &out[i];
		if (f == NULL) {
			if (n == max)
				continue;
			f = &out[n++];
			memset(f, 0, sizeof(*f));
			snprintf(f->name, sizeof(f->name), "%s", a->ifa_name);
		}
		if (a->ifa_addr == NULL)
			continue;
		if (a->ifa_addr->sa_family == AF_INET && f->ipv4[0] == '\0') {
			const struct sockaddr_in *sin = (const void *)a->ifa_addr;

			inet_ntop(AF_INET, &sin->sin_addr, f->ipv4, sizeof(f->ipv4));
		} else if (a->ifa_addr->sa_family == AF_INET6 &&
			   (f->ipv6[0] == '\0' || f->ipv6_link_local)) {
			const struct sockaddr_in6 *sin6 = (const void *)a->ifa_addr;
			bool ll = IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr);

			if (f->ipv6[0] != '\0' && ll)
				continue;
			inet_ntop(AF_INET6, &sin6->sin6_addr, f->ipv6, sizeof(f->ipv6));
			f->ipv6_link_local = ll;
		}
	}
	freeifaddrs(list);
	return n;
}

ssize_t dock_hook_format_body(const struct dock_status *st, const struct dock_hook_iface *ifs, size_t n,
			      char *buf, size_t len)
{
	struct dock_json j;
	size_t i;

	dock_json_init(&j, buf, len);
	dock_json_begin_object(&j);
	dock_json_key(&j, "ps");
	dock_json_begin_object(&j);
	if (dock_lifecycle_json_fields(&j, st) < 0)
		return -1;
	dock_json_key(&j, "net_interfaces");
	dock_json_begin_array(&j);
	for (i = 0; i < n; i++) {
		dock_json_begin_object(&j);
		dock_json_key(&j, "name");
		dock_json_string(&j, ifs[i].name);
		dock_json_key(&j, "ipv4");
		dock_json_string(&j, ifs[i].ipv4[0] ? ifs[i].ipv4 : NULL);
		dock_json_key(&j, "ipv6");
		dock_json_string(&j, ifs[i].ipv6[0] ? ifs[i].ipv6 : NULL);
		dock_json_end_object(&j);
	}
	dock_json_end_array(&j);
	dock_json_end_object(&j);
	dock_json_end_object(&j);
	return dock_json_finish(&j);
}

/* ------------------------------------------------------------------ */
/* helpers */

static const char *current_name(void)
{
	return dock_state_name(h.queue[h.head].state);
}

/* The newest status, which supersedes the current one when there are two. */
static const char *newest_name(void)
{
	return dock_state_name(h.queue[(h.head + h.count - 1) % HOOK_QUEUE_MAX].state);
}

static bool superseded(void)
{
	return h.count > 1;
}

/* "10s", "1.5s", "250ms" */
static const char *fmt_ms(int64_t ms, char *buf, size_t len)
{
	if (ms < 1000)
		snprintf(buf, len, "%lldms", (long long)ms);
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, len, "%lld.%03llds", (long long)(ms / 1000), (long long)(ms % 1000));
	return buf;
}

/* How the current status's time ran out, for its warning: "within 10s"
 * (--web-hook-timeout), or "before dock's exit (--web-hook-exit-timeout
 * 2s)" when the drain deadline came first. */
static const char *ran_out(char *buf, size_t len)
{
	char took[32];

	if (h.capped)
		snprintf(buf, len, "before dock's exit (--web-hook-exit-timeout %s)",
			 fmt_ms((int64_t)h.cfg->web_hook_exit_timeout_ms, took, sizeof(took)));
	else
		snprintf(buf, len, "within %s", fmt_ms((int64_t)h.cfg->web_hook_timeout_ms, took, sizeof(took)));
	return buf;
}

static void set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h.last_error, sizeof(h.last_error), fmt, ap);
	va_end(ap);
}

static void conn_want(uint32_t events)
{
	if (events != h.conn_events && dock_loop_mod(&h.conn_w, events) == 0)
		h.conn_events = events;
}

/* What a TLS call that returned DOCK_IO_WANT_* waits for. */
static void tls_want(int r)
{
	uint32_t ev = dock_tls_events(h.tls);

	if (ev == 0)
		ev = r == DOCK_IO_WANT_READ ? EPOLLIN : EPOLLOUT;
	conn_want(ev);
}

static void close_conn(void)
{
	if (h.tls != NULL) {
		dock_tls_close(h.tls);
		dock_tls_free(h.tls);
		h.tls = NULL;
	}
	if (h.conn_w.fd >= 0) {
		dock_loop_del(&h.conn_w);
		close(h.conn_w.fd);
		h.conn_w.fd = -1;
	}
	h.conn_events = 0;
}

/* Stops a resolver still running. The pidfd makes the kill safe: the
 * child may have died and been reaped meanwhile (dock reaps every child),
 * and its pid may already be someone else's; a pidfd cannot be reused. */
static void stop_resolver(void)
{
	if (h.resolver_w.fd >= 0) {
		dock_loop_del(&h.resolver_w);
		close(h.resolver_w.fd);
		h.resolver_w.fd = -1;
	}
	if (h.resolver_pidfd >= 0) {
		dock_sys_pidfd_send_signal(h.resolver_pidfd, SIGKILL);
		close(h.resolver_pidfd);
		h.resolver_pidfd = -1;
	}
	/* Without a pidfd (kernels before 5.3) the child is left to finish:
	 * its write then fails on the closed pipe and it exits. */
	h.resolver_pid = 0;
}

static void pop(void)
{
	h.head = (h.head + 1) % HOOK_QUEUE_MAX;
	h.count--;
}

/* The current status is done with, delivered or not: on to the next. */
static void next_status(void)
{
	close_conn();
	stop_resolver();
	dock_timer_cancel(&h.wake);
	dock_timer_cancel(&h.deadline);
	pop();
	start_next();
}

/* A failure that another attempt could fix (connection refused, reset,
 * timeout, 5xx, name not resolved yet) is retried after a backoff that
 * doubles from 100 ms up to 2 s, as long as the retry can start before the
 * deadline; the error itself is in h.last_error. */
static void fail_attempt(bool retry)
{
	int64_t now = dock_now_ms();
	char took[32], when[64];

	close_conn();
	stop_resolver();
	if (!retry) {
		dock_warnx("web hook: status '%s' not delivered to %s: %s (not retried)", current_name(),
			   h.redacted, h.last_error);
		next_status();
		return;
	}
	/* A newer status makes this one stale: the newer one goes instead. */
	if (superseded()) {
		dock_warnx("web hook: status '%s' not delivered to %s: %s (superseded by '%s', not retried)",
			   current_name(), h.redacted, h.last_error, newest_name());
		next_status();
		return;
	}
	if (now + h.backoff_ms >= h.deadline_ms) {
		dock_warnx("web hook: status '%s' not delivered to %s %s: %s (%d attempt%s)",
			   current_name(), h.redacted, ran_out(when, sizeof(when)), h.last_error,
			   h.attempts, h.attempts == 1 ? "" : "s");
		next_status();
		return;
	}
	dock_debug("web hook: status '%s': %s; retrying in %s", current_name(), h.last_error,
		   fmt_ms(h.backoff_ms, took, sizeof(took)));
	h.phase = PH_BACKOFF;
	dock_timer_arm(&h.wake, now + h.backoff_ms);
	h.backoff_ms = h.backoff_ms * 2 > HOOK_BACKOFF_MAX_MS ? HOOK_BACKOFF_MAX_MS : h.backoff_ms * 2;
}

/* What the current attempt was doing, for a message when time runs out. */
static const char *phase_doing(void)
{
	switch (h.phase) {
	case PH_RESOLVING: return "name resolution did not finish";
	case PH_CONNECTING: return "connection not established";
	case PH_HANDSHAKE: return "TLS handshake did not finish";
	case PH_SENDING: return "request not accepted by the server";
	case PH_RECEIVING: return "no response";
	case PH_BACKOFF: return "waiting to retry";
	default: return "not started";
	}
}

/* ------------------------------------------------------------------ */
/* the response */

static void report_delivered(void)
{
	dock_debug("web hook: status '%s' delivered to %s: %d %s (%lld ms, %d attempt%s)", current_name(),
		   h.redacted, h.res.status, h.res.reason, (long long)(dock_now_ms() - h.started_ms),
		   h.attempts, h.attempts == 1 ? "" : "s");
}

static void finish_delivery(void)
{
	close_conn();
	report_delivered();
	next_status();
}

/* The status line and headers are in: a 2xx is delivered (its body is
 * still read, see HOOK_BODY_SKIP_MAX), a 5xx is retried, anything else
 * (a 4xx, a redirect, which a hook does not follow) is final. */
static void on_head(void)
{
	int s = h.res.status;

	if (s >= 200 && s < 300) {
		h.head_done = true;
		dock_http_body_init(&h.body, &h.res);
		h.body_skipped = 0;
		return;
	}
	set_error("server answered %d%s%s", s, h.res.reason[0] ? " " : "", h.res.reason);
	fail_attempt(s >= 500);
}

/* Feeds bytes read after the head into the body skipper. Returns true
 * when the delivery is complete. */
static bool skip_body(const char *buf, size_t n)
{
	ssize_t k = dock_http_body_skip(&h.body, buf, n);

	h.body_skipped += n;
	return k < 0 || h.body.done || h.body_skipped > HOOK_BODY_SKIP_MAX;
}

/* Parses what is in h.resp. Returns true while the caller should read
 * on, false once the attempt has ended (either way). */
static bool parse_response(void)
{
	for (;;) {
		ssize_t r = dock_http_parse_response_head(h.resp, h.resp_len, &h.res);

		if (r == DOCK_IO_WANT_READ) {
			if (h.resp_len == sizeof(h.resp)) {
				set_error("response head larger than %zu bytes", sizeof(h.resp));
				fail_attempt(false);
				return false;
			}
			return true;
		}
		if (r < 0) {
			set_error("malformed HTTP response");
			fail_attempt(false);
			return false;
		}
		if (h.res.status >= 100 && h.res.status < 200 && h.res.status != 101) {
			/* An interim response (100 Continue, 103 Early Hints):
			 * the final one follows on the same connection. */
			memmove(h.resp, h.resp + r, h.resp_len - (size_t)r);
			h.resp_len -= (size_t)r;
			continue;
		}
		on_head();
		if (!h.head_done)
			return false;	/* not a 2xx: handled */
		if (skip_body(h.resp + r, h.resp_len - (size_t)r)) {
			finish_delivery();
			return false;
		}
		return true;
	}
}

/* One read: bytes, 0 at EOF, -1 with errno EAGAIN when nothing is there
 * (then conn_want has been set), or -2 on an error (in h.last_error). */
static ssize_t conn_read(char *buf, size_t len)
{
	ssize_t n;

	if (h.tls != NULL) {
		n = dock_tls_read(h.tls, buf, len);
		if (n >= 0)
			return n;
		if (n == DOCK_IO_WANT_READ || n == DOCK_IO_WANT_WRITE) {
			tls_want((int)n);
			errno = EAGAIN;
			return -1;
		}
		set_error("%s", dock_tls_error(h.tls));
		return -2;
	}
	for (;;) {
		n = recv(h.conn_w.fd, buf, len, 0);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			conn_want(EPOLLIN);
			errno = EAGAIN;
			return -1;
		}
		set_error("receive: %s", strerror(errno));
		return -2;
	}
}

static void drive_recv(void)
{
	for (;;) {
		ssize_t n;

		if (!h.head_done)
			n = conn_read(h.resp + h.resp_len, sizeof(h.resp) - h.resp_len);
		else
			n = conn_read(h.resp, sizeof(h.resp));	/* scratch: the head is parsed */
		if (n == -1)
			return;	/* wait for the next event */
		if (n < 0 || n == 0) {
			if (h.head_done) {
				/* The status is known; a body cut short or a
				 * missing close_notify changes nothing. */
				finish_delivery();
				return;
			}
			if (n == 0)
				set_error(h.resp_len ? "connection closed in the middle of the response"
						     : "connection closed without a response");
			fail_attempt(true);
			return;
		}
		if (!h.head_done) {
			h.resp_len += (size_t)n;
			if (!parse_response())
				return;
		} else if (skip_body(h.resp, (size_t)n)) {
			finish_delivery();
			return;
		}
	}
}

/* ------------------------------------------------------------------ */
/* the request */

static void start_receiving(void)
{
	h.phase = PH_RECEIVING;
	h.resp_len = 0;
	h.head_done = false;
	conn_want(EPOLLIN);
	/* With TLS, response bytes may already sit decrypted in the session,
	 * where epoll cannot see them. */
	if (h.tls != NULL)
		drive_recv();
}

static void drive_send(void)
{
	while (h.req_off < h.req_len) {
		ssize_t n;

		if (h.tls != NULL) {
			n = dock_tls_write(h.tls, h.req + h.req_off, h.req_len - h.req_off);
			if (n == DOCK_IO_WANT_READ || n == DOCK_IO_WANT_WRITE) {
				tls_want((int)n);
				return;
			}
			if (n < 0) {
				set_error("%s", dock_tls_error(h.tls));
				fail_attempt(true);
				return;
			}
		} else {
			/* MSG_NOSIGNAL: a server that went away is an error
			 * to retry, not a SIGPIPE. */
			n = send(h.conn_w.fd, h.req + h.req_off, h.req_len - h.req_off, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				conn_want(EPOLLOUT);
				return;
			}
			if (n < 0) {
				set_error("send: %s", strerror(errno));
				fail_attempt(true);
				return;
			}
		}
		h.req_off += (size_t)n;
	}
	if (h.tls != NULL) {
		int r = dock_tls_flush(h.tls);

		if (r == DOCK_IO_WANT_READ || r == DOCK_IO_WANT_WRITE) {
			tls_want(r);
			return;
		}
		if (r < 0) {
			set_error("%s", dock_tls_error(h.tls));
			fail_attempt(true);
			return;
		}
	}
	start_receiving();
}

/* A handshake that failed on the network (reset, closed) may work on the
 * next try; one that failed on the certificate or the protocol will fail
 * the same way, so it is not retried: that would only delay the next
 * status, and dock's exit, by the whole timeout. tls.c words the network
 * failures as below. */
static bool tls_failure_is_transient(const char *msg)
{
	return strncmp(msg, "send:", 5) == 0 || strncmp(msg, "recv:", 5) == 0 ||
	       strncmp(msg, "connection closed", 17) == 0;
}

static void drive_handshake(void)
{
	int r = dock_tls_handshake(h.tls);

	if (r == DOCK_IO_WANT_READ || r == DOCK_IO_WANT_WRITE) {
		tls_want(r);
		return;
	}
	if (r < 0) {
		const char *msg = dock_tls_error(h.tls);

		set_error("TLS: %s", msg);
		fail_attempt(tls_failure_is_transient(msg));
		return;
	}
	h.phase = PH_SENDING;
	drive_send();
}

static void on_connected(void)
{
	if (h.https) {
		char err[256];

		h.tls = dock_tls_new(h.conn_w.fd, h.url.host, h.cfg->tls_insecure, err, sizeof(err));
		if (h.tls == NULL) {
			set_error("TLS: %s", err);
			fail_attempt(false);
			return;
		}
		h.phase = PH_HANDSHAKE;
		drive_handshake();
		return;
	}
	h.phase = PH_SENDING;
	drive_send();
}

static void on_connect_ready(uint32_t events)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(h.conn_w.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0 && !(events & EPOLLOUT))
		return;
	if (err != 0) {
		set_error("connect: %s", strerror(err));
		close_conn();
		/* The next address at once; backoff only after all failed. */
		connect_from(h.addr_index + 1);
		return;
	}
	on_connected();
}

static void on_conn(struct dock_watcher *w, uint32_t events)
{
	(void)w;
	switch (h.phase) {
	case PH_CONNECTING: on_connect_ready(events); break;
	case PH_HANDSHAKE: drive_handshake(); break;
	case PH_SENDING: drive_send(); break;
	case PH_RECEIVING: drive_recv(); break;
	default: break;
	}
}

/* Tries the addresses from index on; a socket that cannot even be created
 * or whose connect fails at once moves on to the next. */
static void connect_from(unsigned index)
{
	for (; index < h.naddrs; index++) {
		const struct sockaddr *sa = (const void *)&h.addrs[index];
		int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			set_error("socket: %s", strerror(errno));
			continue;
		}
		if (connect(fd, sa, h.addr_lens[index]) < 0 && errno != EINPROGRESS) {
			set_error("connect: %s", strerror(errno));
			close(fd);
			continue;
		}
		h.conn_w.fd = fd;
		h.conn_w.cb = on_conn;
		if (dock_loop_add(&h.conn_w, EPOLLOUT) < 0) {
			set_error("epoll: %s", strerror(errno));
			close(fd);
			h.conn_w.fd = -1;
			continue;
		}
		h.conn_events = EPOLLOUT;
		h.addr_index = index;
		h.phase = PH_CONNECTING;
		return;
	}
	/* Every address failed: the name may point elsewhere now (a service
	 * restarted on another address), so a later attempt resolves it
	 * again, though not more than once a second: fast retries against a
	 * server that is merely down reuse the answer. */
	if (!h.numeric_host && dock_now_ms() - h.resolved_ms >= HOOK_RERESOLVE_MS)
		h.naddrs = 0;
	fail_attempt(true);
}

/* ------------------------------------------------------------------ */
/* name resolution */

static void keep_addresses(const struct addrinfo *ai)
{
	h.naddrs = 0;
	for (; ai != NULL && h.naddrs < HOOK_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(h.addrs[0]) ||
		    (ai->ai_family != AF_INET && ai->ai_family != AF_INET6))
			continue;
		memcpy(&h.addrs[h.naddrs], ai->ai_addr, ai->ai_addrlen);
		h.addr_lens[h.naddrs] = ai->ai_addrlen;
		h.naddrs++;
	}
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
	msg.gai_error = getaddrinfo(h.url.host, h.url.port, &hints, &res);
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

static void on_resolver(struct dock_watcher *w, uint32_t events)
{
	static struct resolver_msg msg;
	ssize_t n;
	unsigned i;

	(void)events;
	n = read(w->fd, &msg, sizeof(msg));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* The child has answered (or died); it is reaped by dock's reaper
	 * like any other child. Its pidfd is closed without a signal. */
	dock_loop_del(&h.resolver_w);
	close(h.resolver_w.fd);
	h.resolver_w.fd = -1;
	if (h.resolver_pidfd >= 0)
		close(h.resolver_pidfd);
	h.resolver_pidfd = -1;
	h.resolver_pid = 0;

	if (n != (ssize_t)sizeof(msg)) {
		set_error("cannot resolve %s: resolver process ended without an answer", h.url.host);
		fail_attempt(true);
		return;
	}
	if (msg.gai_error != 0 || msg.count == 0) {
		set_error("cannot resolve %s: %s", h.url.host,
			  msg.gai_error ? gai_message(msg.gai_error, msg.sys_errno) : "no address");
		fail_attempt(true);
		return;
	}
	h.naddrs = 0;
	for (i = 0; i < msg.count && i < HOOK_MAX_ADDRS; i++) {
		if (msg.addr[i].len > sizeof(h.addrs[0]))
			continue;
		memcpy(&h.addrs[h.naddrs], &msg.addr[i].ss, msg.addr[i].len);
		h.addr_lens[h.naddrs] = msg.addr[i].len;
		h.naddrs++;
	}
	h.resolved_ms = dock_now_ms();
	dock_debug("web hook: %s resolved to %u address%s", h.url.host, h.naddrs, h.naddrs == 1 ? "" : "es");
	connect_from(0);
}

static void start_resolver(void)
{
	pid_t pid;
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		set_error("cannot resolve %s: pipe: %s", h.url.host, strerror(errno));
		fail_attempt(true);
		return;
	}
	pid = dock_child_fork(&p[1], 1, &h.resolver_pidfd);
	if (pid < 0) {
		set_error("cannot resolve %s: fork: %s", h.url.host, strerror(errno));
		close(p[0]);
		close(p[1]);
		fail_attempt(true);
		return;
	}
	if (pid == 0)
		resolver_child(p[1]);
	close(p[1]);
	h.resolver_pid = pid;
	h.resolver_w.fd = p[0];
	h.resolver_w.cb = on_resolver;
	if (dock_loop_add(&h.resolver_w, EPOLLIN) < 0) {
		set_error("cannot resolve %s: epoll: %s", h.url.host, strerror(errno));
		fail_attempt(true);	/* stop_resolver kills and closes */
		return;
	}
	dock_debug("web hook: resolving %s (pid %d)", h.url.host, (int)pid);
	h.phase = PH_RESOLVING;
}

/* ------------------------------------------------------------------ */
/* the queue
 *
 * The platform wants the command's state, not every state it went
 * through, so statuses are states, not events:
 *  - the queue holds the status being delivered and the newest one after
 *    it; a newer status replaces one that is still waiting (dropped without
 *    an attempt), so the last status never waits behind stale ones;
 *  - an attempt already out for a superseded status is let finish (cut
 *    off, a request the server has half read could still be applied after
 *    the newer one and undo it), but it is not retried: when it fails, the
 *    newest status goes next; one waiting for its retry is given up at once;
 *  - only the newest status is retried, so the last one always gets its
 *    own delivery, with retries, whatever happened to the earlier ones.
 * At exit (dock_hook_drain_until) nothing waits past the drain deadline,
 * and an attempt still out for a superseded status gets half the time
 * left, so the last status keeps the other half. */

static void attempt(void)
{
	h.attempts++;
	h.req_off = 0;
	dock_debug("web hook: PUT status '%s' to %s (attempt %d)", current_name(), h.redacted, h.attempts);
	if (h.naddrs > 0)
		connect_from(0);
	else
		start_resolver();
}

/* Renders the current status into h.req. Returns 0 or -1. */
static int build_request(void)
{
	static char body[HOOK_BODY_MAX];
	static struct dock_hook_iface ifs[HOOK_MAX_INTERFACES];
	struct dock_http_request r = {
		.method = "PUT",
		.host = h.url.host,
		.target = h.url.path,
		.user_agent = "dock/" DOCK_VERSION,
		.content_type = "application/json",
		.extra = h.extra,
		.n_extra = h.n_extra,
	};
	bool default_port = strcmp(h.url.port, h.https ? "443" : "80") == 0;
	size_t nifs = dock_hook_interfaces(ifs, HOOK_MAX_INTERFACES);
	ssize_t blen, hlen;

	r.port = default_port ? NULL : h.url.port;
	blen = dock_hook_format_body(&h.queue[h.head], ifs, nifs, body, sizeof(body));
	if (blen < 0) {
		set_error("request body larger than %zu bytes", sizeof(body));
		return -1;
	}
	r.content_length = (size_t)blen;
	hlen = dock_http_format_request(h.req, sizeof(h.req), &r);
	if (hlen < 0 || (size_t)hlen + (size_t)blen > sizeof(h.req)) {
		set_error("request larger than %zu bytes (too many or too long --web-hook-header?)",
			  sizeof(h.req));
		return -1;
	}
	memcpy(h.req + hlen, body, (size_t)blen);
	h.req_len = (size_t)hlen + (size_t)blen;
	return 0;
}

/* The current status's deadline: its own --web-hook-timeout, or the drain
 * deadline when dock is exiting and that comes first. */
static void set_deadline(int64_t own)
{
	h.capped = h.draining && h.drain_at_ms <= own;
	h.deadline_ms = h.capped ? h.drain_at_ms : own;
	dock_timer_arm(&h.deadline, h.deadline_ms);
}

static void start_next(void)
{
	while (h.count > 0) {
		h.started_ms = dock_now_ms();
		h.attempts = 0;
		h.backoff_ms = HOOK_BACKOFF_FIRST_MS;
		h.last_error[0] = '\0';
		h.head_done = false;
		if (build_request() < 0) {
			dock_warnx("web hook: status '%s' not delivered to %s: %s", current_name(), h.redacted,
				   h.last_error);
			pop();
			continue;
		}
		set_deadline(h.started_ms + (int64_t)h.cfg->web_hook_timeout_ms);
		attempt();
		return;
	}
	/* Idle: no timer stays armed, so the loop can sleep for good. */
	h.phase = PH_IDLE;
	dock_timer_cancel(&h.wake);
	dock_timer_cancel(&h.deadline);
	dock_timer_cancel(&h.drain);
}

/* Starts the head from the loop's next turn rather than from here: the
 * callers run inside a lifecycle transition (for "starting", before the
 * command is even spawned; for the final status, before the tree is sent
 * SIGTERM), and neither should wait for so much as a socket() call. */
static void kick(void)
{
	h.phase = PH_KICK;
	dock_timer_arm(&h.wake, dock_now_ms());
}

/* Leaves the current status undelivered (why says why, for the one
 * warning) and moves on to the newest. */
static void abandon_current(const char *why)
{
	if (h.head_done) {
		report_delivered();	/* a 2xx came; only its body was still arriving */
	} else {
		dock_warnx("web hook: status '%s' not delivered to %s: %s%s%s (%s)", current_name(), h.redacted,
			   phase_doing(), h.last_error[0] ? "; before that: " : "", h.last_error, why);
	}
	close_conn();
	stop_resolver();
	dock_timer_cancel(&h.wake);
	dock_timer_cancel(&h.deadline);
	pop();
}

static void on_wake(struct dock_timer *t)
{
	(void)t;
	if (h.phase == PH_KICK)
		start_next();
	else if (h.phase == PH_BACKOFF)
		attempt();
}

static void on_deadline(struct dock_timer *t)
{
	char when[64];

	(void)t;
	if (h.head_done) {
		/* A 2xx came; only its body was still arriving. */
		finish_delivery();
		return;
	}
	dock_warnx("web hook: status '%s' not delivered to %s %s: %s%s%s", current_name(), h.redacted,
		   ran_out(when, sizeof(when)), phase_doing(), h.last_error[0] ? "; before that: " : "",
		   h.last_error);
	next_status();
}

/* The drain deadline itself: a safety net, since every deadline set after
 * dock_hook_drain_until is capped by it already. */
static void on_drain(struct dock_timer *t)
{
	(void)t;
	if (h.count == 0)
		return;
	if (h.phase != PH_KICK)
		abandon_current("dock is exiting");
	while (h.count > 0) {
		dock_warnx("web hook: status '%s' not sent to %s: dock is exiting", current_name(), h.redacted);
		pop();
	}
	start_next();	/* finds the queue empty: idle, timers cancelled */
}

static void on_status(const struct dock_status *st, void *ctx)
{
	unsigned tail;

	(void)ctx;
	if (h.count == 0) {
		h.queue[h.head] = *st;
		h.count = 1;
		kick();
		return;
	}
	if (h.phase == PH_KICK) {
		/* Nothing is out yet: the newer status takes the waiting one's place. */
		dock_debug("web hook: status '%s' superseded by '%s' before its delivery", current_name(),
			   dock_state_name(st->state));
		h.queue[h.head] = *st;
		return;
	}
	tail = (h.head + 1) % HOOK_QUEUE_MAX;
	if (h.count == HOOK_QUEUE_MAX)
		dock_debug("web hook: status '%s' superseded by '%s' before its delivery",
			   dock_state_name(h.queue[tail].state), dock_state_name(st->state));
	h.queue[tail] = *st;
	h.count = HOOK_QUEUE_MAX;
	/* A status waiting for its retry is stale now: the newer one goes
	 * instead, from the loop's next turn. An attempt that is out goes on. */
	if (h.phase == PH_BACKOFF) {
		char why[64];

		snprintf(why, sizeof(why), "superseded by '%s', not retried", dock_state_name(st->state));
		abandon_current(why);
		kick();
	}
}

/* ------------------------------------------------------------------ */

bool dock_hook_pending(void)
{
	return h.count > 0;
}

void dock_hook_drain_until(int64_t at_ms)
{
	int64_t now = dock_now_ms(), cap = at_ms;

	h.draining = true;
	h.drain_at_ms = at_ms;
	if (h.count == 0)
		return;
	/* An attempt still out for an older status (a slow or hung server)
	 * gets half of what is left, so the last status always has the other
	 * half for its own attempt; a server that answers needs milliseconds. */
	if (superseded() && at_ms > now)
		cap = now + (at_ms - now) / 2;
	if (h.phase != PH_KICK && h.deadline_ms > cap) {
		h.capped = true;
		h.deadline_ms = cap;
		dock_timer_arm(&h.deadline, cap);
	}
	dock_timer_arm(&h.drain, at_ms);
}

int dock_hook_setup(const struct dock_config *cfg)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char err[256];
	bool has_auth = false;
	size_t i;

	/* "No fd" is -1, set here rather than in an initializer, which would
	 * store the whole struct, buffers included, in the binary. */
	h.resolver_pidfd = -1;
	h.resolver_w.fd = -1;
	h.conn_w.fd = -1;
	if (cfg->web_hook == NULL)
		return 0;
	h.cfg = cfg;
	dock_url_redact(cfg->web_hook, h.redacted, sizeof(h.redacted));
	if (dock_url_parse_http(cfg->web_hook, &h.url, err, sizeof(err)) < 0) {
		dock_warnx("--web-hook '%s': %s", h.redacted, err);
		return -1;
	}
	h.https = strcmp(h.url.scheme, "https") == 0;
	/* Once, here, rather than per connection: the user asked for it, and
	 * one line is enough to leave a trace in the logs. */
	if (h.https && cfg->tls_insecure)
		dock_warnx("--tls-insecure: the web hook's certificate is not verified");

	for (i = 0; i < cfg->n_web_hook_headers; i++) {
		h.extra[h.n_extra++] = cfg->web_hook_headers[i];
		if (strncasecmp(cfg->web_hook_headers[i], "Authorization:", 14) == 0)
			has_auth = true;
	}
	/* Credentials in the URL become Basic authentication, as the
	 * original's Go client sent them; an explicit header wins. */
	if (h.url.userinfo[0] != '\0' && !has_auth) {
		char token[sizeof(h.auth) - 32];

		if (dock_http_basic_credentials(h.url.userinfo, token, sizeof(token)) < 0) {
			dock_warnx("--web-hook '%s': credentials too long", h.redacted);
			return -1;
		}
		snprintf(h.auth, sizeof(h.auth), "Authorization: Basic %s", token);
		explicit_bzero(token, sizeof(token));
		h.extra[h.n_extra++] = h.auth;
	}

	/* An IP literal is converted here, once; a name waits for the loop. */
	if (getaddrinfo(h.url.host, h.url.port, &hints, &res) == 0) {
		keep_addresses(res);
		freeaddrinfo(res);
		h.numeric_host = h.naddrs > 0;
	}

	h.wake.cb = on_wake;
	h.deadline.cb = on_deadline;
	h.drain.cb = on_drain;
	if (dock_lifecycle_subscribe(on_status, NULL) < 0) {
		dock_warnx("--web-hook: too many status reporters");
		return -1;
	}
	dock_debug("web hook: %s (timeout %llu ms)", h.redacted, (unsigned long long)cfg->web_hook_timeout_ms);
	return 0;
}
