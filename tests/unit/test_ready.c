/* Readiness: the sock_diag request builder and answer parser (fed hand-built
 * kernel answers), the /proc parsers it falls back on, the process-tree
 * marking of --strict-port-binding, and the sd_notify datagram parser. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sockdiag.h"
#include "procfs.h"
#include "notify.h"
#include "unit.h"

/* ---- building kernel answers by hand, at the ABI's byte offsets */

struct answer {
	unsigned char buf[4096];
	size_t len;
};

static void put_u16(unsigned char *p, uint16_t v) { memcpy(p, &v, 2); }
static void put_u32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }

/* Appends a netlink header and payload, padded to 4 bytes. */
static unsigned char *add_msg(struct answer *a, uint16_t type, uint32_t seq, size_t plen)
{
	unsigned char *h = a->buf + a->len;

	memset(h, 0, 16 + ((plen + 3) & ~(size_t)3));
	put_u32(h, (uint32_t)(16 + plen));	/* nlmsg_len */
	put_u16(h + 4, type);			/* nlmsg_type */
	put_u16(h + 6, 0x2);			/* NLM_F_MULTI */
	put_u32(h + 8, seq);			/* nlmsg_seq */
	put_u32(h + 12, 1234);			/* nlmsg_pid */
	a->len += 16 + ((plen + 3) & ~(size_t)3);
	return h + 16;
}

/* A struct inet_diag_msg (72 bytes) plus an INET_DIAG_SHUTDOWN attribute,
 * as the kernel always appends one. */
static void add_sock(struct answer *a, uint16_t type, uint32_t seq, uint8_t family,
		     uint8_t state, uint16_t port, uint32_t inode)
{
	unsigned char *m = add_msg(a, type, seq, 72 + 8);

	m[0] = family;			/* idiag_family */
	m[1] = state;			/* idiag_state */
	put_u16(m + 4, htons(port));	/* id.idiag_sport, network order */
	put_u16(m + 6, htons(40000));	/* id.idiag_dport */
	put_u32(m + 8, htonl(0x7f000001));
	put_u32(m + 68, inode);		/* idiag_inode */
	put_u16(m + 72, 5);		/* nla_len */
	put_u16(m + 74, 8);		/* INET_DIAG_SHUTDOWN */
}

static void add_done(struct answer *a, uint32_t seq, int32_t status)
{
	unsigned char *p = add_msg(a, DOCK_NLMSG_DONE, seq, 4);

	memcpy(p, &status, 4);
}

static void add_error(struct answer *a, uint32_t seq, int32_t err)
{
	/* struct nlmsgerr: the error, then the offending request's header. */
	unsigned char *p = add_msg(a, DOCK_NLMSG_ERROR, seq, 4 + 16);

	memcpy(p, &err, 4);
}

static void scan_init(struct dock_sockdiag_scan *s, uint32_t seq, uint16_t port, uint32_t states)
{
	memset(s, 0, sizeof(*s));
	s->seq = seq;
	s->port = port;
	s->states = states;
}

static uint16_t get_u16(const unsigned char *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get_u32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }

