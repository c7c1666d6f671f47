/* The lifecycle's mechanics: subscribers are told of the current state at
 * once and then of every change, in the order they subscribed; gates hold
 * "running" back until every one is open and the command has started.
 * Which final state an end maps to is not checked here (the integration
 * tests of the status file and the web hook do); only that it is a final
 * one, told once.
 *
 * The module keeps its state in statics, so every suite runs isolated (in a
 * child of its own) and starts from "starting" with no gate and no
 * subscriber. */
#include <time.h>

#include "lifecycle.h"
#include "unit.h"

#define MAX_SEEN 16

struct seen {
	int n;
	enum dock_state state[MAX_SEEN];
	pid_t pid[MAX_SEEN];
	long long since[MAX_SEEN];
	int exit_code[MAX_SEEN];
	int order[MAX_SEEN];	/* tick of the shared counter when told */
};

static int tick;

static void record(const struct dock_status *st, void *ctx)
{
	struct seen *s = ctx;

	if (s->n == MAX_SEEN) {
		CHECK(!"more notifications than a test expects");
		return;
	}
	s->state[s->n] = st->state;
	s->pid[s->n] = st->pid;
	s->since[s->n] = st->since_ms / 1000; /* seconds, as time() */
	s->exit_code[s->n] = st->exit_code;
	s->order[s->n] = tick++;
	s->n++;
}

static bool is_final(enum dock_state s)
{
	return s != DOCK_STATE_STARTING && s != DOCK_STATE_RUNNING;
}

UNIT_SUITE_ISOLATED(test_lifecycle_subscribe)
{
	struct seen a = { 0 }, b = { 0 }, extra[DOCK_LIFECYCLE_MAX_SUBSCRIBERS] = { { 0 } };
	long long before = (long long)time(NULL), after;
	int i;

	/* Told at once of the state as it is, before anything happened. */
	CHECK_EQ_INT(dock_lifecycle_subscribe(record, &a), 0);
	after = (long long)time(NULL);
	CHECK_EQ_INT(a.n, 1);
	CHECK_EQ_INT(a.state[0], DOCK_STATE_STARTING);
	CHECK_EQ_INT(a.pid[0], 0);
	CHECK(a.since[0] >= before && a.since[0] <= after);
	CHECK_EQ_INT(dock_lifecycle_current()->state, DOCK_STATE_STARTING);

	CHECK_EQ_INT(dock_lifecycle_subscribe(record, &b), 0);
	CHECK_EQ_INT(b.n, 1);
	CHECK_EQ_INT(a.n, 1);	/* a later subscriber tells no earlier one */

	/* A bounded table: one too many is refused and never called. */
	for (i = 2; i < DOCK_LIFECYCLE_MAX_SUBSCRIBERS; i++)
		CHECK_EQ_INT(dock_lifecycle_subscribe(record, &extra[i]), 0);
	CHECK_EQ_INT(dock_lifecycle_subscribe(record, &extra[0]), -1);
	CHECK_EQ_INT(extra[0].n, 0);

	/* A change reaches every subscriber, in the order they subscribed. */
	before = (long long)time(NULL);
	dock_lifecycle_started(42);
	after = (long long)time(NULL);
	CHECK_EQ_INT(a.n, 2);
	CHECK_EQ_INT(b.n, 2);
	CHECK_EQ_INT(a.state[1], DOCK_STATE_RUNNING);
	CHECK_EQ_INT(a.pid[1], 42);
	CHECK(a.since[1] >= before && a.since[1] <= after);
	CHECK(a.order[1] < b.order[1]);
	for (i = 2; i < DOCK_LIFECYCLE_MAX_SUBSCRIBERS; i++) {
		CHECK_EQ_INT(extra[i].n, 2);
		CHECK(extra[i].order[1] > b.order[1]);
	}
	CHECK_EQ_INT(extra[0].n, 0);
}

UNIT_SUITE_ISOLATED(test_lifecycle_late_subscriber)
{
	struct seen a = { 0 };

	/* Subscribing after the command started: told "running" at once,
	 * with the command's pid, and nothing else. */
	dock_lifecycle_started(7);
	CHECK_EQ_INT(dock_lifecycle_current()->state, DOCK_STATE_RUNNING);
	CHECK_EQ_INT(dock_lifecycle_current()->pid, 7);
	CHECK_EQ_INT(dock_lifecycle_subscribe(record, &a), 0);
	CHECK_EQ_INT(a.n, 1);
	CHECK_EQ_INT(a.state[0], DOCK_STATE_RUNNING);
	CHECK_EQ_INT(a.pid[0], 7);
	CHECK(a.since[0] > 0);
}

