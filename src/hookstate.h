/* The web hook's state, shared by its files (hook.c: the queue and retry,
 * hookdns.c: the resolver, hookhttp.c: the exchange) and by nothing else.
 * The phases and which event moves to which are in the table at the top of
 * hook.c. */
#ifndef DOCK_HOOKSTATE_H
#define DOCK_HOOKSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "hook.h"
#include "http.h"
#include "lifecycle.h"
#include "log.h"
#include "loop.h"
#include "options.h"
#include "url.h"

struct dock_tls;

/* One size for the error messages dock's modules build. */
#ifndef DOCK_ERR_MAX
#define DOCK_ERR_MAX 256
#endif

/* The status being delivered and the newest one after it: any status in
 * between is superseded, so dropped (see the table in hook.c). */
#define HOOK_QUEUE_MAX		2
#define HOOK_REQUEST_MAX	32768
#define HOOK_RESPONSE_HEAD_MAX	16384
#define HOOK_MAX_ADDRS		8

enum hook_phase {
	PH_IDLE,	/* nothing pending, no timer armed */
	PH_KICK,	/* a status is queued; the loop starts it on its next turn */
	PH_RESOLVING,	/* the resolver child is looking the host up */
	PH_CONNECTING,
	PH_HANDSHAKE,	/* TLS */
	PH_SENDING,
	PH_RECEIVING,
	PH_BACKOFF,	/* waiting to retry */
};

struct hook_state {
	struct dock_hook_settings set;
	bool https;
	bool numeric_host;		/* an IP literal: never needs the resolver */
	char redacted[512];		/* the URL as logs may show it */
	char auth[400];			/* "Authorization: Basic ..." from userinfo */
	const char *extra[DOCK_MAX_HOOK_HEADERS + 1];
	size_t n_extra;

	/* the queue (hook.c) */
	struct dock_status queue[HOOK_QUEUE_MAX];
	unsigned head, count;
	bool draining;			/* dock is exiting: nothing waits past drain_at_ms */
	int64_t drain_at_ms;
	bool capped;			/* the current deadline is drain_at_ms, not the status's own */

	enum hook_phase phase;
	int64_t started_ms;		/* of the current status's delivery */
	int64_t deadline_ms;
	int attempts;
	int64_t backoff_ms;
	char last_error[DOCK_ERR_MAX];
	struct dock_timer wake;		/* kick or retry */
	struct dock_timer deadline;	/* of the current status */
	struct dock_timer drain;	/* dock is exiting */

	/* addresses of the host, kept between statuses (hookdns.c) */
	struct sockaddr_storage addrs[HOOK_MAX_ADDRS];
	socklen_t addr_lens[HOOK_MAX_ADDRS];
	unsigned naddrs, addr_index;
	int64_t resolved_ms;

	pid_t resolver_pid;
	int resolver_pidfd;
	struct dock_watcher resolver_w;

	/* the exchange (hookhttp.c) */
	struct dock_watcher conn_w;
	uint32_t conn_events;
	struct dock_tls *tls;

	char req[HOOK_REQUEST_MAX];
	size_t req_len, req_off;
	char resp[HOOK_RESPONSE_HEAD_MAX];
	size_t resp_len;
	struct dock_http_response res;
	bool head_done;			/* a 2xx head came: only its body is still read */
	struct dock_http_body body;
	size_t body_skipped;
};

/* The one instance (hook.c), zero-initialised: in .bss, not 55 KiB of the
 * binary's file. */
extern struct hook_state hook;

/* hook.c: the events the other two files report, and what they share. */
void dock_hook_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The attempt failed (the reason in hook.last_error): retried after a
 * backoff when retry says another attempt could fix it and time is left,
 * else the current status is given up. */
void dock_hook_attempt_failed(bool retry);
/* A 2xx came and its body is read or given up on: the status is delivered. */
void dock_hook_delivered(void);
const char *dock_hook_current_name(void);

/* hookdns.c */
/* An IP literal is converted at once (this never blocks); returns false
 * for a name, which dock_hook_resolve looks up from the loop. */
bool dock_hook_numeric_addresses(void);
/* Starts the resolver child (phase RESOLVING), or reports the failure. */
void dock_hook_resolve(void);
/* Stops a resolver still running (none: nothing to do). */
void dock_hook_stop_resolver(void);

/* hookhttp.c */
/* Renders the current status into hook.req. Returns 0, or -1 with the
 * reason in hook.last_error. */
int dock_hook_build_request(void);
/* Connects to the addresses from index on (phase CONNECTING); when none
 * is left, reports the attempt failed. */
void dock_hook_connect_from(unsigned index);
/* Closes the connection, if any (TLS session included). */
void dock_hook_close_conn(void);

#endif
