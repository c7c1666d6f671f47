/* The web hook's queue and retry: which status goes out, when it is tried
 * again, when it is given up. One status at a time goes through
 *
 *   resolve -> connect -> [TLS handshake] -> send -> receive -> next
 *
 * every step driven by epoll events and three timers (wake: the kick and
 * the retry backoff; deadline: the status's --web-hook-timeout; drain:
 * dock's exit), so the command's start, signal forwarding and reaping
 * never wait for the hook server. hookdns.c resolves, hookhttp.c does the
 * rest of the steps; this file decides what comes after each.
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
 * left, so the last status keeps the other half.
 *
 * Phase by event, the whole machine. IN FLIGHT is any of RESOLVING,
 * CONNECTING, HANDSHAKE, SENDING, RECEIVING. NEXT: the current status is
 * done with (popped) and the next queued one starts at once (RESOLVING or
 * CONNECTING), or the phase is IDLE when none is left. Each event has
 * one handler, with one case per row where the event has several.
 *
 *  phase      event (handler)                 -> next phase: what is done
 *  ---------  ------------------------------  ---------------------------------------
 *  IDLE       status queued (on_status)       -> KICK: wake armed for now
 *  KICK       status queued                   -> KICK: it replaces the waiting one
 *  IN FLIGHT  status queued                   -> same: it waits behind the current one
 *                                                (replacing any waiting); the attempt goes on
 *  BACKOFF    status queued                   -> KICK: the current one is given up
 *  KICK       wake (on_wake)                  -> attempt 1: RESOLVING, or CONNECTING with
 *                                                addresses known; IDLE when no status is left
 *                                                whose request can be built
 *  BACKOFF    wake                            -> the next attempt, as above
 *  RESOLVING  resolved (hookdns.c)            -> CONNECTING to the first address; no
 *                                                address: error, retried
 *  CONNECTING connected (hookhttp.c)          -> HANDSHAKE (https) or SENDING
 *  CONNECTING connect failed                  -> CONNECTING to the next address; after the
 *                                                last one: error, retried
 *  HANDSHAKE  handshake done                  -> SENDING
 *  SENDING    request sent                    -> RECEIVING
 *  RECEIVING  head 2xx                        -> RECEIVING the body (head_done), then
 *                                                delivered (dock_hook_delivered) -> NEXT
 *  RECEIVING  head 5xx / any other            -> error, retried / not retried
 *  IN FLIGHT  error (dock_hook_attempt_failed) -> BACKOFF when retried, not superseded, and
 *  (or an                                        the retry starts before the deadline;
 *  attempt                                       else NEXT, with one warning
 *  starting)
 *  IN FLIGHT, deadline (on_deadline)          -> NEXT, with one warning (delivered when a
 *  BACKOFF                                       2xx head came)
 *  any        exit (dock_hook_drain_until)    -> same: the current deadline (none in IDLE,
 *                                                KICK) capped by the drain deadline, or by
 *                                                half what is left when the current status
 *                                                is superseded; every later one by the drain
 *                                                deadline; drain armed unless IDLE
 *  not IDLE   drain (on_drain)                -> IDLE: the current one given up (unless
 *                                                KICK), every queued one dropped, one
 *                                                warning each
 *
 * The deadline is armed from the first attempt to NEXT (never in IDLE or
 * KICK), wake only in KICK and BACKOFF, drain only from the exit on. */
#include "hook.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hookstate.h"

#define HOOK_BACKOFF_FIRST_MS	100
#define HOOK_BACKOFF_MAX_MS	2000

struct hook_state hook;

static void start_next(void);

/* ------------------------------------------------------------------ */
/* helpers */

const char *dock_hook_current_name(void)
{
	return dock_state_name(hook.queue[hook.head].state);
}

/* The newest status, which supersedes the current one when there are two. */
static const char *newest_name(void)
{
	return dock_state_name(hook.queue[(hook.head + hook.count - 1) % HOOK_QUEUE_MAX].state);
}

static bool superseded(void)
{
	return hook.count > 1;
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

	if (hook.capped)
		snprintf(buf, len, "before dock's exit (--web-hook-exit-timeout %s)",
			 fmt_ms((int64_t)hook.set.exit_timeout_ms, took, sizeof(took)));
	else
		snprintf(buf, len, "within %s", fmt_ms((int64_t)hook.set.timeout_ms, took, sizeof(took)));
	return buf;
}

