/* --bind-port: the probes that look for a socket on the port (sock_diag
 * netlink, or /proc/net without it) on a timer, and the gate they open. */
#include "ready_port.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ioresult.h"
#include "lifecycle.h"
#include "log.h"
#include "loop.h"
#include "procfs.h"
#include "sockdiag.h"
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
/* The machine's addresses are read again (with a full probe) at most this
 * often; per family, loopback and at most LOCAL_MAX - 1 others are looked
 * up, link-local IPv6 ones left to the dumps. */
#define LOCAL_REFRESH_MS	5000
#define LOCAL_MAX		4
/* With --strict-port-binding, sockets on the port that no process of the
 * tree held are looked for again (a /proc walk) only when the set of sockets
 * changes, or this often: an fd can still be passed into the tree. */
#define STRICT_RECHECK_MS	2000
/* Sockets on the port whose owners --strict-port-binding checks. */
#define MAX_FOUND		64

enum method { VIA_NETLINK, VIA_PROCNET, VIA_NONE };

static const struct source {
	const char *name;
	int family;
	int protocol;
	uint32_t states;	/* for sock_diag: bit per accepted state */
	const char *procnet;
	bool listen_only;	/* for /proc/net: state must be LISTEN */
} sources[] = {
	{ "TCP/IPv4", AF_INET, IPPROTO_TCP, 1u << DOCK_TCP_LISTEN, "/proc/net/tcp", true },
	{ "TCP/IPv6", AF_INET6, IPPROTO_TCP, 1u << DOCK_TCP_LISTEN, "/proc/net/tcp6", true },
	/* A bound UDP socket is in state CLOSE, or ESTABLISHED once connected:
	 * any state counts. */
	{ "UDP/IPv4", AF_INET, IPPROTO_UDP, ~0u, "/proc/net/udp", false },
	{ "UDP/IPv6", AF_INET6, IPPROTO_UDP, ~0u, "/proc/net/udp6", false },
};
#define NSOURCES (sizeof(sources) / sizeof(sources[0]))

/* The sockets one probe found on the port. */
struct found {
	size_t total;			/* all of them */
	size_t n;			/* those whose inode is kept */
	uint64_t inodes[MAX_FOUND];
};

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
	int nl_fd;
	uint32_t seq;
	bool no_legacy_tcp;		/* the kernel refused TCPDIAG_GETSOCK */
	enum method method[NSOURCES];
	bool no_lookup[NSOURCES];	/* the kernel refused a quick lookup */
	/* the machine's addresses the quick probes look up, per family */
	uint8_t local4[LOCAL_MAX][16], local6[LOCAL_MAX][16];
	size_t nlocal4, nlocal6;
	int64_t local_ms;		/* when they were read; 0: never */
	int lost_errno[NSOURCES];	/* why a source became VIA_NONE */
	unsigned lost_unreported;	/* bit per source lost since the last report */
	size_t last_total;		/* for debug lines on change only */
	int last_transient;		/* errno of the last passing failure logged */
	/* --strict-port-binding: what the last /proc walk looked for */
	uint64_t checked[MAX_FOUND];
	size_t nchecked;
	int64_t checked_ms;
	bool warned_proc;
} ready_port = { .gate = -1, .nl_fd = -1 };

static bool in_set(uint64_t inode, const uint64_t *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] == inode)
			return true;
	return false;
}

/* Errors that say a way of looking will never work here (no such module,
 * address family or file; forbidden by a seccomp filter or permissions),
 * as opposed to passing ones (no memory, fds exhausted, a dump cut short). */
static bool lasting_error(int e)
{
	switch (e) {
	case ENOENT:
	case EACCES:
	case EPERM:
	case EINVAL:
	case EAFNOSUPPORT:
	case EPROTONOSUPPORT:
	case ESOCKTNOSUPPORT:
	case EOPNOTSUPP:
	case ENOSYS:
	case ENOTDIR:
		return true;
	default:
		return false;
	}
}

static void keep(struct found *f, uint64_t inode)
{
	f->total++;
	if (f->n < MAX_FOUND)
		f->inodes[f->n++] = inode;
}

/* A source sock_diag cannot serve goes to /proc/net. */
/* A passing failure: logged when it is new, not at every probe. */
static void transient(const char *what, int e)
{
	if (e != ready_port.last_transient)
		dock_debug("port %d: %s: %s; trying again", ready_port.port, what, strerror(e));
	ready_port.last_transient = e;
}

