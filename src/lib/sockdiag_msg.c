#include "sockdiag_msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

/* The kernel's layout, which these structs stand in for. */
_Static_assert(sizeof(struct dock_nlmsghdr) == 16, "nlmsghdr");
_Static_assert(sizeof(struct dock_sockaddr_nl) == 12, "sockaddr_nl");
_Static_assert(sizeof(struct dock_inet_diag_sockid) == 48, "inet_diag_sockid");
_Static_assert(sizeof(struct dock_inet_diag_req_v2) == 56, "inet_diag_req_v2");
_Static_assert(sizeof(struct dock_inet_diag_msg) == 72, "inet_diag_msg");
_Static_assert(offsetof(struct dock_inet_diag_msg, inode) == 68, "inet_diag_msg.idiag_inode");
_Static_assert(sizeof(struct dock_inet_diag_bc_op) == 4, "inet_diag_bc_op");

#define ALIGN4(n) (((n) + 3) & ~(size_t)3)

/* Two ops, sport >= port and sport <= port, rather than the single S_EQ op:
 * S_EQ exists only since Linux 4.17 and an older kernel's filter check
 * rejects the whole request for an op it does not know. */
#define FILTER_OPS 4

static size_t build_lookup(void *buf, size_t cap, const struct dock_sockdiag_scan *scan)
{
	struct dock_nlmsghdr h;
	struct dock_inet_diag_req_v2 req;
	size_t len = sizeof(h) + sizeof(req);

	if (cap < len)
		return 0;
	memset(&h, 0, sizeof(h));
	h.len = (uint32_t)len;
	h.type = DOCK_SOCK_DIAG_BY_FAMILY;
	h.flags = DOCK_NLM_F_REQUEST;
	h.seq = scan->seq;
	memset(&req, 0, sizeof(req));
	req.family = scan->family;
	req.protocol = scan->protocol;
	req.states = scan->states;
	/* Both ends of the "packet" are addr:port: the kernel's TCP lookup
	 * takes the local end from the id's source, its UDP lookup from the
	 * destination (the two were written the other way round). No
	 * connection runs from a port to itself, so either way the lookup
	 * ends at the socket bound or listening on addr:port or on the
	 * wildcard address with that port. */
	req.id.sport = htons(scan->port);
	req.id.dport = htons(scan->port);
	memcpy(req.id.src, scan->addr, sizeof(req.id.src));
	memcpy(req.id.dst, scan->addr, sizeof(req.id.dst));
	/* INET_DIAG_NOCOOKIE: whichever socket it is. */
	req.id.cookie[0] = ~0u;
	req.id.cookie[1] = ~0u;
	memcpy(buf, &h, sizeof(h));
	memcpy((unsigned char *)buf + sizeof(h), &req, sizeof(req));
	return len;
}

size_t dock_sockdiag_build_request(void *buf, size_t cap, const struct dock_sockdiag_scan *scan)
{
	struct dock_nlmsghdr h;
	struct dock_inet_diag_req_v2 req;
	struct dock_nlattr attr;
	struct dock_inet_diag_bc_op ops[FILTER_OPS];
	size_t body = scan->legacy_tcp ? DOCK_INET_DIAG_REQ_V1_SIZE : sizeof(req);
	size_t len = sizeof(h) + body + sizeof(attr) + sizeof(ops);
	unsigned char *p = buf;

	if (scan->exact)
		return build_lookup(buf, cap, scan);
	if (cap < len)
		return 0;
	memset(&h, 0, sizeof(h));
	h.len = (uint32_t)len;
	h.type = scan->legacy_tcp ? DOCK_TCPDIAG_GETSOCK : DOCK_SOCK_DIAG_BY_FAMILY;
	h.flags = DOCK_NLM_F_REQUEST | DOCK_NLM_F_DUMP;
	h.seq = scan->seq;
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);

	memset(p, 0, body);
	if (scan->legacy_tcp) {
		/* struct inet_diag_req: family, src_len, dst_len, ext, the
		 * 48-byte sockid, states, dbs. The kernel lists both families
		 * whatever the family byte says. */
		p[0] = AF_INET;
		memcpy(p + 4 + sizeof(struct dock_inet_diag_sockid), &scan->states,
		       sizeof(scan->states));
	} else {
		memset(&req, 0, sizeof(req));
		req.family = scan->family;
		req.protocol = scan->protocol;
		req.states = scan->states;
		memcpy(p, &req, sizeof(req));
	}
	p += body;

	attr.len = (uint16_t)(sizeof(attr) + sizeof(ops));
	attr.type = DOCK_INET_DIAG_REQ_BYTECODE;
	memcpy(p, &attr, sizeof(attr));
	p += sizeof(attr);

	/* A failed test jumps 4 bytes past the end (len + 4, the only
	 * out-of-range jump the kernel's audit allows): rejected. Passing both
	 * runs off the exact end: accepted. The port operand rides in the
	 * `no` field of the op after each test, in host byte order. */
	memset(ops, 0, sizeof(ops));
	ops[0].code = DOCK_INET_DIAG_BC_S_GE;
	ops[0].yes = 2 * sizeof(ops[0]);
	ops[0].no = (uint16_t)(sizeof(ops) + 4);
	ops[1].no = scan->port;
	ops[2].code = DOCK_INET_DIAG_BC_S_LE;
	ops[2].yes = 2 * sizeof(ops[0]);
	ops[2].no = (uint16_t)(2 * sizeof(ops[0]) + 4);
	ops[3].no = scan->port;
	memcpy(p, ops, sizeof(ops));
	return len;
}

