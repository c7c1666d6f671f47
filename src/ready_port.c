/* --bind-port: when to look for a socket on the port (ready_probe.c
 * looks), what a find means (with --strict-port-binding: only a socket a
 * process of dock's tree holds), and the gate it opens. */
#include "ready_port.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lifecycle.h"
#include "log.h"
#include "loop.h"
#include "ready_probe.h"
#include "tree.h"

/* Probe timing. No kernel event announces a bind, so the port is polled,
 * and the interval trades latency (a bind is seen up to one interval late)
 * against the cost of waiting. Two kinds of probe share the timer:
 *
 * - quick: sock_diag lookups of the port on this machine's addresses,
 *   loopback first, TCP and UDP (a request each, all in one system call,
 *   about a microsecond apiece): a lookup finds a socket bound to the
 *   address looked up or to the wildcard address;
 * - full: filtered sock_diag dumps, which find a socket on any address
 *   (one that is not the machine's, with IP_FREEBIND, or an address added
 *   since the last look) but walk the kernel's hash tables of thousands of
 *   buckets (three dumps, some 40 us of kernel time warm, 150 to 200 us
 *   cold on a small VM).
 *
 * The interval between probes is a fiftieth of the time waited so far,
 * from QUICK_MIN_MS to QUICK_MAX_MS, and between full ones a tenth, from
 * FULL_MIN_MS to FULL_MAX_MS (the first probe is full): a server that binds
 * in its first half second is seen within a few milliseconds, a later bind
 * within QUICK_MAX_MS, one on an address that is not the machine's within a
 * tenth of the time waited, at most FULL_MAX_MS. Waiting costs under 1% of
 * a core on a small VM, most of it the wake-ups themselves (30 to 70 us
 * each there, whatever the probe does). */
#define QUICK_MIN_MS		1
#define QUICK_MAX_MS		7
#define QUICK_WAITED_SHARE	50
#define FULL_MIN_MS		5
#define FULL_MAX_MS		250
#define FULL_WAITED_SHARE	10
/* Without lookups (no sock_diag, or a kernel that refuses them), every probe
 * is full, at most this far apart. */
#define FULL_ONLY_MAX_MS	25
/* With --strict-port-binding, sockets on the port that no process of the
 * tree held are looked for again (a /proc walk) only when the set of sockets
 * changes, or this often: an fd can still be passed into the tree. */
#define STRICT_RECHECK_MS	2000

/* The state of the wait for the port. */
static struct {
	int port;
	bool strict;
	int gate;
	char gate_name[24];
	struct dock_timer probe;
	int64_t started_ms;
	unsigned probes;
	int64_t full_ms;		/* when the last full probe ran */
	size_t usable;			/* sources still usable, as the last full probe found */
	size_t last_total;		/* for debug lines on change only */
	/* --strict-port-binding: what the last /proc walk looked for */
	uint64_t checked[DOCK_READY_FOUND_MAX];
	size_t nchecked;
	int64_t checked_ms;
	bool warned_proc;
} ready_port = { .gate = -1 };

static void stop_probing(void)
{
	dock_timer_cancel(&ready_port.probe);
	dock_ready_probe_stop();
}

/* With --strict-port-binding: whether a process of the tree holds one of the
 * sockets found. 1 yes, 0 no (or not looked again yet), -1 /proc unreadable. */
static int owned_by_tree(struct dock_ready_found *f, int64_t now, pid_t *holder)
{
	int held;
	size_t i;

	/* Sockets all found outside the tree already (a quick probe sees some
	 * of what a full one saw): a /proc walk per probe would cost far more
	 * than the probe. */
	for (i = 0; i < f->n && dock_tree_inode_in(f->inodes[i], ready_port.checked, ready_port.nchecked); i++)
		;
	if (i == f->n && now - ready_port.checked_ms < STRICT_RECHECK_MS)
		return 0;
	memcpy(ready_port.checked, f->inodes, f->n * sizeof(f->inodes[0]));
	ready_port.nchecked = f->n;
	ready_port.checked_ms = now;
	held = dock_tree_find_holder(f->inodes, f->n, holder);
	if (held < 0 && !ready_port.warned_proc) {
		dock_warnx("--strict-port-binding: cannot read /proc to find who holds port %d; "
			   "\"running\" waits until it can", ready_port.port);
		ready_port.warned_proc = true;
	}
	if (held == 0)
		dock_debug("port %d: %zu socket(s), none held by dock's tree", ready_port.port, f->total);
	return held;
}

