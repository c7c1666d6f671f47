/* Pumps move bytes from one endpoint to another inside the loop: the
 * command's output to dock's stdout, a file, a peer or datagrams; a peer's
 * input to the command's terminal. Each has a fixed buffer; when the
 * destination is slow the pump stops reading its source, so the command
 * blocks in write() instead of dock buffering without bound. */
#ifndef DOCK_PUMP_H
#define DOCK_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ioresult.h"
#include "logfile.h"
#include "loop.h"
#include "prefix.h"
#include "tls.h"

enum dock_end_type {
	DOCK_END_FD,		/* pipe, pty master, tty or inherited fd: read/write */
	DOCK_END_SOCKET,	/* stream socket: recv/send without SIGPIPE */
	DOCK_END_TLS,		/* stream socket with a TLS session */
	DOCK_END_DGRAM,		/* connected datagram socket: a datagram per line */
	DOCK_END_LOGFILE,	/* the --io log file */
};

struct dock_end {
	enum dock_end_type type;
	int fd;
	bool pollable;		/* epoll works on fd (not a regular file) */
	struct dock_tls *tls;
	struct dock_logfile *lf;
	struct dock_watcher w;
	bool registered;
	uint32_t events;	/* epoll interest now */
	bool read_eof;		/* nothing more will come from this end */
	bool write_dead;	/* writes fail for good: output is discarded */
	int dead_errno;		/* why */
	/* A blocking fd (dock could not get a non-blocking description of
	 * its own): written only after epoll said it is writable, at most
	 * PIPE_BUF bytes at a time, which a pipe then takes without waiting. */
	bool gated;
	bool writable;
};

struct dock_pump;
typedef void (*dock_pump_eof_fn)(struct dock_pump *p);

#define DOCK_PUMP_BUFSIZE 65536

struct dock_pump {
	struct dock_end *from, *to;
	const struct dock_prefix *prefix;	/* NULL: bytes pass as they are */
	bool timestamps;			/* with a prefix (len 0 allowed) */
	struct dock_prefix_state pst;
	dock_pump_eof_fn on_eof;		/* the source ended */
	bool input;				/* peer to command: not drained at exit */
	/* When the destination goes away, close the command's pipe (it then
	 * gets EPIPE or SIGPIPE, as it would writing there itself) instead
	 * of reading and discarding what it writes. */
	bool close_source;
	unsigned long long discarded;		/* bytes dropped after the end died */
	bool eof;
	bool splice_failed;
	/* Raw input awaiting the prefixer (only with a prefix). */
	char *raw;
	size_t raw_off, raw_len;
	/* Output awaiting the destination. */
	char *out;
	size_t out_off, out_len;
};

/* Prepares an end; fd must be non-blocking unless the end is a regular
 * file. */
void dock_end_init(struct dock_end *e, enum dock_end_type type, int fd);

/* Reads from an end: bytes read, 0 at its end (or a reset, or a pty whose
 * last slave closed, or a TLS failure, said once), or DOCK_IO_WANT_READ /
 * DOCK_IO_WANT_WRITE (a TLS end may need to send first). */
ssize_t dock_end_read(struct dock_end *e, char *buf, size_t len);

/* Writes to an end: bytes taken (a datagram end: one datagram, all of
 * len), DOCK_IO_WANT_WRITE / DOCK_IO_WANT_READ (a TLS end may need to
 * receive first), or DOCK_IO_ERROR when it refuses for good. */
ssize_t dock_end_write(struct dock_end *e, const char *buf, size_t len);

/* Makes epoll watch e for ev (EPOLLIN, EPOLLOUT; a TLS end adds what its
 * engine waits for); an end that waits for nothing leaves epoll, and one
 * epoll refuses (a regular file, /dev/null) becomes not pollable. */
void dock_end_watch(struct dock_end *e, uint32_t ev);

/* Reads the wall clock and makes it the stamp of the lines st starts from
 * now on (--log-timestamps): called once per read from the command. */
void dock_pump_stamp(struct dock_prefix_state *st);

/* Sets up a pump (allocating its buffers) and registers its ends. */
int dock_pump_init(struct dock_pump *p, struct dock_end *from, struct dock_end *to,
		   const struct dock_prefix *prefix, dock_pump_eof_fn on_eof);

/* Moves what can move now in every pump, then updates epoll interest. */
void dock_pumps_run(void);

/* True while some output pump still has bytes to deliver or a source to
 * read (input pumps, from a peer to the command, are not waited for). */
bool dock_pumps_busy(void);

#endif