static void take_socket(struct dock_sockdiag_scan *scan, const unsigned char *payload)
{
	struct dock_inet_diag_msg m;

	memcpy(&m, payload, sizeof(m));
	if (m.family != AF_INET && m.family != AF_INET6)
		return;
	/* The kernel filtered by port already; checking again costs nothing
	 * and keeps an ignored filter from counting every socket. */
	if (ntohs(m.id.sport) != scan->port)
		return;
	if (m.state >= 32 || !(scan->states & (1u << m.state)))
		return;
	scan->matches++;
	if (scan->ninodes < DOCK_SOCKDIAG_MAX_INODES)
		scan->inodes[scan->ninodes++] = m.inode;
}

/* A leading int of NLMSG_ERROR or NLMSG_DONE's payload: 0 or a positive
 * errno, -1 when it is missing. */
static int payload_errno(const unsigned char *payload, size_t len)
{
	int32_t e;

	if (len < sizeof(e))
		return -1;
	memcpy(&e, payload, sizeof(e));
	return e < 0 ? (e == INT32_MIN ? EPROTO : -e) : 0;
}

static struct dock_sockdiag_scan *scan_of(struct dock_sockdiag_scan *scans, size_t n, uint32_t seq)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (scans[i].seq == seq && !scans[i].done)
			return &scans[i];
	return NULL;
}

int dock_sockdiag_parse(struct dock_sockdiag_scan *scans, size_t n, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t off = 0;

	while (off < len) {
		struct dock_sockdiag_scan *scan;
		struct dock_nlmsghdr h;
		const unsigned char *payload;
		size_t plen, step;
		int e;

		if (len - off < sizeof(h))
			return -1;
		memcpy(&h, p + off, sizeof(h));
		if (h.len < sizeof(h) || h.len > len - off)
			return -1;
		payload = p + off + sizeof(h);
		plen = h.len - sizeof(h);
		/* The last message of a buffer may lack its padding. */
		step = ALIGN4((size_t)h.len);
		off += step < len - off ? step : len - off;
		scan = scan_of(scans, n, h.seq);
		if (scan == NULL)
			continue;	/* an abandoned dump, or one already ended */
		switch (h.type) {
		case DOCK_NLMSG_NOOP:
			break;
		case DOCK_NLMSG_ERROR:
			/* Error 0 would be an acknowledgement; a dump ends
			 * with DONE instead, so either way this is the end. */
			if ((e = payload_errno(payload, plen)) < 0)
				return -1;
			/* A lookup that finds nothing answers ENOENT. */
			scan->error = scan->exact && e == ENOENT ? 0 : e;
			scan->done = true;
			break;
		case DOCK_NLMSG_DONE:
			/* DONE may carry the dump's final status. */
			e = payload_errno(payload, plen);
			scan->error = e > 0 ? e : 0;
			scan->done = true;
			break;
		case DOCK_NLMSG_OVERRUN:
			scan->error = ENOBUFS;
			scan->done = true;
			break;
		default:
			if (h.type != (scan->legacy_tcp ? DOCK_TCPDIAG_GETSOCK : DOCK_SOCK_DIAG_BY_FAMILY))
				break;	/* nothing else is asked for */
			if (plen < sizeof(struct dock_inet_diag_msg))
				return -1;
			take_socket(scan, payload);
			/* A lookup's answer is the one socket, without a DONE. */
			if (scan->exact)
				scan->done = true;
			break;
		}
	}
	return 0;
}