void dock_hook_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(hook.last_error, sizeof(hook.last_error), fmt, ap);
	va_end(ap);
}

/* What the current attempt was doing, for a message when time runs out. */
static const char *phase_doing(void)
{
	switch (hook.phase) {
	case PH_RESOLVING: return "name resolution did not finish";
	case PH_CONNECTING: return "connection not established";
	case PH_HANDSHAKE: return "TLS handshake did not finish";
	case PH_SENDING: return "request not accepted by the server";
	case PH_RECEIVING: return "no response";
	case PH_BACKOFF: return "waiting to retry";
	default: return "not started";
	}
}

static void report_delivered(void)
{
	dock_debug("web hook: status '%s' delivered to %s: %d %s (%lld ms, %d attempt%s)",
		   dock_hook_current_name(), hook.redacted, hook.res.status, hook.res.reason,
		   (long long)(dock_now_ms() - hook.started_ms), hook.attempts, hook.attempts == 1 ? "" : "s");
}

static void pop(void)
{
	hook.head = (hook.head + 1) % HOOK_QUEUE_MAX;
	hook.count--;
}

/* NEXT in the table: the current status is done with, delivered or not. */
static void next_status(void)
{
	dock_hook_close_conn();
	dock_hook_stop_resolver();
	dock_timer_cancel(&hook.wake);
	dock_timer_cancel(&hook.deadline);
	pop();
	start_next();
}

/* Leaves the current status undelivered (why says why, for the one
 * warning) and pops it; the caller says what comes next. */
static void abandon_current(const char *why)
{
	if (hook.head_done) {
		report_delivered();	/* a 2xx came; only its body was still arriving */
	} else {
		dock_warnx("web hook: status '%s' not delivered to %s: %s%s%s (%s)", dock_hook_current_name(),
			   hook.redacted, phase_doing(), hook.last_error[0] ? "; before that: " : "",
			   hook.last_error, why);
	}
	dock_hook_close_conn();
	dock_hook_stop_resolver();
	dock_timer_cancel(&hook.wake);
	dock_timer_cancel(&hook.deadline);
	pop();
}

/* ------------------------------------------------------------------ */
/* starting an attempt */

/* The first step of an attempt: with the addresses known (an IP literal,
 * or a name resolved before) straight to CONNECTING, else RESOLVING. */
static void attempt(void)
{
	hook.attempts++;
	hook.req_off = 0;
	dock_debug("web hook: PUT status '%s' to %s (attempt %d)", dock_hook_current_name(), hook.redacted,
		   hook.attempts);
	if (hook.naddrs > 0)
		dock_hook_connect_from(0);
	else
		dock_hook_resolve();
}

/* The current status's deadline: its own --web-hook-timeout, or the drain
 * deadline when dock is exiting and that comes first. */
static void set_deadline(int64_t own)
{
	hook.capped = hook.draining && hook.drain_at_ms <= own;
	hook.deadline_ms = hook.capped ? hook.drain_at_ms : own;
	dock_timer_arm(&hook.deadline, hook.deadline_ms);
}

/* The head's first attempt, or IDLE when the queue is empty. */
static void start_next(void)
{
	while (hook.count > 0) {
		hook.started_ms = dock_now_ms();
		hook.attempts = 0;
		hook.backoff_ms = HOOK_BACKOFF_FIRST_MS;
		hook.last_error[0] = '\0';
		hook.head_done = false;
		if (dock_hook_build_request() < 0) {
			dock_warnx("web hook: status '%s' not delivered to %s: %s", dock_hook_current_name(),
				   hook.redacted, hook.last_error);
			pop();
			continue;
		}
		set_deadline(hook.started_ms + (int64_t)hook.set.timeout_ms);
		attempt();
		return;
	}
	/* Idle: no timer stays armed, so the loop can sleep for good. */
	hook.phase = PH_IDLE;
	dock_timer_cancel(&hook.wake);
	dock_timer_cancel(&hook.deadline);
	dock_timer_cancel(&hook.drain);
}

/* Starts the head from the loop's next turn rather than from here: the
 * callers run inside a lifecycle transition (for "starting", before the
 * command is even spawned; for the final status, before the tree is sent
 * SIGTERM), and neither should wait for so much as a socket() call. */