/* The first probe runs as the command starts: a socket on the port then is
 * almost surely someone else's (another container's server in a shared
 * network namespace, a leftover of an earlier run), and without
 * --strict-port-binding "running" would say nothing about the command.
 * Said once, before that "running". */
static void warn_if_held_outside(struct dock_ready_found *f)
{
	pid_t holder = 0;
	int held;

	held = f->n > 0 ? dock_tree_find_holder(f->inodes, f->n, &holder) : 0;
	if (held > 0)
		return;
	dock_warnx("--bind-port %d: the port is already bound at start by a process %s; "
		   "\"running\" does not wait for the command (use --strict-port-binding to "
		   "count only sockets of dock's tree)", ready_port.port,
		   held == 0 ? "outside dock's tree" : "dock cannot identify (no /proc)");
}

static int64_t probe_interval(int64_t waited_ms, int64_t share, int64_t min_ms, int64_t max_ms)
{
	int64_t ms = waited_ms / share;

	return ms < min_ms ? min_ms : ms > max_ms ? max_ms : ms;
}

static void on_probe(struct dock_timer *t)
{
	struct dock_ready_found f;
	int64_t now;
	size_t usable;
	pid_t holder = 0;
	bool full;

	/* Once the command has ended, "running" can no longer come. */
	if (dock_state_is_final(dock_lifecycle_current()->state)) {
		stop_probing();
		return;
	}
	f.total = 0;
	f.n = 0;
	now = dock_now_ms();
	/* Quick while the last full probe is recent enough; then full. */
	full = ready_port.probes == 0 || !dock_ready_probe_quick_possible() ||
	       now - ready_port.full_ms >= probe_interval(now - ready_port.started_ms, FULL_WAITED_SHARE,
							  FULL_MIN_MS, FULL_MAX_MS) ||
	       dock_ready_probe_quick(&f) == 0;
	if (full) {
		ready_port.usable = dock_ready_probe_full(&f, now);
		ready_port.full_ms = now;
	}
	usable = ready_port.usable;
	now = dock_now_ms();
	ready_port.probes++;
	if (usable == 0) {
		/* Probing nothing on a timer would be a busy wait for nothing. */
		stop_probing();
		return;
	}
	if (f.total > 0 && (!ready_port.strict || owned_by_tree(&f, now, &holder) > 0)) {
		if (!ready_port.strict && ready_port.probes == 1)
			warn_if_held_outside(&f);
		if (holder > 0)
			dock_debug("port %d: bound by pid %d of dock's tree, seen %lld ms after "
				   "start (probe %u)", ready_port.port, (int)holder,
				   (long long)(now - ready_port.started_ms), ready_port.probes);
		else
			dock_debug("port %d: bound, seen %lld ms after start (probe %u)", ready_port.port,
				   (long long)(now - ready_port.started_ms), ready_port.probes);
		stop_probing();
		dock_lifecycle_open_gate(ready_port.gate);
		return;
	}
	/* Only full probes count every socket: a quick one sees fewer. */
	if (full && (f.total != ready_port.last_total || ready_port.probes == 1))
		dock_debug("port %d: %zu socket(s) on it%s", ready_port.port, f.total,
			   f.total ? "" : "; probing");
	if (full)
		ready_port.last_total = f.total;
	dock_timer_arm(t, now + probe_interval(now - ready_port.started_ms, QUICK_WAITED_SHARE, QUICK_MIN_MS,
					       dock_ready_probe_quick_possible() ? QUICK_MAX_MS
										  : FULL_ONLY_MAX_MS));
}

int dock_ready_port_setup(int port, bool strict)
{
	ready_port.port = port;
	ready_port.strict = strict;
	dock_ready_probe_init(port, strict);
	snprintf(ready_port.gate_name, sizeof(ready_port.gate_name), "port %d", port);
	ready_port.gate = dock_lifecycle_add_gate(ready_port.gate_name);
	if (ready_port.gate < 0) {
		dock_warnx("--bind-port: too many readiness conditions");
		return -1;
	}
	ready_port.probe.cb = on_probe;
	dock_debug("waiting for port %d (%s)", port,
		   strict ? "held by dock's tree" : "any socket of the network namespace");
	return 0;
}

void dock_ready_port_started(void)
{
	if (ready_port.gate < 0)
		return;
	ready_port.started_ms = dock_now_ms();
	/* The first probe at once: the port may be bound already. */
	dock_timer_arm(&ready_port.probe, ready_port.started_ms);
}