UNIT_SUITE(test_ready_sockdiag_request)
{
	unsigned char buf[128];
	struct dock_sockdiag_scan s;
	size_t n;

	/* The ABI offsets the hand-built answers rely on. */
	CHECK_EQ_INT(sizeof(struct dock_inet_diag_msg), 72);
	CHECK_EQ_INT(offsetof(struct dock_inet_diag_msg, inode), 68);
	CHECK_EQ_INT(offsetof(struct dock_inet_diag_msg, id), 4);
	CHECK_EQ_INT(sizeof(struct dock_inet_diag_req_v2), 56);

	scan_init(&s, 77, 8080, 1u << DOCK_TCP_LISTEN);
	s.family = AF_INET6;
	s.protocol = IPPROTO_TCP;
	n = dock_sockdiag_build_request(buf, sizeof(buf), &s);
	CHECK_EQ_INT(n, 16 + 56 + 4 + 16);
	CHECK_EQ_INT(get_u32(buf), n);				/* nlmsg_len */
	CHECK_EQ_INT(get_u16(buf + 4), DOCK_SOCK_DIAG_BY_FAMILY);
	CHECK_EQ_INT(get_u16(buf + 6), 0x301);			/* REQUEST | DUMP */
	CHECK_EQ_INT(get_u32(buf + 8), 77);
	CHECK_EQ_INT(buf[16], AF_INET6);			/* sdiag_family */
	CHECK_EQ_INT(buf[17], IPPROTO_TCP);			/* sdiag_protocol */
	CHECK_EQ_INT(get_u32(buf + 20), 1u << 10);		/* idiag_states */
	CHECK_EQ_INT(get_u16(buf + 72), 20);			/* nla_len */
	CHECK_EQ_INT(get_u16(buf + 74), DOCK_INET_DIAG_REQ_BYTECODE);
	/* S_GE port (else past the end), S_LE port (else past the end). */
	CHECK_EQ_INT(buf[76], DOCK_INET_DIAG_BC_S_GE);
	CHECK_EQ_INT(buf[77], 8);
	CHECK_EQ_INT(get_u16(buf + 78), 20);
	CHECK_EQ_INT(get_u16(buf + 82), 8080);
	CHECK_EQ_INT(buf[84], DOCK_INET_DIAG_BC_S_LE);
	CHECK_EQ_INT(buf[85], 8);
	CHECK_EQ_INT(get_u16(buf + 86), 12);
	CHECK_EQ_INT(get_u16(buf + 90), 8080);
	CHECK_EQ_INT(n % 4, 0);

	/* The legacy TCP request: struct inet_diag_req, states at 4 + 48. */
	s.legacy_tcp = true;
	n = dock_sockdiag_build_request(buf, sizeof(buf), &s);
	CHECK_EQ_INT(n, 16 + 60 + 4 + 16);
	CHECK_EQ_INT(get_u16(buf + 4), DOCK_TCPDIAG_GETSOCK);
	CHECK_EQ_INT(get_u32(buf + 16 + 52), 1u << 10);
	CHECK_EQ_INT(get_u16(buf + 76), 20);
	CHECK_EQ_INT(get_u16(buf + 76 + 4 + 6), 8080);
	CHECK_EQ_INT(n % 4, 0);

	/* Too small a buffer. */
	CHECK_EQ_INT(dock_sockdiag_build_request(buf, 40, &s), 0);

	/* A lookup: no dump flag, no filter; port and address on both ends of
	 * the id (the kernel's TCP and UDP lookups read opposite ends), any
	 * cookie. */
	scan_init(&s, 78, 8080, ~0u);
	s.exact = true;
	s.family = AF_INET;
	s.protocol = IPPROTO_UDP;
	s.addr[0] = 127;
	s.addr[3] = 1;
	n = dock_sockdiag_build_request(buf, sizeof(buf), &s);
	CHECK_EQ_INT(n, 16 + 56);
	CHECK_EQ_INT(get_u32(buf), n);
	CHECK_EQ_INT(get_u16(buf + 4), DOCK_SOCK_DIAG_BY_FAMILY);
	CHECK_EQ_INT(get_u16(buf + 6), 0x1);			/* REQUEST only */
	CHECK_EQ_INT(get_u32(buf + 8), 78);
	CHECK_EQ_INT(buf[16], AF_INET);
	CHECK_EQ_INT(buf[17], IPPROTO_UDP);
	CHECK_EQ_INT(get_u16(buf + 24), htons(8080));		/* id.idiag_sport */
	CHECK_EQ_INT(get_u16(buf + 26), htons(8080));		/* id.idiag_dport */
	CHECK_EQ_INT(get_u32(buf + 28), htonl(0x7f000001));	/* id.idiag_src */
	CHECK_EQ_INT(get_u32(buf + 44), htonl(0x7f000001));	/* id.idiag_dst */
	CHECK_EQ_INT(get_u32(buf + 64), 0xffffffffu);		/* id.idiag_cookie */
	CHECK_EQ_INT(get_u32(buf + 68), 0xffffffffu);
	CHECK_EQ_INT(dock_sockdiag_build_request(buf, 16 + 55, &s), 0);
}

