/* The web hook's exchange: connect, TLS, request, response. Each step
 * runs from the connection's epoll events and ends in one of the events of
 * hook.c's table (connected, handshake done, request sent, a response head,
 * an error), which decides what comes next. */
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hookbody.h"
#include "hookstate.h"
#include "tls.h"

#define HOOK_BODY_MAX		8192
/* A 2xx body is read (politely, so the server sees a clean close) up to
 * this much; past it the connection is simply closed. */
#define HOOK_BODY_SKIP_MAX	(1u << 20)
/* Bounds the body: a host with hundreds of veth interfaces still sends
 * the first 32 (in the kernel's order, so lo and eth0 come first). */
#define HOOK_MAX_INTERFACES	32
#define HOOK_RERESOLVE_MS	1000

/* ------------------------------------------------------------------ */
/* the request */

/* The interfaces for the body, from getifaddrs, at most max (0 when they
 * cannot be read: the body then lists none). */
static size_t interfaces(struct dock_hook_iface *out, size_t max)
{
	struct ifaddrs *list, *a;
	size_t n = 0;

	if (getifaddrs(&list) < 0) {
		dock_debug("web hook: getifaddrs: %s", strerror(errno));
		return 0;
	}
	for (a = list; a != NULL; a = a->ifa_next)
		dock_hook_iface_add(out, &n, max, a->ifa_name, a->ifa_addr);
	freeifaddrs(list);
	return n;
}

int dock_hook_build_request(void)
{
	static char body[HOOK_BODY_MAX];
	static struct dock_hook_iface ifs[HOOK_MAX_INTERFACES];
	struct dock_http_request r = {
		.method = "PUT",
		.host = hook.set.url->host,
		.target = hook.set.url->path,
		.user_agent = "dock/" DOCK_VERSION,
		.content_type = "application/json",
		.extra = hook.extra,
		.n_extra = hook.n_extra,
	};
	bool default_port = strcmp(hook.set.url->port, hook.https ? "443" : "80") == 0;
	size_t nifs = interfaces(ifs, HOOK_MAX_INTERFACES);
	ssize_t blen, hlen;

	r.port = default_port ? NULL : hook.set.url->port;
	blen = dock_hook_format_body(&hook.queue[hook.head], ifs, nifs, body, sizeof(body));
	if (blen < 0) {
		dock_hook_set_error("request body larger than %zu bytes", sizeof(body));
		return -1;
	}
	r.content_length = (size_t)blen;
	hlen = dock_http_format_request(hook.req, sizeof(hook.req), &r);
	if (hlen < 0 || (size_t)hlen + (size_t)blen > sizeof(hook.req)) {
		dock_hook_set_error("request larger than %zu bytes (too many or too long --web-hook-header?)",
				    sizeof(hook.req));
		return -1;
	}
	memcpy(hook.req + hlen, body, (size_t)blen);
	hook.req_len = (size_t)hlen + (size_t)blen;
	return 0;
}

/* ------------------------------------------------------------------ */
/* the connection */

static void conn_want(uint32_t events)
{
	if (events != hook.conn_events && dock_loop_mod(&hook.conn_w, events) == 0)
		hook.conn_events = events;
}

/* What a TLS call that returned DOCK_IO_WANT_* waits for. */
static void tls_want(int r)
{
	uint32_t ev = dock_tls_events(hook.tls);

	if (ev == 0)
		ev = r == DOCK_IO_WANT_READ ? EPOLLIN : EPOLLOUT;
	conn_want(ev);
}

void dock_hook_close_conn(void)
{
	if (hook.tls != NULL) {
		dock_tls_close(hook.tls);
		dock_tls_free(hook.tls);
		hook.tls = NULL;
	}
	if (hook.conn_w.fd >= 0) {
		dock_loop_del(&hook.conn_w);
		close(hook.conn_w.fd);
		hook.conn_w.fd = -1;
	}
	hook.conn_events = 0;
}

/* ------------------------------------------------------------------ */
/* the response */

/* The status line and headers are in: a 2xx is delivered (its body is
 * still read, see HOOK_BODY_SKIP_MAX), a 5xx is retried, anything else
 * (a 4xx, a redirect, which a hook does not follow) is final. */
static void on_head(void)
{
	int s = hook.res.status;

	if (s >= 200 && s < 300) {
		hook.head_done = true;
		dock_http_body_init(&hook.body, &hook.res);
		hook.body_skipped = 0;
		return;
	}
	dock_hook_set_error("server answered %d%s%s", s, hook.res.reason[0] ? " " : "", hook.res.reason);
	dock_hook_attempt_failed(s >= 500);
}

