#include "pump.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Bounded work per wake-up: a command writing flat out must not keep dock
 * from its signalfd. epoll is level-triggered, so what is left wakes the
 * loop again at once. */
#define STEPS_PER_RUN 16

/* A UDP datagram carries at most this much payload over IPv4. */
#define DGRAM_MAX 65507

#define MAX_PUMPS 4
#define MAX_ENDS 8

static struct dock_pump *pumps[MAX_PUMPS];
static int npumps;
static struct dock_end *ends[MAX_ENDS];
static int nends;

static void on_end_event(struct dock_watcher *w, uint32_t events)
{
	struct dock_end *e = w->data;

	if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		e->writable = true;
	dock_pumps_run();
}

void dock_end_init(struct dock_end *e, enum dock_end_type type, int fd)
{
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->fd = fd;
	e->pollable = type != DOCK_END_LOGFILE;
	e->w.fd = fd;
	e->w.cb = on_end_event;
	e->w.data = e;
}

void dock_pump_stamp(struct dock_prefix_state *st)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	dock_prefix_stamp(st, (int64_t)ts.tv_sec, ts.tv_nsec);
}

static void add_end(struct dock_end *e)
{
	int i;

	for (i = 0; i < nends; i++)
		if (ends[i] == e)
			return;
	if (nends < MAX_ENDS)
		ends[nends++] = e;
}

int dock_pump_init(struct dock_pump *p, struct dock_end *from, struct dock_end *to,
		   const struct dock_prefix *prefix, dock_pump_eof_fn on_eof)
{
	memset(p, 0, sizeof(*p));
	if (npumps == MAX_PUMPS)
		return -1;
	p->from = from;
	p->to = to;
	p->prefix = prefix;
	p->on_eof = on_eof;
	p->out = malloc(DOCK_PUMP_BUFSIZE);
	if (prefix != NULL)
		p->raw = malloc(DOCK_PUMP_BUFSIZE / 2);
	if (p->out == NULL || (prefix != NULL && p->raw == NULL)) {
		free(p->out);
		free(p->raw);
		errno = ENOMEM;
		return -1;
	}
	pumps[npumps++] = p;
	add_end(from);
	add_end(to);
	return 0;
}

ssize_t dock_end_read(struct dock_end *e, char *buf, size_t len)
{
	ssize_t n;

	for (;;) {
		switch (e->type) {
		case DOCK_END_TLS:
			n = dock_tls_read(e->tls, buf, len);
			if (dock_io_would_block(n))
				return n;
			if (n == DOCK_IO_ERROR) {
				dock_warnx("--io peer: TLS: %s", dock_tls_error(e->tls));
				return 0;
			}
			return n;
		case DOCK_END_SOCKET:
			n = recv(e->fd, buf, len, 0);
			break;
		default:
			n = read(e->fd, buf, len);
			break;
		}
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return DOCK_IO_WANT_READ;
		/* EIO: the pty's last slave closed; ECONNRESET: the peer went.
		 * Either way nothing more will come. */
		if (errno != EIO && errno != ECONNRESET)
			dock_warn("read from the command's stream");
		return 0;
	}
}