UNIT_SUITE_ISOLATED(test_lifecycle_gates)
{
	struct seen a = { 0 };
	int g0, g1;

	g0 = dock_lifecycle_add_gate("port 80");
	g1 = dock_lifecycle_add_gate("notify");
	CHECK(g0 >= 0);
	CHECK(g1 >= 0);
	CHECK(g0 != g1);
	CHECK_EQ_INT(dock_lifecycle_subscribe(record, &a), 0);

	/* Started, but a gate is closed: still "starting", nobody told. */
	dock_lifecycle_started(100);
	CHECK_EQ_INT(a.n, 1);
	CHECK_EQ_INT(dock_lifecycle_current()->state, DOCK_STATE_STARTING);
	CHECK_EQ_INT(dock_lifecycle_current()->pid, 100);

	dock_lifecycle_open_gate(g0);
	CHECK_EQ_INT(a.n, 1);
	CHECK_EQ_INT(dock_lifecycle_current()->state, DOCK_STATE_STARTING);

	/* Opening a gate twice, or one that does not exist, opens nothing. */
	dock_lifecycle_open_gate(g0);
	dock_lifecycle_open_gate(-1);
	dock_lifecycle_open_gate(g1 + 1);
	dock_lifecycle_open_gate(1000);
	CHECK_EQ_INT(a.n, 1);
	CHECK_EQ_INT(dock_lifecycle_current()->state, DOCK_STATE_STARTING);

	/* The last one: "running", told exactly once, with the pid. */
	dock_lifecycle_open_gate(g1);
	CHECK_EQ_INT(a.n, 2);
	CHECK_EQ_INT(a.state[1], DOCK_STATE_RUNNING);
	CHECK_EQ_INT(a.pid[1], 100);
	dock_lifecycle_open_gate(g1);
	dock_lifecycle_open_gate(g0);
	CHECK_EQ_INT(a.n, 2);
}

UNIT_SUITE_ISOLATED(test_lifecycle_gates_before_start)
{
	struct seen a = { 0 };
	int g = dock_lifecycle_add_gate("port 8080");

	CHECK_EQ_INT(dock_lifecycle_subscribe(record, &a), 0);
	/* Ready before exec is known to have succeeded (a port bound by a
	 * process that was there first): "running" waits for the start. */
	dock_lifecycle_open_gate(g);
	CHECK_EQ_INT(a.n, 1);
	CHECK_EQ_INT(dock_lifecycle_current()->state, DOCK_STATE_STARTING);
	dock_lifecycle_started(5);
	CHECK_EQ_INT(a.n, 2);
	CHECK_EQ_INT(a.state[1], DOCK_STATE_RUNNING);
	CHECK_EQ_INT(a.pid[1], 5);
}

UNIT_SUITE_ISOLATED(test_lifecycle_gate_limit)
{
	int ids[64], n = 0, i, j;

	/* Gates are bounded; past the bound add_gate fails and changes
	 * nothing: opening those there are is still enough. */
	while (n < 64 && (ids[n] = dock_lifecycle_add_gate("g")) >= 0)
		n++;
	CHECK(n >= 1);
	CHECK(n < 64);
	CHECK_EQ_INT(dock_lifecycle_add_gate("one more"), -1);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			CHECK(ids[i] != ids[j]);
	dock_lifecycle_started(9);
	for (i = 0; i < n; i++) {
		CHECK_EQ_INT(dock_lifecycle_current()->state, DOCK_STATE_STARTING);
		dock_lifecycle_open_gate(ids[i]);
	}
	CHECK_EQ_INT(dock_lifecycle_current()->state, DOCK_STATE_RUNNING);
}

UNIT_SUITE_ISOLATED(test_lifecycle_end_while_gated)
{
	struct seen a = { 0 }, b = { 0 };
	int g = dock_lifecycle_add_gate("port 80");

	CHECK_EQ_INT(dock_lifecycle_subscribe(record, &a), 0);
	CHECK_EQ_INT(dock_lifecycle_subscribe(record, &b), 0);
	dock_lifecycle_started(11);
	/* The command ends before it was ready: one final state, never
	 * "running", and the exit code goes with it. */
	dock_lifecycle_ended(3, 0, false);
	CHECK_EQ_INT(a.n, 2);
	CHECK(is_final(a.state[1]));
	CHECK_EQ_INT(a.exit_code[1], 3);
	CHECK_EQ_INT(b.n, 2);
	CHECK(a.order[1] < b.order[1]);

	/* Nothing after the end moves the state again. */
	dock_lifecycle_open_gate(g);
	dock_lifecycle_ended(4, 0, false);
	CHECK_EQ_INT(a.n, 2);
	CHECK_EQ_INT(b.n, 2);
	CHECK(is_final(dock_lifecycle_current()->state));
	CHECK_EQ_INT(dock_lifecycle_current()->exit_code, 3);
}

UNIT_SUITE_ISOLATED(test_lifecycle_end_after_running)
{
	struct seen a = { 0 };

	CHECK_EQ_INT(dock_lifecycle_subscribe(record, &a), 0);
	dock_lifecycle_started(12);
	dock_lifecycle_ended(128 + 9, 9, false);
	CHECK_EQ_INT(a.n, 3);
	CHECK_EQ_INT(a.state[0], DOCK_STATE_STARTING);
	CHECK_EQ_INT(a.state[1], DOCK_STATE_RUNNING);
	CHECK(is_final(a.state[2]));
	CHECK_EQ_INT(a.pid[2], 12);
	CHECK_EQ_INT(a.exit_code[2], 128 + 9);
	CHECK_EQ_INT(dock_lifecycle_current()->signal, 9);
	/* A subscriber added now learns the final state at once. */
	{
		struct seen late = { 0 };

		CHECK_EQ_INT(dock_lifecycle_subscribe(record, &late), 0);
		CHECK_EQ_INT(late.n, 1);
		CHECK(is_final(late.state[0]));
		CHECK_EQ_INT(late.exit_code[0], 128 + 9);
	}
}