/* Feeds bytes read after the head into the body skipper. Returns true
 * when the delivery is complete. */
static bool skip_body(const char *buf, size_t n)
{
	ssize_t k = dock_http_body_skip(&hook.body, buf, n);

	hook.body_skipped += n;
	return k < 0 || hook.body.done || hook.body_skipped > HOOK_BODY_SKIP_MAX;
}

/* Parses what is in hook.resp. Returns true while the caller should read
 * on, false once the attempt has ended (either way). */
static bool parse_response(void)
{
	for (;;) {
		ssize_t r = dock_http_parse_response_head(hook.resp, hook.resp_len, &hook.res);

		if (r == DOCK_IO_WANT_READ) {
			if (hook.resp_len == sizeof(hook.resp)) {
				dock_hook_set_error("response head larger than %zu bytes", sizeof(hook.resp));
				dock_hook_attempt_failed(false);
				return false;
			}
			return true;
		}
		if (r < 0) {
			dock_hook_set_error("malformed HTTP response");
			dock_hook_attempt_failed(false);
			return false;
		}
		if (hook.res.status >= 100 && hook.res.status < 200 && hook.res.status != 101) {
			/* An interim response (100 Continue, 103 Early Hints):
			 * the final one follows on the same connection. */
			memmove(hook.resp, hook.resp + r, hook.resp_len - (size_t)r);
			hook.resp_len -= (size_t)r;
			continue;
		}
		on_head();
		if (!hook.head_done)
			return false;	/* not a 2xx: handled */
		if (skip_body(hook.resp + r, hook.resp_len - (size_t)r)) {
			dock_hook_delivered();
			return false;
		}
		return true;
	}
}

/* One read: bytes, 0 at EOF, -1 with errno EAGAIN when nothing is there
 * (then conn_want has been set), or -2 on an error (in hook.last_error). */
static ssize_t conn_read(char *buf, size_t len)
{
	ssize_t n;

	if (hook.tls != NULL) {
		n = dock_tls_read(hook.tls, buf, len);
		if (n >= 0)
			return n;
		if (n == DOCK_IO_WANT_READ || n == DOCK_IO_WANT_WRITE) {
			tls_want((int)n);
			errno = EAGAIN;
			return -1;
		}
		dock_hook_set_error("%s", dock_tls_error(hook.tls));
		return -2;
	}
	for (;;) {
		n = recv(hook.conn_w.fd, buf, len, 0);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			conn_want(EPOLLIN);
			errno = EAGAIN;
			return -1;
		}
		dock_hook_set_error("receive: %s", strerror(errno));
		return -2;
	}
}

static void drive_recv(void)
{
	for (;;) {
		ssize_t n;

		if (!hook.head_done)
			n = conn_read(hook.resp + hook.resp_len, sizeof(hook.resp) - hook.resp_len);
		else
			n = conn_read(hook.resp, sizeof(hook.resp));	/* scratch: the head is parsed */
		if (n == -1)
			return;	/* wait for the next event */
		if (n < 0 || n == 0) {
			if (hook.head_done) {
				/* The status is known; a body cut short or a
				 * missing close_notify changes nothing. */
				dock_hook_delivered();
				return;
			}
			if (n == 0)
				dock_hook_set_error(hook.resp_len ? "connection closed in the middle of the response"
							      : "connection closed without a response");
			dock_hook_attempt_failed(true);
			return;
		}
		if (!hook.head_done) {
			hook.resp_len += (size_t)n;
			if (!parse_response())
				return;
		} else if (skip_body(hook.resp, (size_t)n)) {
			dock_hook_delivered();
			return;
		}
	}
}

/* ------------------------------------------------------------------ */
/* sending, and the steps before it */

static void start_receiving(void)
{
	hook.phase = PH_RECEIVING;
	hook.resp_len = 0;
	hook.head_done = false;
	conn_want(EPOLLIN);
	/* With TLS, response bytes may already sit decrypted in the session,
	 * where epoll cannot see them. */
	if (hook.tls != NULL)
		drive_recv();
}