static void kick(void)
{
	hook.phase = PH_KICK;
	dock_timer_arm(&hook.wake, dock_now_ms());
}

/* ------------------------------------------------------------------ */
/* the events, one handler each, in the table's order */

/* A newer status while one is out: it waits behind the current one, in
 * place of any status already waiting there. */
static void wait_behind(const struct dock_status *st)
{
	unsigned tail = (hook.head + 1) % HOOK_QUEUE_MAX;

	if (hook.count == HOOK_QUEUE_MAX)
		dock_debug("web hook: status '%s' superseded by '%s' before its delivery",
			   dock_state_name(hook.queue[tail].state), dock_state_name(st->state));
	hook.queue[tail] = *st;
	hook.count = HOOK_QUEUE_MAX;
}

static void on_status(const struct dock_status *st, void *ctx)
{
	char why[64];

	(void)ctx;
	switch (hook.phase) {
	case PH_IDLE:
		hook.queue[hook.head] = *st;
		hook.count = 1;
		kick();
		return;
	case PH_KICK:
		/* Nothing is out yet: the newer status takes the waiting one's place. */
		dock_debug("web hook: status '%s' superseded by '%s' before its delivery",
			   dock_hook_current_name(), dock_state_name(st->state));
		hook.queue[hook.head] = *st;
		return;
	case PH_RESOLVING:
	case PH_CONNECTING:
	case PH_HANDSHAKE:
	case PH_SENDING:
	case PH_RECEIVING:
		wait_behind(st);	/* the attempt that is out goes on */
		return;
	case PH_BACKOFF:
		/* A status waiting for its retry is stale now: the newer one
		 * goes instead, from the loop's next turn. */
		wait_behind(st);
		snprintf(why, sizeof(why), "superseded by '%s', not retried", dock_state_name(st->state));
		abandon_current(why);
		kick();
		return;
	}
}

static void on_wake(struct dock_timer *t)
{
	(void)t;
	switch (hook.phase) {
	case PH_KICK:
		start_next();
		break;
	case PH_BACKOFF:
		attempt();
		break;
	default:	/* wake is armed in these two phases only */
		break;
	}
}

/* A failure that another attempt could fix (connection refused, reset,
 * timeout, 5xx, name not resolved yet) is retried after a backoff that
 * doubles from 100 ms up to 2 s, as long as the retry can start before the
 * deadline. */
void dock_hook_attempt_failed(bool retry)
{
	int64_t now = dock_now_ms();
	char took[32], when[64];

	dock_hook_close_conn();
	dock_hook_stop_resolver();
	if (!retry) {
		dock_warnx("web hook: status '%s' not delivered to %s: %s (not retried)", dock_hook_current_name(),
			   hook.redacted, hook.last_error);
		next_status();
		return;
	}
	/* A newer status makes this one stale: the newer one goes instead. */
	if (superseded()) {
		dock_warnx("web hook: status '%s' not delivered to %s: %s (superseded by '%s', not retried)",
			   dock_hook_current_name(), hook.redacted, hook.last_error, newest_name());
		next_status();
		return;
	}
	if (now + hook.backoff_ms >= hook.deadline_ms) {
		dock_warnx("web hook: status '%s' not delivered to %s %s: %s (%d attempt%s)",
			   dock_hook_current_name(), hook.redacted, ran_out(when, sizeof(when)), hook.last_error,
			   hook.attempts, hook.attempts == 1 ? "" : "s");
		next_status();
		return;
	}
	dock_debug("web hook: status '%s': %s; retrying in %s", dock_hook_current_name(), hook.last_error,
		   fmt_ms(hook.backoff_ms, took, sizeof(took)));
	hook.phase = PH_BACKOFF;
	dock_timer_arm(&hook.wake, now + hook.backoff_ms);
	hook.backoff_ms = hook.backoff_ms * 2 > HOOK_BACKOFF_MAX_MS ? HOOK_BACKOFF_MAX_MS : hook.backoff_ms * 2;
}

void dock_hook_delivered(void)
{
	dock_hook_close_conn();
	report_delivered();
	next_status();
}