UNIT_SUITE(test_ready_sockdiag_parse)
{
	struct answer a;
	struct dock_sockdiag_scan s, multi[3];
	unsigned char *unaligned;
	size_t i;

	/* A listener on the port in each family, one on another port, one in
	 * the wrong state, one from a stale dump, then DONE. */
	memset(&a, 0, sizeof(a));
	add_sock(&a, DOCK_SOCK_DIAG_BY_FAMILY, 5, AF_INET, 10, 8080, 111);
	add_sock(&a, DOCK_SOCK_DIAG_BY_FAMILY, 5, AF_INET, 10, 8081, 112);
	add_sock(&a, DOCK_SOCK_DIAG_BY_FAMILY, 5, AF_INET6, 7, 8080, 113);
	add_sock(&a, DOCK_SOCK_DIAG_BY_FAMILY, 4, AF_INET, 10, 8080, 114);
	add_sock(&a, DOCK_SOCK_DIAG_BY_FAMILY, 5, AF_INET6, 10, 8080, 115);
	add_done(&a, 5, 0);
	scan_init(&s, 5, 8080, 1u << DOCK_TCP_LISTEN);
	CHECK_EQ_INT(dock_sockdiag_parse(&s, 1, a.buf, a.len), 0);
	CHECK(s.done);
	CHECK_EQ_INT(s.error, 0);
	CHECK_EQ_INT(s.matches, 2);
	CHECK_EQ_INT(s.ninodes, 2);
	CHECK_EQ_INT(s.inodes[0], 111);
	CHECK_EQ_INT(s.inodes[1], 115);

	/* UDP: any state counts (CLOSE when bound, ESTABLISHED connected). */
	scan_init(&s, 5, 8080, ~0u);
	CHECK_EQ_INT(dock_sockdiag_parse(&s, 1, a.buf, a.len), 0);
	CHECK_EQ_INT(s.matches, 3);

	/* Any alignment: the parser copies, never casts. */
	unaligned = malloc(a.len + 1);
	memcpy(unaligned + 1, a.buf, a.len);
	scan_init(&s, 5, 8080, 1u << DOCK_TCP_LISTEN);
	CHECK_EQ_INT(dock_sockdiag_parse(&s, 1, unaligned + 1, a.len), 0);
	CHECK_EQ_INT(s.matches, 2);
	free(unaligned);

	/* Split across two reads, at a message boundary: not done after the
	 * first. */
	scan_init(&s, 5, 8080, 1u << DOCK_TCP_LISTEN);
	CHECK_EQ_INT(dock_sockdiag_parse(&s, 1, a.buf, 96), 0);
	CHECK(!s.done);
	CHECK_EQ_INT(s.matches, 1);
	CHECK_EQ_INT(dock_sockdiag_parse(&s, 1, a.buf + 96, a.len - 96), 0);
	CHECK(s.done);
	CHECK_EQ_INT(s.matches, 2);

	/* Messages after the end of a scan's dump do not count. */
	memset(&a, 0, sizeof(a));
	add_done(&a, 9, 0);
	add_sock(&a, DOCK_SOCK_DIAG_BY_FAMILY, 9, AF_INET, 10, 80, 1);
	scan_init(&s, 9, 80, 1u << DOCK_TCP_LISTEN);
	CHECK_EQ_INT(dock_sockdiag_parse(&s, 1, a.buf, a.len), 0);
	CHECK_EQ_INT(s.matches, 0);

	/* A port's worth of sockets beyond the inodes kept still counts. */
	memset(&a, 0, sizeof(a));
	for (i = 0; i < DOCK_SOCKDIAG_MAX_INODES + 8; i++)
		add_sock(&a, DOCK_SOCK_DIAG_BY_FAMILY, 3, AF_INET, 10, 443, (uint32_t)(1000 + i));
	scan_init(&s, 3, 443, 1u << DOCK_TCP_LISTEN);
	CHECK_EQ_INT(dock_sockdiag_parse(&s, 1, a.buf, a.len), 0);
	CHECK_EQ_INT(s.matches, DOCK_SOCKDIAG_MAX_INODES + 8);
	CHECK_EQ_INT(s.ninodes, DOCK_SOCKDIAG_MAX_INODES);
	CHECK_EQ_INT(s.inodes[DOCK_SOCKDIAG_MAX_INODES - 1], 1000 + DOCK_SOCKDIAG_MAX_INODES - 1);

	/* Errors: NLMSG_ERROR (no udp_diag module: ENOENT), DONE carrying a
	 * failure, OVERRUN. */
	memset(&a, 0, sizeof(a));
	add_error(&a, 6, -ENOENT);
	scan_init(&s, 6, 53, ~0u);
	CHECK_EQ_INT(dock_sockdiag_parse(&s, 1, a.buf, a.len), 0);
	CHECK(s.done);
	CHECK_EQ_INT(s.error, ENOENT);
	memset(&a, 0, sizeof(a));
	add_done(&a, 6, -EINTR);
	scan_init(&s, 6, 53, ~0u);
	CHECK_EQ_INT(dock_sockdiag_parse(&s, 1, a.buf, a.len), 0);
	CHECK_EQ_INT(s.error, EINTR);
	memset(&a, 0, sizeof(a));
	add_msg(&a, DOCK_NLMSG_OVERRUN, 6, 0);
	scan_init(&s, 6, 53, ~0u);
	CHECK_EQ_INT(dock_sockdiag_parse(&s, 1, a.buf, a.len), 0);
	CHECK(s.done);
	CHECK_EQ_INT(s.error, ENOBUFS);
	/* A DONE without its status int (old kernels) is a clean end. */
	memset(&a, 0, sizeof(a));
	add_msg(&a, DOCK_NLMSG_DONE, 6, 0);
	scan_init(&s, 6, 53, ~0u);
	CHECK_EQ_INT(dock_sockdiag_parse(&s, 1, a.buf, a.len), 0);
	CHECK(s.done);
	CHECK_EQ_INT(s.error, 0);

	/* One buffer answering a batch: messages go to the scan of their
	 * sequence number; a dump still running makes the kernel refuse the
	 * next with EBUSY; the legacy TCP scan takes its own message type
	 * and not the other. */
	memset(&a, 0, sizeof(a));
	add_sock(&a, DOCK_TCPDIAG_GETSOCK, 20, AF_INET6, 10, 8080, 201);
	add_sock(&a, DOCK_SOCK_DIAG_BY_FAMILY, 20, AF_INET, 10, 8080, 202);
	add_error(&a, 21, -EBUSY);
	add_sock(&a, DOCK_SOCK_DIAG_BY_FAMILY, 22, AF_INET6, 7, 8080, 203);
	add_done(&a, 22, 0);
	add_done(&a, 20, 0);
	scan_init(&multi[0], 20, 8080, 1u << DOCK_TCP_LISTEN);
	multi[0].legacy_tcp = true;
	scan_init(&multi[1], 21, 8080, ~0u);
	scan_init(&multi[2], 22, 8080, ~0u);
	CHECK_EQ_INT(dock_sockdiag_parse(multi, 3, a.buf, a.len), 0);
	CHECK(multi[0].done && multi[1].done && multi[2].done);
	CHECK_EQ_INT(multi[0].matches, 1);
	CHECK_EQ_INT(multi[0].inodes[0], 201);
	CHECK_EQ_INT(multi[1].error, EBUSY);
	CHECK_EQ_INT(multi[1].matches, 0);
	CHECK_EQ_INT(multi[2].matches, 1);
	CHECK_EQ_INT(multi[2].inodes[0], 203);

	/* Lookups: the one socket ends the scan (no DONE follows), ENOENT is
	 * "none", another error stays an error; a socket in a state not asked
	 * for ends it without a match. */
	memset(&a, 0, sizeof(a));
	add_sock(&a, DOCK_SOCK_DIAG_BY_FAMILY, 30, AF_INET, 10, 8080, 301);
	add_error(&a, 31, -ENOENT);
	add_error(&a, 32, -EINVAL);
	add_sock(&a, DOCK_SOCK_DIAG_BY_FAMILY, 33, AF_INET6, 1, 8080, 304);
	for (i = 0; i < 3; i++) {
		scan_init(&multi[i], (uint32_t)(30 + i), 8080, 1u << DOCK_TCP_LISTEN);
		multi[i].exact = true;
	}
	CHECK_EQ_INT(dock_sockdiag_parse(multi, 3, a.buf, a.len), 0);
	CHECK(multi[0].done && multi[1].done && multi[2].done);
	CHECK_EQ_INT(multi[0].matches, 1);
	CHECK_EQ_INT(multi[0].inodes[0], 301);
	CHECK_EQ_INT(multi[1].error, 0);
	CHECK_EQ_INT(multi[1].matches, 0);
	CHECK_EQ_INT(multi[2].error, EINVAL);
	scan_init(&s, 33, 8080, 1u << DOCK_TCP_LISTEN);
	s.exact = true;
	CHECK_EQ_INT(dock_sockdiag_parse(&s, 1, a.buf, a.len), 0);
	CHECK(s.done);
	CHECK_EQ_INT(s.matches, 0);
	CHECK_EQ_INT(s.error, 0);

	/* Malformed: a header cut short, a length past the buffer or under a
	 * header, a socket message too short for inet_diag_msg, an error
	 * message without its int. */
	memset(&a, 0, sizeof(a));
	add_sock(&a, DOCK_SOCK_DIAG_BY_FAMILY, 1, AF_INET, 10, 80, 1);
	scan_init(&s, 1, 80, ~0u);
	CHECK_EQ_INT(dock_sockdiag_parse(&s, 1, a.buf, 10), -1);
	CHECK_EQ_INT(dock_sockdiag_parse(&s, 1, a.buf, 40), -1);
	put_u32(a.buf, 12);
	CHECK_EQ_INT(dock_sockdiag_parse(&s, 1, a.buf, a.len), -1);
	memset(&a, 0, sizeof(a));
	add_msg(&a, DOCK_SOCK_DIAG_BY_FAMILY, 1, 40);
	CHECK_EQ_INT(dock_sockdiag_parse(&s, 1, a.buf, a.len), -1);
	memset(&a, 0, sizeof(a));
	add_msg(&a, DOCK_NLMSG_ERROR, 1, 2);
	CHECK_EQ_INT(dock_sockdiag_parse(&s, 1, a.buf, a.len), -1);
	/* An unknown message type is skipped; an empty buffer is nothing. */
	memset(&a, 0, sizeof(a));
	add_msg(&a, 0x77, 1, 3);
	add_done(&a, 1, 0);
	scan_init(&s, 1, 80, ~0u);
	CHECK_EQ_INT(dock_sockdiag_parse(&s, 1, a.buf, a.len), 0);
	CHECK(s.done);
	CHECK_EQ_INT(dock_sockdiag_parse(&s, 1, a.buf, 0), 0);
}