static void drive_send(void)
{
	while (hook.req_off < hook.req_len) {
		ssize_t n;

		if (hook.tls != NULL) {
			n = dock_tls_write(hook.tls, hook.req + hook.req_off, hook.req_len - hook.req_off);
			if (n == DOCK_IO_WANT_READ || n == DOCK_IO_WANT_WRITE) {
				tls_want((int)n);
				return;
			}
			if (n < 0) {
				dock_hook_set_error("%s", dock_tls_error(hook.tls));
				dock_hook_attempt_failed(true);
				return;
			}
		} else {
			/* MSG_NOSIGNAL: a server that went away is an error
			 * to retry, not a SIGPIPE. */
			n = send(hook.conn_w.fd, hook.req + hook.req_off, hook.req_len - hook.req_off, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				conn_want(EPOLLOUT);
				return;
			}
			if (n < 0) {
				dock_hook_set_error("send: %s", strerror(errno));
				dock_hook_attempt_failed(true);
				return;
			}
		}
		hook.req_off += (size_t)n;
	}
	if (hook.tls != NULL) {
		int r = dock_tls_flush(hook.tls);

		if (r == DOCK_IO_WANT_READ || r == DOCK_IO_WANT_WRITE) {
			tls_want(r);
			return;
		}
		if (r < 0) {
			dock_hook_set_error("%s", dock_tls_error(hook.tls));
			dock_hook_attempt_failed(true);
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
	int r = dock_tls_handshake(hook.tls);

	if (r == DOCK_IO_WANT_READ || r == DOCK_IO_WANT_WRITE) {
		tls_want(r);
		return;
	}
	if (r < 0) {
		const char *msg = dock_tls_error(hook.tls);

		dock_hook_set_error("TLS: %s", msg);
		dock_hook_attempt_failed(tls_failure_is_transient(msg));
		return;
	}
	hook.phase = PH_SENDING;
	drive_send();
}

static void on_connected(void)
{
	if (hook.https) {
		char err[DOCK_ERR_MAX];

		hook.tls = dock_tls_new(hook.conn_w.fd, hook.set.url->host, hook.set.tls_insecure, err, sizeof(err));
		if (hook.tls == NULL) {
			dock_hook_set_error("TLS: %s", err);
			dock_hook_attempt_failed(false);
			return;
		}
		hook.phase = PH_HANDSHAKE;
		drive_handshake();
		return;
	}
	hook.phase = PH_SENDING;
	drive_send();
}

static void on_connect_ready(uint32_t events)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(hook.conn_w.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0 && !(events & EPOLLOUT))
		return;
	if (err != 0) {
		dock_hook_set_error("connect: %s", strerror(err));
		dock_hook_close_conn();
		/* The next address at once; backoff only after all failed. */
		dock_hook_connect_from(hook.addr_index + 1);
		return;
	}
	on_connected();
}

static void on_conn(struct dock_watcher *w, uint32_t events)
{
	(void)w;
	switch (hook.phase) {
	case PH_CONNECTING: on_connect_ready(events); break;
	case PH_HANDSHAKE: drive_handshake(); break;
	case PH_SENDING: drive_send(); break;
	case PH_RECEIVING: drive_recv(); break;
	default: break;
	}
}

/* Tries the addresses from index on; a socket that cannot even be created
 * or whose connect fails at once moves on to the next. */
void dock_hook_connect_from(unsigned index)
{
	for (; index < hook.naddrs; index++) {
		const struct sockaddr *sa = (const void *)&hook.addrs[index];
		int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			dock_hook_set_error("socket: %s", strerror(errno));
			continue;
		}
		if (connect(fd, sa, hook.addr_lens[index]) < 0 && errno != EINPROGRESS) {
			dock_hook_set_error("connect: %s", strerror(errno));
			close(fd);
			continue;
		}
		hook.conn_w.fd = fd;
		hook.conn_w.cb = on_conn;
		if (dock_loop_add(&hook.conn_w, EPOLLOUT) < 0) {
			dock_hook_set_error("epoll: %s", strerror(errno));
			close(fd);
			hook.conn_w.fd = -1;
			continue;
		}
		hook.conn_events = EPOLLOUT;
		hook.addr_index = index;
		hook.phase = PH_CONNECTING;
		return;
	}
	/* Every address failed: the name may point elsewhere now (a service
	 * restarted on another address), so a later attempt resolves it
	 * again, though not more than once a second: fast retries against a
	 * server that is merely down reuse the answer. */
	if (!hook.numeric_host && dock_now_ms() - hook.resolved_ms >= HOOK_RERESOLVE_MS)
		hook.naddrs = 0;
	dock_hook_attempt_failed(true);
}
