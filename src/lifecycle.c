#include "lifecycle.h"

#include <stdio.h>
#include <time.h>

#include "log.h"

#define MAX_GATES 8

static struct {
	dock_lifecycle_fn fn;
	void *ctx;
} subs[DOCK_LIFECYCLE_MAX_SUBSCRIBERS];
static int nsubs;

static const char *gate_names[MAX_GATES];
static unsigned gates_closed;	/* bit per gate still holding "running" back */
static int ngates;
static bool exec_done;

static struct dock_status cur = { .state = DOCK_STATE_STARTING };

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The one place where the state changes. */
static void transition(enum dock_state next)
{
	int i;

	cur.state = next;
	cur.since_ms = wall_ms();
	dock_debug("status: %s", dock_state_name(next));
	for (i = 0; i < nsubs; i++)
		subs[i].fn(&cur, subs[i].ctx);
}

int dock_lifecycle_subscribe(dock_lifecycle_fn fn, void *ctx)
{
	if (nsubs == DOCK_LIFECYCLE_MAX_SUBSCRIBERS)
		return -1;
	subs[nsubs].fn = fn;
	subs[nsubs].ctx = ctx;
	nsubs++;
	if (cur.since_ms == 0)
		cur.since_ms = wall_ms();
	fn(&cur, ctx);
	return 0;
}

int dock_lifecycle_add_gate(const char *name)
{
	if (ngates == MAX_GATES)
		return -1;
	gate_names[ngates] = name;
	gates_closed |= 1u << ngates;
	return ngates++;
}

static void maybe_running(void)
{
	if (cur.state == DOCK_STATE_STARTING && exec_done && gates_closed == 0)
		transition(DOCK_STATE_RUNNING);
}

void dock_lifecycle_open_gate(int gate)
{
	if (gate < 0 || gate >= ngates || !(gates_closed & (1u << gate)))
		return;
	gates_closed &= ~(1u << gate);
	dock_debug("ready: %s", gate_names[gate]);
	maybe_running();
}

void dock_lifecycle_started(pid_t pid)
{
	cur.pid = pid;
	exec_done = true;
	maybe_running();
}

void dock_lifecycle_ended(int exit_code, int signal, bool stopped)
{
	if (dock_state_is_final(cur.state))
		return;
	cur.exit_code = exit_code;
	cur.signal = signal;
	transition(stopped ? DOCK_STATE_STOPPED : DOCK_STATE_CRASHED);
}

const struct dock_status *dock_lifecycle_current(void)
{
	return &cur;
}
