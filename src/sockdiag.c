#include "sockdiag.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Room for one request: the longest, a filtered legacy TCP dump, takes
 * 96 bytes. */
#define REQUEST_MAX 128

/* Requests run at once: three or four dumps, or up to sixteen lookups. */
#define MAX_SCANS 16
/* Answers read by one recvmmsg, and the room for each. The kernel sizes a
 * dump's buffers by the reader's largest recv (capped at 32 KiB), so 8 KiB
 * slots are never cut; smaller ones also spare it 32 KiB allocations. As
 * many slots as requests, so that a batch of lookups (one answer each) is
 * read in one call; a slot's pages are touched only when an answer fills
 * them. */
#define SLOTS MAX_SCANS
#define SLOT_SIZE 8192
/* A bound on the reads of one batch: the port filter keeps answers to a
 * few messages, and even an unfiltered dump of 100 000 sockets takes some
 * 300 reads. Past this, something is wrong: give up this probe. */
#define MAX_READS 4096

int dock_sockdiag_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, DOCK_NETLINK_SOCK_DIAG);
	int one = 1;

	/* A lookup that finds nothing is answered with an error message, which
	 * by default carries a copy of the request: not needed, and smaller
	 * answers are cheaper to make and to read. Linux 4.3 and later; older
	 * ones just copy. */
	if (fd >= 0)
		setsockopt(fd, DOCK_SOL_NETLINK, DOCK_NETLINK_CAP_ACK, &one, sizeof(one));
	return fd;
}

static bool all_done(const struct dock_sockdiag_scan *scans, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!scans[i].done)
			return false;
	return true;
}

/* Sends every dump not yet ended, in one message. Returns how many. */
static int send_pending(int fd, struct dock_sockdiag_scan *scans, size_t n, uint32_t *seq)
{
	static unsigned char reqs[MAX_SCANS][REQUEST_MAX] __attribute__((aligned(8)));
	struct dock_sockaddr_nl kernel = { .family = AF_NETLINK };
	struct iovec iov[MAX_SCANS];
	struct msghdr mh;
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		struct dock_sockdiag_scan *s = &scans[i];

		if (s->done)
			continue;
		s->seq = ++*seq;
		s->error = 0;
		s->matches = 0;
		s->ninodes = 0;
		iov[k].iov_base = reqs[k];
		iov[k].iov_len = dock_sockdiag_build_request(reqs[k], REQUEST_MAX, s);
		k++;
	}
	if (k == 0)
		return 0;
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &kernel;
	mh.msg_namelen = sizeof(kernel);
	mh.msg_iov = iov;
	mh.msg_iovlen = k;
	while (sendmsg(fd, &mh, 0) < 0)
		if (errno != EINTR)
			return -1;
	return (int)k;
}

/* Where the answers land: each answer touches the pages of its slot, which
 * then stay resident until dock_sockdiag_release() gives them back. */
static unsigned char slot[SLOTS][SLOT_SIZE] __attribute__((aligned(4096)));

void dock_sockdiag_release(void)
{
	madvise(slot, sizeof(slot), MADV_DONTNEED);
}

/* Reads answers until every dump has ended. */
static int read_answers(int fd, struct dock_sockdiag_scan *scans, size_t n)
{
	struct dock_sockaddr_nl from[SLOTS];
	struct mmsghdr mm[SLOTS];
	struct iovec iov[SLOTS];
	int got, j, reads = 0;

	while (!all_done(scans, n)) {
		if (++reads > MAX_READS) {
			errno = EAGAIN;
			return -1;
		}
		memset(mm, 0, sizeof(mm));
		for (j = 0; j < SLOTS; j++) {
			iov[j].iov_base = slot[j];
			iov[j].iov_len = SLOT_SIZE;
			mm[j].msg_hdr.msg_name = &from[j];
			mm[j].msg_hdr.msg_namelen = sizeof(from[j]);
			mm[j].msg_hdr.msg_iov = &iov[j];
			mm[j].msg_hdr.msg_iovlen = 1;
		}
		/* The kernel writes a dump's first part during sendmsg and
		 * each next part during the recv that drains the previous
		 * one, so on this non-blocking socket running dry before
		 * every dump has ended means an answer broke off. */
		got = recvmmsg(fd, mm, SLOTS, MSG_DONTWAIT, NULL);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0) {
			errno = EAGAIN;
			return -1;
		}
		for (j = 0; j < got; j++) {
			if (mm[j].msg_hdr.msg_flags & MSG_TRUNC) {
				errno = EMSGSIZE;
				return -1;
			}
			/* Another process may send to dock's netlink port;
			 * only the kernel's word counts. */
			if (mm[j].msg_hdr.msg_namelen < sizeof(from[j]) ||
			    from[j].family != AF_NETLINK || from[j].pid != 0)
				continue;
			if (dock_sockdiag_parse(scans, n, slot[j], mm[j].msg_len) < 0) {
				errno = EPROTO;
				return -1;
			}
		}
	}
	return 0;
}

int dock_sockdiag_run(int fd, struct dock_sockdiag_scan *scans, size_t n, uint32_t *seq)
{
	size_t i, round;
	bool busy;

	if (n > MAX_SCANS) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < n; i++)
		scans[i].done = false;
	/* A socket runs one dump at a time. A dump with nothing to report
	 * ends within the sendmsg, so the next request of the batch finds the
	 * socket free; one that found sockets is still running then, and the
	 * requests behind it are refused with EBUSY: those go again once it
	 * has been read. Each round ends at least one dump. */
	for (round = 0; round < n; round++) {
		if (send_pending(fd, scans, n, seq) < 0 || read_answers(fd, scans, n) < 0)
			return -1;
		busy = false;
		for (i = 0; i < n; i++) {
			if (scans[i].error == EBUSY) {
				scans[i].done = false;
				busy = true;
			}
		}
		if (!busy)
			return 0;
	}
	errno = EBUSY;
	return -1;
}
