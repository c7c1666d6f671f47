/* --bind-port: the ways of looking for sockets on the port, per source
 * (TCP and UDP, IPv4 and IPv6): sock_diag lookups of the machine's
 * addresses (quick), filtered sock_diag dumps (full), /proc/net where
 * sock_diag cannot serve, and nothing where neither can. ready_port.c
 * decides when to look and what a find means. */
#include "ready_probe.h"

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
#include "log.h"
#include "procfs.h"
#include "sockdiag.h"

/* The machine's addresses are read again (with a full probe) at most this
 * often; per family, loopback and at most LOCAL_MAX - 1 others are looked
 * up, link-local IPv6 ones left to the dumps. */
#define LOCAL_REFRESH_MS	5000
#define LOCAL_MAX		4

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

/* The state of the ways of looking. */
static struct {
	int port;
	bool strict;			/* every socket counts, not only the first */
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
	int last_transient;		/* errno of the last passing failure logged */
} ready_probe = { .nl_fd = -1 };

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

static void keep(struct dock_ready_found *f, uint64_t inode)
{
	f->total++;
	if (f->n < DOCK_READY_FOUND_MAX)
		f->inodes[f->n++] = inode;
}

/* A source sock_diag cannot serve goes to /proc/net. */
/* A passing failure: logged when it is new, not at every probe. */
static void transient(const char *what, int e)
{
	if (e != ready_probe.last_transient)
		dock_debug("port %d: %s: %s; trying again", ready_probe.port, what, strerror(e));
	ready_probe.last_transient = e;
}

static void netlink_lost(size_t i, int e)
{
	dock_debug("port %d: sock_diag cannot list %s sockets (%s); reading %s", ready_probe.port,
		   sources[i].name, strerror(e), sources[i].procnet);
	ready_probe.method[i] = VIA_PROCNET;
}

#define LEGACY_TCP ((size_t)-1)

/* One batch of sock_diag dumps for every source still read that way: TCP of
 * both families in one legacy dump while the kernel takes it, UDP per
 * family. Returns true when it should run again at once (a dump's way of
 * asking changed). */