ssize_t dock_end_write(struct dock_end *e, const char *buf, size_t len)
{
	ssize_t n;

	for (;;) {
		switch (e->type) {
		case DOCK_END_TLS:
			n = dock_tls_write(e->tls, buf, len);
			if (n < 0)
				return n;
			if (dock_tls_flush(e->tls) == DOCK_IO_ERROR)
				return DOCK_IO_ERROR;
			return n;
		case DOCK_END_LOGFILE:
			n = dock_logfile_write(e->lf, buf, len);
			return n < 0 ? DOCK_IO_ERROR : n;
		case DOCK_END_SOCKET:
		case DOCK_END_DGRAM:
			n = send(e->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
			break;
		default:
			if (e->gated && e->pollable) {
				if (!e->writable)
					return DOCK_IO_WANT_WRITE;
				if (len > PIPE_BUF)
					len = PIPE_BUF;
				e->writable = false;
			}
			n = write(e->fd, buf, len);
			break;
		}
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return DOCK_IO_WANT_WRITE;
		e->dead_errno = errno;
		/* A datagram receiver that is not listening (ICMP unreachable) loses
		 * that datagram only; the next may find it up. */
		if (e->type == DOCK_END_DGRAM && (errno == ECONNREFUSED || errno == ENOBUFS))
			return (ssize_t)len;
		return DOCK_IO_ERROR;
	}
}

/* The most a line's head takes: the prefix, and the stamp with
 * --log-timestamps. */
static size_t head_max(const struct dock_pump *p)
{
	return p->timestamps ? DOCK_LINE_HEAD_MAX : DOCK_PREFIX_MAX;
}

static void mark_dead(struct dock_end *e)
{
	if (!e->write_dead)
		dock_debug("output destination (fd %d) gone: %s", e->fd,
			   e->dead_errno ? strerror(e->dead_errno) : "TLS error");
	e->write_dead = true;
}

/* The destination of p is gone for good: either close the command's end
 * of the pipe (see close_source) or, for a pty or a shared pipe, go on
 * reading and drop what comes, counted and reported once it ends. */
static void count_discarded(struct dock_pump *p, size_t n)
{
	if (n > 0 && p->discarded == 0 && !p->close_source)
		dock_warnx("output destination gone (%s): discarding the command's output",
			   p->to->dead_errno ? strerror(p->to->dead_errno) : "TLS error");
	p->discarded += n;
}

static void discard_out(struct dock_pump *p)
{
	count_discarded(p, p->out_len);
	p->out_len = 0;
	p->out_off = 0;
}

/* Sends the complete lines of out as one datagram each (without the
 * newline), a line longer than a datagram in pieces, and keeps a trailing
 * partial line at the buffer's start until its end or EOF arrives. */
static int flush_datagrams(struct dock_pump *p)
{
	int progress = 0;

	while (p->out_len > 0) {
		char *start = p->out + p->out_off;
		char *nl = memchr(start, '\n', p->out_len);
		size_t line = nl ? (size_t)(nl - start) : p->out_len;
		size_t chunk = line < DGRAM_MAX ? line : DGRAM_MAX;
		bool full = p->out_len > DOCK_PUMP_BUFSIZE - head_max(p) - 1;
		ssize_t n;

		if (nl == NULL && chunk == line && !p->eof && !full) {
			memmove(p->out, start, p->out_len);
			p->out_off = 0;
			return progress;
		}
		if (p->to->write_dead) {
			n = (ssize_t)chunk;
			count_discarded(p, chunk);
		} else if (chunk == 0) {
			n = 0;	/* an empty line: nothing to send */
		} else {
			n = dock_end_write(p->to, start, chunk);
			if (dock_io_would_block(n))
				return progress;
			if (n == DOCK_IO_ERROR) {
				mark_dead(p->to);
				n = (ssize_t)chunk;
				count_discarded(p, chunk);
			}
		}
		/* One datagram per send: what the kernel took is the chunk. */
		if ((size_t)n == line && nl != NULL)
			n++;	/* the newline itself */
		else
			n = (ssize_t)chunk;
		p->out_off += (size_t)n;
		p->out_len -= (size_t)n;
		progress = 1;
	}
	p->out_off = 0;
	return progress;
}

static int flush_out(struct dock_pump *p)
{
	int progress = 0;
	ssize_t n;

	if (p->to->type == DOCK_END_DGRAM)
		return flush_datagrams(p);
	while (p->out_len > 0) {
		if (p->to->write_dead) {
			discard_out(p);
			break;
		}
		n = dock_end_write(p->to, p->out + p->out_off, p->out_len);
		if (dock_io_would_block(n))
			return progress;
		if (n == DOCK_IO_ERROR) {
			mark_dead(p->to);
			discard_out(p);
			break;
		}
		p->out_off += (size_t)n;
		p->out_len -= (size_t)n;
		progress = 1;
	}
	p->out_off = 0;
	return progress;
}

static void source_ended(struct dock_pump *p)
{
	p->eof = true;
	p->from->read_eof = true;
	if (p->discarded > 0 && !p->close_source)
		dock_warnx("%llu bytes of the command's output discarded: their destination was gone",
			   p->discarded);
	if (p->on_eof)
		p->on_eof(p);
}

/* The command's pipe is closed under it: its next write fails with EPIPE
 * (or SIGPIPE kills it), exactly as writing to the vanished reader itself
 * would have done. */
static void close_source(struct dock_pump *p)
{
	struct dock_end *e = p->from;

	dock_debug("closing the command's output pipe (fd %d): its reader is gone", e->fd);
	if (e->registered)
		dock_loop_del(&e->w);
	e->registered = false;
	e->events = 0;
	e->pollable = false;
	close(e->fd);
	e->fd = e->w.fd = -1;
	p->raw_len = 0;
	p->out_len = 0;
	source_ended(p);
}

/* Room left for reading: everything when out is empty; behind a kept
 * partial line for datagrams. */
static size_t out_room(const struct dock_pump *p)
{
	if (p->out_len == 0)
		return DOCK_PUMP_BUFSIZE;
	if (p->to->type == DOCK_END_DGRAM && p->out_off == 0 &&
	    p->out_len < DOCK_PUMP_BUFSIZE - head_max(p) - 1)
		return DOCK_PUMP_BUFSIZE - p->out_len;
	return 0;
}

/* One round of work on a pump. Returns nonzero when something moved. */
static int pump_step(struct dock_pump *p)
{
	size_t room, consumed;
	ssize_t n;
	int progress = flush_out(p);

	if (p->to->write_dead && !p->eof) {
		if (p->close_source) {
			close_source(p);
			return 1;
		}
		/* Drop rather than prefix what nobody will read. */
		count_discarded(p, p->raw_len);
		p->raw_len = 0;
	}
	room = out_room(p);
	if (room == 0)
		return progress;
	if (p->prefix != NULL && p->raw_len > 0) {
		if (room <= head_max(p))
			return progress;
		n = (ssize_t)dock_prefix_apply(p->prefix, &p->pst, p->raw + p->raw_off, p->raw_len,
					       p->out + p->out_len, room, &consumed);
		p->out_len += (size_t)n;
		p->raw_off += consumed;
		p->raw_len -= consumed;
		return 1;
	}
	if (p->eof)
		return progress;
	if (p->prefix == NULL && p->to->type == DOCK_END_LOGFILE && !p->splice_failed &&
	    p->out_len == 0) {
		n = dock_logfile_splice(p->to->lf, p->from->fd, 1 << 20);
		if (n > 0)
			return 1;
		if (n == 0) {
			source_ended(p);
			return 1;
		}
		if (errno == EAGAIN)
			return progress;
		if (errno != EINTR)
			p->splice_failed = true;	/* EINVAL: fall back to copying */
		return 1;
	}
	if (p->prefix != NULL) {
		n = dock_end_read(p->from, p->raw, DOCK_PUMP_BUFSIZE / 2);
		if (n > 0) {
			p->raw_off = 0;
			p->raw_len = (size_t)n;
			if (p->timestamps)
				dock_pump_stamp(&p->pst);
		}
	} else {
		n = dock_end_read(p->from, p->out + p->out_len, room);
		if (n > 0)
			p->out_len += (size_t)n;
	}
	if (dock_io_would_block(n))
		return progress;
	if (n == 0) {
		source_ended(p);
		/* A kept partial datagram line goes out now. */
		flush_out(p);
	}
	return 1;
}

static bool wants_input(const struct dock_pump *p)
{
	return !p->eof && p->raw_len == 0 && out_room(p) > 0;
}

void dock_end_watch(struct dock_end *e, uint32_t ev)
{
	if (!e->pollable)
		return;
	/* TLS records may wait in the engine after the pump's bytes went in. */
	if (e->type == DOCK_END_TLS && !e->write_dead)
		ev |= ev != 0 ? dock_tls_events(e->tls) : (dock_tls_events(e->tls) & EPOLLOUT);
	if (ev == e->events && e->registered)
		return;
	/* An end that waits for nothing leaves epoll entirely: a hung-up pipe
	 * would otherwise report EPOLLHUP on every wait while its pump cannot
	 * take more. */
	if (ev == 0) {
		if (e->registered)
			dock_loop_del(&e->w);
		e->registered = false;
	} else if (e->registered) {
		if (dock_loop_mod(&e->w, ev) < 0)
			dock_warn("epoll_ctl");
	} else if (dock_loop_add(&e->w, ev) == 0) {
		e->registered = true;
	} else if (errno == EPERM) {
		/* /dev/null and the like cannot be polled: always ready. */
		e->pollable = false;
	} else {
		dock_warn("epoll_ctl");
	}
	e->events = ev;
}

static void update_interest(struct dock_end *e)
{
	uint32_t ev = 0;
	int i;

	for (i = 0; i < npumps; i++) {
		struct dock_pump *p = pumps[i];

		if (p->from == e && wants_input(p))
			ev |= EPOLLIN;
		if (p->to == e && p->out_len > 0 && !e->write_dead &&
		    !(e->type == DOCK_END_DGRAM && out_room(p) > 0 && !p->eof))
			ev |= EPOLLOUT;
	}
	dock_end_watch(e, ev);
}

static struct dock_timer again;

static void run_again(struct dock_timer *t)
{
	(void)t;
	dock_pumps_run();
}

/* Work that no fd event will announce: prefixed input not yet rendered, or
 * output for an end epoll cannot watch (a regular file, /dev/null). */
static bool work_left(void)
{
	int i;

	for (i = 0; i < npumps; i++) {
		struct dock_pump *p = pumps[i];

		if (p->raw_len > 0 && out_room(p) > head_max(p))
			return true;
		if (p->out_len > 0 && !p->to->pollable && !p->to->write_dead)
			return true;
	}
	return false;
}

void dock_pumps_run(void)
{
	int i, round, moved;

	for (round = 0; round < STEPS_PER_RUN; round++) {
		moved = 0;
		for (i = 0; i < npumps; i++)
			moved |= pump_step(pumps[i]);
		if (!moved)
			break;
	}
	/* A pump whose destination is gone must not sit on a full buffer
	 * (no event would ever empty it): what it holds is dropped now. */
	for (i = 0; i < npumps; i++) {
		struct dock_pump *p = pumps[i];

		if (p->to->write_dead && p->to->type != DOCK_END_DGRAM) {
			count_discarded(p, p->raw_len);
			p->raw_len = 0;
			discard_out(p);
		}
	}
	for (i = 0; i < nends; i++) {
		struct dock_end *e = ends[i];

		if (e->type == DOCK_END_TLS && !e->write_dead &&
		    dock_tls_flush(e->tls) == DOCK_IO_ERROR)
			mark_dead(e);
		update_interest(e);
	}
	if (work_left()) {
		again.cb = run_again;
		dock_timer_arm(&again, dock_now_ms());
	}
}

bool dock_pumps_busy(void)
{
	int i;

	for (i = 0; i < npumps; i++) {
		struct dock_pump *p = pumps[i];

		if (p->input || p->to->write_dead)
			continue;
		if (!p->eof || p->out_len > 0 || p->raw_len > 0)
			return true;
	}
	for (i = 0; i < nends; i++)
		if (ends[i]->type == DOCK_END_TLS && !ends[i]->write_dead &&
		    (dock_tls_events(ends[i]->tls) & EPOLLOUT))
			return true;
	return false;
}