static void netlink_lost(size_t i, int e)
{
	dock_debug("port %d: sock_diag cannot list %s sockets (%s); reading %s", ready_port.port,
		   sources[i].name, strerror(e), sources[i].procnet);
	ready_port.method[i] = VIA_PROCNET;
}

#define LEGACY_TCP ((size_t)-1)

/* One batch of sock_diag dumps for every source still read that way: TCP of
 * both families in one legacy dump while the kernel takes it, UDP per
 * family. Returns true when it should run again at once (a dump's way of
 * asking changed). */
static bool probe_netlink(struct found *f)
{
	struct dock_sockdiag_scan scans[NSOURCES];
	size_t covers[NSOURCES];	/* source index, or LEGACY_TCP for 0 and 1 */
	size_t n = 0, i, k;
	bool legacy = !ready_port.no_legacy_tcp && ready_port.method[0] == VIA_NETLINK &&
		      ready_port.method[1] == VIA_NETLINK, again = false;

	for (i = 0; i < NSOURCES; i++) {
		if (ready_port.method[i] != VIA_NETLINK)
			continue;
		if (legacy && sources[i].protocol == IPPROTO_TCP && i != 0)
			continue;
		memset(&scans[n], 0, sizeof(scans[n]));
		scans[n].legacy_tcp = legacy && sources[i].protocol == IPPROTO_TCP;
		scans[n].family = (uint8_t)sources[i].family;
		scans[n].protocol = (uint8_t)sources[i].protocol;
		scans[n].states = sources[i].states;
		scans[n].port = (uint16_t)ready_port.port;
		covers[n] = scans[n].legacy_tcp ? LEGACY_TCP : i;
		n++;
	}
	if (n == 0)
		return false;
	if (ready_port.nl_fd < 0 && (ready_port.nl_fd = dock_sockdiag_open()) < 0) {
		int e = errno;

		if (lasting_error(e))
			for (i = 0; i < NSOURCES; i++)
				if (ready_port.method[i] == VIA_NETLINK)
					netlink_lost(i, e);
		return false;
	}
	if (dock_sockdiag_run(ready_port.nl_fd, scans, n, &ready_port.seq) < 0) {
		int e = errno;

		/* The socket is in an unknown state (a dump cut short would
		 * keep it busy): start over with a new one. */
		close(ready_port.nl_fd);
		ready_port.nl_fd = -1;
		if (e == EPERM || e == EACCES) {
			for (i = 0; i < NSOURCES; i++)
				if (ready_port.method[i] == VIA_NETLINK)
					netlink_lost(i, e);
			return true;
		}
		transient("sock_diag", e);
		return false;
	}
	for (k = 0; k < n; k++) {
		int e = scans[k].error;

		if (e == 0 || !lasting_error(e))
			continue;
		if (covers[k] == LEGACY_TCP) {
			dock_debug("port %d: no legacy TCP dump (%s); one per family", ready_port.port,
				   strerror(e));
			ready_port.no_legacy_tcp = true;
		} else {
			netlink_lost(covers[k], e);
		}
		again = true;
	}
	/* Asked again at once, the others' answers would count twice. */
	if (again)
		return true;
	for (k = 0; k < n; k++) {
		const struct dock_sockdiag_scan *s = &scans[k];

		if (s->error) {
			transient("sock_diag", s->error);
			continue;
		}
		for (i = 0; i < s->ninodes; i++)
			keep(f, s->inodes[i]);
		/* Sockets beyond what the scan kept still count as found. */
		f->total += s->matches - s->ninodes;
	}
	return again;
}

static void add_local(uint8_t (*set)[16], size_t *n, const void *addr, size_t len)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (memcmp(set[i], addr, len) == 0)
			return;
	if (*n < LOCAL_MAX) {
		memset(set[*n], 0, 16);
		memcpy(set[(*n)++], addr, len);
	}
}

/* The addresses the quick probes look up: loopback, then the machine's
 * others (getifaddrs). Without them loopback still finds the wildcard. */
