/* The messages of sock_diag netlink: the requests that ask which TCP
 * listeners and UDP sockets of dock's network namespace sit on a port, and
 * the parser of the kernel's answers. Pure: src/sockdiag.c does the I/O.
 *
 * musl ships no <linux/...> headers, so the parts of the kernel ABI used here
 * (linux/netlink.h, linux/sock_diag.h, linux/inet_diag.h) are spelled out
 * below. Their layout is the kernel's stable user ABI; the static asserts in
 * sockdiag_msg.c pin the sizes. */
#ifndef DOCK_SOCKDIAG_MSG_H
#define DOCK_SOCKDIAG_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOCK_NETLINK_SOCK_DIAG		4
#define DOCK_SOCK_DIAG_BY_FAMILY	20
#define DOCK_NLMSG_NOOP			1
#define DOCK_NLMSG_ERROR		2
#define DOCK_NLMSG_DONE			3
#define DOCK_NLMSG_OVERRUN		4
#define DOCK_NLM_F_REQUEST		0x001
#define DOCK_NLM_F_DUMP			0x300	/* NLM_F_ROOT | NLM_F_MATCH */
#define DOCK_INET_DIAG_REQ_BYTECODE	1
#define DOCK_INET_DIAG_BC_S_GE		2
#define DOCK_INET_DIAG_BC_S_LE		3
#define DOCK_TCP_LISTEN			10
#define DOCK_SOL_NETLINK		270
#define DOCK_NETLINK_CAP_ACK		10

struct dock_nlmsghdr {
	uint32_t len;
	uint16_t type;
	uint16_t flags;
	uint32_t seq;
	uint32_t pid;
};

struct dock_sockaddr_nl {
	uint16_t family;	/* AF_NETLINK */
	uint16_t pad;
	uint32_t pid;		/* 0: the kernel */
	uint32_t groups;
};

struct dock_nlattr {
	uint16_t len;
	uint16_t type;
};

/* Ports and addresses in network byte order. */
struct dock_inet_diag_sockid {
	uint16_t sport;
	uint16_t dport;
	uint32_t src[4];
	uint32_t dst[4];
	uint32_t ifindex;
	uint32_t cookie[2];
};

struct dock_inet_diag_req_v2 {
	uint8_t family;
	uint8_t protocol;
	uint8_t ext;
	uint8_t pad;
	uint32_t states;	/* bit per TCP state number */
	struct dock_inet_diag_sockid id;
};

struct dock_inet_diag_msg {
	uint8_t family;
	uint8_t state;
	uint8_t timer;
	uint8_t retrans;
	struct dock_inet_diag_sockid id;
	uint32_t expires;
	uint32_t rqueue;
	uint32_t wqueue;
	uint32_t uid;
	uint32_t inode;
};

/* One op of the kernel's socket filter bytecode: on a true test jump `yes`
 * bytes on, else `no`. The filter accepts when it runs off its exact end. */
struct dock_inet_diag_bc_op {
	uint8_t code;
	uint8_t yes;
	uint16_t no;
};

/* Sockets on the port beyond this many are counted but their inodes not
 * kept: a port shared by more listeners (SO_REUSEPORT) is still seen as
 * bound, only --strict-port-binding looks at the first ones alone. */
#define DOCK_SOCKDIAG_MAX_INODES 32

/* One dump, or one lookup: what to ask, and what the answer said. */
struct dock_sockdiag_scan {
	/* in */
	uint8_t family;		/* AF_INET or AF_INET6 (ignored with legacy_tcp) */
	uint8_t protocol;	/* IPPROTO_TCP or IPPROTO_UDP */
	bool legacy_tcp;	/* the old TCPDIAG_GETSOCK request, see below */
	bool exact;		/* a lookup of addr:port instead of a dump, see below */
	uint32_t states;	/* bit per accepted socket state */
	uint16_t port;		/* host byte order */
	uint8_t addr[16];	/* with exact: the address, network order (IPv4: 4 bytes) */
	uint32_t seq;		/* the request's sequence number (set by _run) */
	/* out */
	bool done;		/* NLMSG_DONE (or an error) ended the dump */
	int error;		/* positive errno the kernel answered with, or 0 */
	size_t matches;		/* sockets on the port in an accepted state */
	size_t ninodes;
	uint32_t inodes[DOCK_SOCKDIAG_MAX_INODES];
};

/* The old inet_diag request (struct inet_diag_req, before sock_diag) still
 * exists for TCP and, unlike SOCK_DIAG_BY_FAMILY, lists IPv4 and IPv6
 * sockets in one dump: one walk of the kernel's listener hash instead of two.
 * Its answers carry its own message type. */
#define DOCK_TCPDIAG_GETSOCK		18
#define DOCK_INET_DIAG_REQ_V1_SIZE	60

/* An exact request makes the kernel look the port up in its hash tables as
 * a packet to addr:port would, instead of walking every bucket: a few
 * microseconds instead of tens, but it finds only the socket that would get
 * such a packet (one bound to addr or to the wildcard address, listening for
 * TCP), at most one per request. The answer is that socket, or ENOENT. */

/* Writes scan's request: a dump with a bytecode filter that has the kernel
 * answer only for sockets whose local port is scan->port, or with exact,
 * the lookup. Returns its length, or 0 when cap is too small. Pure. */
size_t dock_sockdiag_build_request(void *buf, size_t cap, const struct dock_sockdiag_scan *scan);

/* Parses one buffer of the kernel's answers (whole netlink messages, any
 * alignment), crediting each message to the scan with its sequence number;
 * others are ignored (the tail of an abandoned dump). Returns 0, or -1 when
 * the buffer is malformed. Pure: fuzzable. */
int dock_sockdiag_parse(struct dock_sockdiag_scan *scans, size_t n, const void *buf, size_t len);

#endif