static void on_deadline(struct dock_timer *t)
{
	char when[64];

	(void)t;
	if (hook.head_done) {
		/* A 2xx came; only its body was still arriving. */
		dock_hook_delivered();
		return;
	}
	dock_warnx("web hook: status '%s' not delivered to %s %s: %s%s%s", dock_hook_current_name(),
		   hook.redacted, ran_out(when, sizeof(when)), phase_doing(),
		   hook.last_error[0] ? "; before that: " : "", hook.last_error);
	next_status();
}

void dock_hook_drain_until(int64_t at_ms)
{
	int64_t now = dock_now_ms(), cap = at_ms;

	hook.draining = true;
	hook.drain_at_ms = at_ms;
	if (hook.count == 0)
		return;
	/* An attempt still out for an older status (a slow or hung server)
	 * gets half of what is left, so the last status always has the other
	 * half for its own attempt; a server that answers needs milliseconds. */
	if (superseded() && at_ms > now)
		cap = now + (at_ms - now) / 2;
	if (hook.phase != PH_KICK && hook.deadline_ms > cap) {
		hook.capped = true;
		hook.deadline_ms = cap;
		dock_timer_arm(&hook.deadline, cap);
	}
	dock_timer_arm(&hook.drain, at_ms);
}

/* The drain deadline itself: a safety net, since every deadline set after
 * dock_hook_drain_until is capped by it already. */
static void on_drain(struct dock_timer *t)
{
	(void)t;
	if (hook.count == 0)
		return;
	if (hook.phase != PH_KICK)
		abandon_current("dock is exiting");
	while (hook.count > 0) {
		dock_warnx("web hook: status '%s' not sent to %s: dock is exiting", dock_hook_current_name(),
			   hook.redacted);
		pop();
	}
	start_next();	/* finds the queue empty: idle, timers cancelled */
}

/* ------------------------------------------------------------------ */

bool dock_hook_pending(void)
{
	return hook.count > 0;
}

int dock_hook_setup(const struct dock_hook_settings *s)
{
	bool has_auth = false;
	size_t i;

	/* "No fd" is -1, set here rather than in an initializer, which would
	 * store the whole struct, buffers included, in the binary. */
	hook.resolver_pidfd = -1;
	hook.resolver_w.fd = -1;
	hook.conn_w.fd = -1;
	if (s == NULL || s->url == NULL)
		return 0;
	hook.set = *s;
	dock_url_redact(s->url_text, hook.redacted, sizeof(hook.redacted));
	hook.https = strcmp(s->url->scheme, "https") == 0;
	/* Once, here, rather than per connection: the user asked for it, and
	 * one line is enough to leave a trace in the logs. */
	if (hook.https && s->tls_insecure)
		dock_warnx("--tls-insecure: the web hook's certificate is not verified");

	for (i = 0; i < s->n_headers && hook.n_extra < DOCK_MAX_HOOK_HEADERS; i++) {
		hook.extra[hook.n_extra++] = s->headers[i];
		if (strncasecmp(s->headers[i], "Authorization:", 14) == 0)
			has_auth = true;
	}
	/* Credentials in the URL become Basic authentication, as the Go
	 * client of the dock this one replaces sent them (docs/decisions.md);
	 * an explicit header wins. */
	if (s->url->userinfo[0] != '\0' && !has_auth) {
		char token[sizeof(hook.auth) - 32];

		/* The token always fits: the parsed userinfo is bounded, and its
		 * base64, with the ':' an empty password adds, is at most this. */
		_Static_assert(sizeof(token) >= (sizeof(s->url->userinfo) + 2) / 3 * 4 + 1,
			       "the Authorization token must fit any userinfo the URL parser accepts");
		(void)dock_http_basic_credentials(s->url->userinfo, token, sizeof(token));
		snprintf(hook.auth, sizeof(hook.auth), "Authorization: Basic %s", token);
		explicit_bzero(token, sizeof(token));
		hook.extra[hook.n_extra++] = hook.auth;
	}

	/* An IP literal is converted here, once; a name waits for the loop. */
	hook.numeric_host = dock_hook_numeric_addresses();

	hook.wake.cb = on_wake;
	hook.deadline.cb = on_deadline;
	hook.drain.cb = on_drain;
	if (dock_lifecycle_subscribe(on_status, NULL) < 0) {
		dock_warnx("--web-hook: too many status reporters");
		return -1;
	}
	dock_debug("web hook: %s (timeout %llu ms)", hook.redacted, (unsigned long long)s->timeout_ms);
	return 0;
}