static void read_local_addresses(int64_t now)
{
	static const uint8_t loop4[4] = { 127, 0, 0, 1 };
	static const uint8_t loop6[16] = { [15] = 1 };
	struct ifaddrs *list, *i;

	ready_port.nlocal4 = ready_port.nlocal6 = 0;
	add_local(ready_port.local4, &ready_port.nlocal4, loop4, 4);
	add_local(ready_port.local6, &ready_port.nlocal6, loop6, 16);
	ready_port.local_ms = now;
	if (getifaddrs(&list) < 0) {
		transient("getifaddrs", errno);
		return;
	}
	for (i = list; i; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			add_local(ready_port.local4, &ready_port.nlocal4,
				  &((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const uint8_t *a = ((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr.s6_addr;

			/* fe80::/10 needs its interface in the lookup. */
			if (!(a[0] == 0xfe && (a[1] & 0xc0) == 0x80))
				add_local(ready_port.local6, &ready_port.nlocal6, a, 16);
		}
	}
	freeifaddrs(list);
}

static bool quick_possible(void)
{
	size_t i;

	for (i = 0; i < NSOURCES; i++)
		if (ready_port.method[i] == VIA_NETLINK && !ready_port.no_lookup[i])
			return true;
	return false;
}

/* A quick probe: lookups of the port on each of the machine's addresses,
 * for every source still read through sock_diag. Returns how many ran; 0
 * means only a full probe can look. */
static size_t probe_quick(struct found *f)
{
	struct dock_sockdiag_scan scans[NSOURCES * LOCAL_MAX];
	size_t covers[NSOURCES * LOCAL_MAX], n = 0, i, a, na, k;

	for (i = 0; i < NSOURCES; i++) {
		if (ready_port.method[i] != VIA_NETLINK || ready_port.no_lookup[i])
			continue;
		na = sources[i].family == AF_INET ? ready_port.nlocal4 : ready_port.nlocal6;
		for (a = 0; a < na; a++) {
			memset(&scans[n], 0, sizeof(scans[n]));
			scans[n].exact = true;
			scans[n].family = (uint8_t)sources[i].family;
			scans[n].protocol = (uint8_t)sources[i].protocol;
			scans[n].states = sources[i].states;
			scans[n].port = (uint16_t)ready_port.port;
			memcpy(scans[n].addr, sources[i].family == AF_INET ? ready_port.local4[a] : ready_port.local6[a], 16);
			covers[n++] = i;
		}
	}
	if (n == 0 || (ready_port.nl_fd < 0 && (ready_port.nl_fd = dock_sockdiag_open()) < 0))
		return 0;
	if (dock_sockdiag_run(ready_port.nl_fd, scans, n, &ready_port.seq) < 0) {
		/* As for the dumps: a new socket next time. */
		transient("sock_diag lookup", errno);
		close(ready_port.nl_fd);
		ready_port.nl_fd = -1;
		return n;
	}
	for (k = 0; k < n; k++) {
		const struct dock_sockdiag_scan *s = &scans[k];

		if (s->error && lasting_error(s->error)) {
			/* The full dumps still see this source. */
			if (!ready_port.no_lookup[covers[k]])
				dock_debug("port %d: no sock_diag lookup of %s sockets (%s); dumps only",
					   ready_port.port, sources[covers[k]].name, strerror(s->error));
			ready_port.no_lookup[covers[k]] = true;
		} else if (s->error) {
			transient("sock_diag lookup", s->error);
		} else {
			for (i = 0; i < s->ninodes; i++)
				keep(f, s->inodes[i]);
			f->total += s->matches - s->ninodes;
		}
	}
	return n;
}

static void procnet_line(const struct source *s, const char *line, size_t len, struct found *f)
{
	struct dock_proc_net_sock ns;

	if (dock_procfs_parse_net_sock(line, len, &ns) < 0 || ns.local_port != ready_port.port)
		return;
	if (s->listen_only && ns.state != DOCK_TCP_LISTEN)
		return;
	keep(f, ns.inode);
}

/* Reads one /proc/net file: DOCK_IO_OK once read, DOCK_IO_WANT_READ when
 * it could not be this time (a passing error: the next probe tries again),
 * DOCK_IO_ERROR (errno set) when it never will be. */
static enum dock_io_result probe_procnet(size_t i, struct found *f)
{
	const struct source *s = &sources[i];
	char buf[8192];
	size_t have = 0;
	int fd = open(s->procnet, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (lasting_error(errno))
			return DOCK_IO_ERROR;
		transient(s->procnet, errno);
		return DOCK_IO_WANT_READ;
	}
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		char *p, *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			transient(s->procnet, errno);
			close(fd);
			return DOCK_IO_WANT_READ;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		for (p = buf; (nl = memchr(p, '\n', have - (size_t)(p - buf))) != NULL; p = nl + 1)
			procnet_line(s, p, (size_t)(nl - p), f);
		have -= (size_t)(p - buf);
		memmove(buf, p, have);
		/* Lines are ~150 bytes; one filling the buffer is no socket line. */
		if (have == sizeof(buf))
			have = 0;
	}
	close(fd);
	if (have > 0)
		procnet_line(s, buf, have, f);
	return DOCK_IO_OK;
}

/* IPv6 may be absent from the kernel altogether; then no socket can be
 * bound there, and not seeing IPv6 sockets loses nothing. */
static bool ipv6_exists(void)
{
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return errno != EAFNOSUPPORT;
	close(fd);
	return true;
}

/* Looks at every source that still works, falling from sock_diag to
 * /proc/net to nothing per source. Without --strict-port-binding the first
 * socket found is enough. Returns the number of sources still usable. */
static size_t probe_all(struct found *f)
{
	size_t i, usable = 0;
	int rounds = 0;

	/* A dump whose way of asking changed runs again at once, so this
	 * probe still sees everything; at most once per way. */
	while (probe_netlink(f) && ++rounds < 4)
		;
	for (i = 0; i < NSOURCES; i++) {
		if (ready_port.method[i] == VIA_PROCNET && (ready_port.strict || f->total == 0) &&
		    probe_procnet(i, f) == DOCK_IO_ERROR) {
			ready_port.lost_errno[i] = errno;
			ready_port.lost_unreported |= 1u << i;
			ready_port.method[i] = VIA_NONE;
		}
		if (ready_port.method[i] != VIA_NONE)
			usable++;
	}
	return usable;
}

/* Says once what cannot be seen: one line when nothing can, else one per
 * source lost. */
static void report_lost_sources(size_t usable)
{
	size_t i;
	bool v6 = true, v6_known = false;
	unsigned lost = ready_port.lost_unreported;

	ready_port.lost_unreported = 0;
	if (usable == 0) {
		dock_warnx("--bind-port %d: cannot see sockets: no sock_diag netlink and no "
			   "/proc/net (%s); \"running\" will not be reported", ready_port.port,
			   strerror(ready_port.lost_errno[0]));
		return;
	}
	for (i = 0; i < NSOURCES; i++) {
		if (!(lost & (1u << i)))
			continue;
		if (sources[i].family == AF_INET6) {
			if (!v6_known) {
				v6 = ipv6_exists();
				v6_known = true;
			}
			if (!v6) {
				dock_debug("port %d: no IPv6 in this kernel", ready_port.port);
				continue;
			}
		}
		dock_warnx("--bind-port %d: cannot see %s sockets: no sock_diag netlink and "
			   "no %s (%s); a bind there will not count", ready_port.port, sources[i].name,
			   sources[i].procnet, strerror(ready_port.lost_errno[i]));
	}
}

static void stop_probing(void)
{
	dock_timer_cancel(&ready_port.probe);
	if (ready_port.nl_fd >= 0) {
		close(ready_port.nl_fd);
		dock_sockdiag_release();
	}
	ready_port.nl_fd = -1;
}

/* With --strict-port-binding: whether a process of the tree holds one of the
 * sockets found. 1 yes, 0 no (or not looked again yet), -1 /proc unreadable. */
static int owned_by_tree(struct found *f, int64_t now, pid_t *holder)
{
	int held;

	size_t i;

	/* Sockets all found outside the tree already (a quick probe sees some
	 * of what a full one saw): a /proc walk per probe would cost far more
	 * than the probe. */
	for (i = 0; i < f->n && in_set(f->inodes[i], ready_port.checked, ready_port.nchecked); i++)
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
static void warn_if_held_outside(struct found *f)
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
	struct found f;
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
	full = ready_port.probes == 0 || !quick_possible() ||
	       now - ready_port.full_ms >= probe_interval(now - ready_port.started_ms, FULL_WAITED_SHARE, FULL_MIN_MS, FULL_MAX_MS) ||
	       probe_quick(&f) == 0;
	if (full) {
		ready_port.usable = probe_all(&f);
		ready_port.full_ms = now;
		if (ready_port.local_ms == 0 || now - ready_port.local_ms >= LOCAL_REFRESH_MS)
			read_local_addresses(now);
	}
	usable = ready_port.usable;
	now = dock_now_ms();
	ready_port.probes++;
	if (ready_port.lost_unreported)
		report_lost_sources(usable);
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
					       quick_possible() ? QUICK_MAX_MS : FULL_ONLY_MAX_MS));
}

int dock_ready_port_setup(int port, bool strict)
{
	ready_port.port = port;
	ready_port.strict = strict;
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