static bool probe_netlink(struct dock_ready_found *f)
{
	struct dock_sockdiag_scan scans[NSOURCES];
	size_t covers[NSOURCES];	/* source index, or LEGACY_TCP for 0 and 1 */
	size_t n = 0, i, k;
	bool legacy = !ready_probe.no_legacy_tcp && ready_probe.method[0] == VIA_NETLINK &&
		      ready_probe.method[1] == VIA_NETLINK, again = false;

	for (i = 0; i < NSOURCES; i++) {
		if (ready_probe.method[i] != VIA_NETLINK)
			continue;
		if (legacy && sources[i].protocol == IPPROTO_TCP && i != 0)
			continue;
		memset(&scans[n], 0, sizeof(scans[n]));
		scans[n].legacy_tcp = legacy && sources[i].protocol == IPPROTO_TCP;
		scans[n].family = (uint8_t)sources[i].family;
		scans[n].protocol = (uint8_t)sources[i].protocol;
		scans[n].states = sources[i].states;
		scans[n].port = (uint16_t)ready_probe.port;
		covers[n] = scans[n].legacy_tcp ? LEGACY_TCP : i;
		n++;
	}
	if (n == 0)
		return false;
	if (ready_probe.nl_fd < 0 && (ready_probe.nl_fd = dock_sockdiag_open()) < 0) {
		int e = errno;

		if (lasting_error(e))
			for (i = 0; i < NSOURCES; i++)
				if (ready_probe.method[i] == VIA_NETLINK)
					netlink_lost(i, e);
		return false;
	}
	if (dock_sockdiag_run(ready_probe.nl_fd, scans, n, &ready_probe.seq) < 0) {
		int e = errno;

		/* The socket is in an unknown state (a dump cut short would
		 * keep it busy): start over with a new one. */
		close(ready_probe.nl_fd);
		ready_probe.nl_fd = -1;
		if (e == EPERM || e == EACCES) {
			for (i = 0; i < NSOURCES; i++)
				if (ready_probe.method[i] == VIA_NETLINK)
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
			dock_debug("port %d: no legacy TCP dump (%s); one per family", ready_probe.port,
				   strerror(e));
			ready_probe.no_legacy_tcp = true;
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

	ready_probe.nlocal4 = ready_probe.nlocal6 = 0;
	add_local(ready_probe.local4, &ready_probe.nlocal4, loop4, 4);
	add_local(ready_probe.local6, &ready_probe.nlocal6, loop6, 16);
	ready_probe.local_ms = now;
	if (getifaddrs(&list) < 0) {
		transient("getifaddrs", errno);
		return;
	}
	for (i = list; i; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			add_local(ready_probe.local4, &ready_probe.nlocal4,
				  &((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const uint8_t *a = ((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr.s6_addr;

			/* fe80::/10 needs its interface in the lookup. */
			if (!(a[0] == 0xfe && (a[1] & 0xc0) == 0x80))
				add_local(ready_probe.local6, &ready_probe.nlocal6, a, 16);
		}
	}
	freeifaddrs(list);
}

bool dock_ready_probe_quick_possible(void)
{
	size_t i;

	for (i = 0; i < NSOURCES; i++)
		if (ready_probe.method[i] == VIA_NETLINK && !ready_probe.no_lookup[i])
			return true;
	return false;
}

/* A quick probe: lookups of the port on each of the machine's addresses,
 * for every source still read through sock_diag. Returns how many ran; 0
 * means only a full probe can look. */
size_t dock_ready_probe_quick(struct dock_ready_found *f)
{
	struct dock_sockdiag_scan scans[NSOURCES * LOCAL_MAX];
	size_t covers[NSOURCES * LOCAL_MAX], n = 0, i, a, na, k;

	for (i = 0; i < NSOURCES; i++) {
		if (ready_probe.method[i] != VIA_NETLINK || ready_probe.no_lookup[i])
			continue;
		na = sources[i].family == AF_INET ? ready_probe.nlocal4 : ready_probe.nlocal6;
		for (a = 0; a < na; a++) {
			memset(&scans[n], 0, sizeof(scans[n]));
			scans[n].exact = true;
			scans[n].family = (uint8_t)sources[i].family;
			scans[n].protocol = (uint8_t)sources[i].protocol;
			scans[n].states = sources[i].states;
			scans[n].port = (uint16_t)ready_probe.port;
			memcpy(scans[n].addr,
			       sources[i].family == AF_INET ? ready_probe.local4[a] : ready_probe.local6[a], 16);
			covers[n++] = i;
		}
	}
	if (n == 0 || (ready_probe.nl_fd < 0 && (ready_probe.nl_fd = dock_sockdiag_open()) < 0))
		return 0;
	if (dock_sockdiag_run(ready_probe.nl_fd, scans, n, &ready_probe.seq) < 0) {
		/* As for the dumps: a new socket next time. */
		transient("sock_diag lookup", errno);
		close(ready_probe.nl_fd);
		ready_probe.nl_fd = -1;
		return n;
	}
	for (k = 0; k < n; k++) {
		const struct dock_sockdiag_scan *s = &scans[k];

		if (s->error && lasting_error(s->error)) {
			/* The full dumps still see this source. */
			if (!ready_probe.no_lookup[covers[k]])
				dock_debug("port %d: no sock_diag lookup of %s sockets (%s); dumps only",
					   ready_probe.port, sources[covers[k]].name, strerror(s->error));
			ready_probe.no_lookup[covers[k]] = true;
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

static void procnet_line(const struct source *s, const char *line, size_t len, struct dock_ready_found *f)
{
	struct dock_proc_net_sock ns;

	if (dock_procfs_parse_net_sock(line, len, &ns) < 0 || ns.local_port != ready_probe.port)
		return;
	if (s->listen_only && ns.state != DOCK_TCP_LISTEN)
		return;
	keep(f, ns.inode);
}

/* Reads one /proc/net file: DOCK_IO_OK once read, DOCK_IO_WANT_READ when
 * it could not be this time (a passing error: the next probe tries again),
 * DOCK_IO_ERROR (errno set) when it never will be. */
static enum dock_io_result probe_procnet(size_t i, struct dock_ready_found *f)
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
static size_t probe_all(struct dock_ready_found *f)
{
	size_t i, usable = 0;
	int rounds = 0;

	/* A dump whose way of asking changed runs again at once, so this
	 * probe still sees everything; at most once per way. */
	while (probe_netlink(f) && ++rounds < 4)
		;
	for (i = 0; i < NSOURCES; i++) {
		if (ready_probe.method[i] == VIA_PROCNET && (ready_probe.strict || f->total == 0) &&
		    probe_procnet(i, f) == DOCK_IO_ERROR) {
			ready_probe.lost_errno[i] = errno;
			ready_probe.lost_unreported |= 1u << i;
			ready_probe.method[i] = VIA_NONE;
		}
		if (ready_probe.method[i] != VIA_NONE)
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
	unsigned lost = ready_probe.lost_unreported;

	ready_probe.lost_unreported = 0;
	if (usable == 0) {
		dock_warnx("--bind-port %d: cannot see sockets: no sock_diag netlink and no "
			   "/proc/net (%s); \"running\" will not be reported", ready_probe.port,
			   strerror(ready_probe.lost_errno[0]));
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
				dock_debug("port %d: no IPv6 in this kernel", ready_probe.port);
				continue;
			}
		}
		dock_warnx("--bind-port %d: cannot see %s sockets: no sock_diag netlink and "
			   "no %s (%s); a bind there will not count", ready_probe.port, sources[i].name,
			   sources[i].procnet, strerror(ready_probe.lost_errno[i]));
	}
}

void dock_ready_probe_init(int port, bool strict)
{
	ready_probe.port = port;
	ready_probe.strict = strict;
}

size_t dock_ready_probe_full(struct dock_ready_found *f, int64_t now)
{
	size_t usable = probe_all(f);

	if (ready_probe.local_ms == 0 || now - ready_probe.local_ms >= LOCAL_REFRESH_MS)
		read_local_addresses(now);
	if (ready_probe.lost_unreported)
		report_lost_sources(usable);
	return usable;
}

void dock_ready_probe_stop(void)
{
	if (ready_probe.nl_fd >= 0) {
		close(ready_probe.nl_fd);
		dock_sockdiag_release();
	}
	ready_probe.nl_fd = -1;
}