UNIT_SUITE(test_ready_procnet)
{
	struct dock_proc_net_sock ns;
	const char *tcp4 = "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 "
			   "00000000     0        0 181487 1 00000000d9a94ad8 100 0 0 10 0   \n";
	const char *tcp6 = "   0: 00000000000000000000000001000000:8635 "
			   "00000000000000000000000000000000:0000 0A 00000000:00000000 "
			   "00:00000000 00000000     0        0 527849 1 00000000e3f93bb2 100 0 0 10 0";
	const char *udp4 = " 9327: 0100007F:8635 0100007F:0009 01 00000000:00000000 00:00000000 "
			   "00000000  1000        0 527851 2 00000000affa1978 0        ";
	const char *udp6 = " 9327: 00000000000000000000000001000000:0035 "
			   "00000000000000000000000000000000:0000 07 00000000:00000000 "
			   "00:00000000 00000000     0        0 4294967296 2 00000000de11d36b 0\n";
	const char *head = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
			   "retrnsmt   uid  timeout inode\n";
	uint64_t ino;

	CHECK_EQ_INT(dock_procfs_parse_net_sock(tcp4, strlen(tcp4), &ns), 0);
	CHECK_EQ_INT(ns.local_port, 8080);
	CHECK_EQ_INT(ns.state, 0x0A);
	CHECK_EQ_INT(ns.inode, 181487);
	CHECK_EQ_INT(dock_procfs_parse_net_sock(tcp6, strlen(tcp6), &ns), 0);
	CHECK_EQ_INT(ns.local_port, 0x8635);
	CHECK_EQ_INT(ns.inode, 527849);
	CHECK_EQ_INT(dock_procfs_parse_net_sock(udp4, strlen(udp4), &ns), 0);
	CHECK_EQ_INT(ns.local_port, 0x8635);
	CHECK_EQ_INT(ns.state, 1);
	CHECK_EQ_INT(ns.inode, 527851);
	CHECK_EQ_INT(dock_procfs_parse_net_sock(udp6, strlen(udp6), &ns), 0);
	CHECK_EQ_INT(ns.local_port, 53);
	CHECK_EQ_INT(ns.state, 7);
	CHECK_EQ_INT(ns.inode, 4294967296ULL);

	CHECK_EQ_INT(dock_procfs_parse_net_sock(head, strlen(head), &ns), -1);
	CHECK_EQ_INT(dock_procfs_parse_net_sock("", 0, &ns), -1);
	CHECK_EQ_INT(dock_procfs_parse_net_sock("\n", 1, &ns), -1);
	/* The length bounds the parse: the inode cut off is no line. */
	CHECK_EQ_INT(dock_procfs_parse_net_sock(tcp4, 88, &ns), -1);
	/* Addresses of another length, ports not of four hex digits, a bad
	 * state, a non-decimal inode. */
	{
		static const char *bad[] = {
			"0: 0100007:1F90 00000000:0000 0A 0:0 0:0 0 0 0 1",
			"0: 0100007F:1F9 00000000:0000 0A 0:0 0:0 0 0 0 1",
			"0: 0100007F:1F900 00000000:0000 0A 0:0 0:0 0 0 0 1",
			"0: 0100007G:1F90 00000000:0000 0A 0:0 0:0 0 0 0 1",
			"0: 0100007F:1F90 00000000:0000 0AB 0:0 0:0 0 0 0 1",
			"0: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 1x",
			"0: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0",
			"0: 0100007F:1F90 000000000000 0A 0:0 0:0 0 0 0 1",
			"x: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 1",
			"0 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 1",
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			CHECK_EQ_INT(dock_procfs_parse_net_sock(bad[i], strlen(bad[i]), &ns), -1);
		const char *good = "0: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 1";

		CHECK_EQ_INT(dock_procfs_parse_net_sock(good, strlen(good), &ns), 0);
		CHECK_EQ_INT(ns.inode, 1);
	}

	CHECK_EQ_INT(dock_procfs_parse_socket_link("socket:[12345]", 14, &ino), 0);
	CHECK_EQ_INT(ino, 12345);
	CHECK_EQ_INT(dock_procfs_parse_socket_link("socket:[]", 9, &ino), -1);
	CHECK_EQ_INT(dock_procfs_parse_socket_link("socket:[12a]", 12, &ino), -1);
	CHECK_EQ_INT(dock_procfs_parse_socket_link("socket:[123", 11, &ino), -1);
	CHECK_EQ_INT(dock_procfs_parse_socket_link("pipe:[12345]", 12, &ino), -1);
	CHECK_EQ_INT(dock_procfs_parse_socket_link("/dev/null", 9, &ino), -1);
	CHECK_EQ_INT(dock_procfs_parse_socket_link("anon_inode:[eventpoll]", 22, &ino), -1);
	/* Not NUL-terminated: the length bounds the parse. */
	CHECK_EQ_INT(dock_procfs_parse_socket_link("socket:[12345]xyz", 14, &ino), 0);
	CHECK_EQ_INT(ino, 12345);
}

static unsigned char inside_of(const struct dock_proc_link *tab, const unsigned char *in,
			       size_t n, pid_t pid)
{
	long i = dock_procfs_find_link(tab, n, pid);

	return i < 0 ? 9 : in[i];
}

UNIT_SUITE(test_ready_tree)
{
	/* dock is 100 (its parent 1). 101, 102 its children; 103 a grandchild;
	 * 104 a great-grandchild; 200 and 201 outside; 300 and 301 a cycle
	 * (reads of /proc at different moments); 400's parent is gone. */
	struct dock_proc_link tab[] = {
		{ 104, 103 }, { 1, 0 }, { 200, 1 }, { 103, 102 }, { 100, 1 }, { 101, 100 },
		{ 201, 200 }, { 102, 100 }, { 300, 301 }, { 301, 300 }, { 400, 399 },
	};
	size_t n = sizeof(tab) / sizeof(tab[0]), scratch[sizeof(tab) / sizeof(tab[0])];
	unsigned char in[sizeof(tab) / sizeof(tab[0])];
	size_t i;

	dock_procfs_mark_descendants(tab, n, 100, in, scratch);
	for (i = 1; i < n; i++)
		CHECK(tab[i - 1].pid < tab[i].pid);
	CHECK_EQ_INT(inside_of(tab, in, n, 101), 1);
	CHECK_EQ_INT(inside_of(tab, in, n, 102), 1);
	CHECK_EQ_INT(inside_of(tab, in, n, 103), 1);
	CHECK_EQ_INT(inside_of(tab, in, n, 104), 1);
	CHECK_EQ_INT(inside_of(tab, in, n, 100), 0);
	CHECK_EQ_INT(inside_of(tab, in, n, 1), 0);
	CHECK_EQ_INT(inside_of(tab, in, n, 200), 0);
	CHECK_EQ_INT(inside_of(tab, in, n, 201), 0);
	CHECK_EQ_INT(inside_of(tab, in, n, 300), 0);
	CHECK_EQ_INT(inside_of(tab, in, n, 301), 0);
	CHECK_EQ_INT(inside_of(tab, in, n, 400), 0);
	CHECK_EQ_INT(dock_procfs_find_link(tab, n, 999), -1);

	/* As PID 1 of a namespace, everything but dock is inside. */
	dock_procfs_mark_descendants(tab, n, 1, in, scratch);
	CHECK_EQ_INT(inside_of(tab, in, n, 1), 0);
	CHECK_EQ_INT(inside_of(tab, in, n, 201), 1);
	CHECK_EQ_INT(inside_of(tab, in, n, 104), 1);
	CHECK_EQ_INT(inside_of(tab, in, n, 300), 0);

	/* Nothing to mark. */
	dock_procfs_mark_descendants(tab, 0, 1, in, scratch);
}

UNIT_SUITE(test_ready_notify)
{
	static const char with_nul[] = "STATUS=a\0b\nREADY=1";

	CHECK(dock_notify_ready("READY=1", 7));
	CHECK(dock_notify_ready("READY=1\n", 8));
	CHECK(dock_notify_ready("STATUS=up\nREADY=1\nMAINPID=42\n", 29));
	CHECK(dock_notify_ready("MAINPID=42\nREADY=1", 18));
	CHECK(dock_notify_ready(with_nul, sizeof(with_nul) - 1));
	CHECK(!dock_notify_ready("", 0));
	CHECK(!dock_notify_ready("\n\n", 2));
	CHECK(!dock_notify_ready("READY=0", 7));
	CHECK(!dock_notify_ready("READY=10", 8));
	CHECK(!dock_notify_ready("READY=1 ", 8));
	CHECK(!dock_notify_ready(" READY=1", 8));
	CHECK(!dock_notify_ready("XREADY=1", 8));
	CHECK(!dock_notify_ready("STATUS=READY=1", 14));
	CHECK(!dock_notify_ready("ready=1", 7));
	/* The length bounds the parse. */
	CHECK(!dock_notify_ready("READY=1", 6));
	CHECK(!dock_notify_ready("STATUS=x\nREADY=1", 15));

	{
		char shown[8];

		dock_notify_printable(shown, sizeof(shown), "A=1\nB=\x1b", 7);
		CHECK_EQ_STR(shown, "A=1 B=?");
		/* Cut to the buffer, terminated. */
		dock_notify_printable(shown, sizeof(shown), "READY=1\n", 8);
		CHECK_EQ_STR(shown, "READY=1");
		dock_notify_printable(shown, sizeof(shown), "\x7f", 1);
		CHECK_EQ_STR(shown, "?");
		dock_notify_printable(shown, 1, "x", 1);
		CHECK_EQ_STR(shown, "");
	}
}
