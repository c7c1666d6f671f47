/* The fan-out of the command's output to several destinations; the rules
 * are in fanout.h, the state it shares with fanout_feed.c (which fills
 * the queues) in fanout_state.h. Here: the destinations, each queue
 * written out, the interactive peer's input, epoll interest and the timer. */
#include "fanout.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fanout_state.h"
#include "log.h"

#define LOSSLESS_QUEUE (2 * DOCK_PUMP_BUFSIZE)
/* Lines admitted below the bound may still take this much past it; a line
 * that reaches the queue's end is cut there and the rest dropped. */
#define LOSSY_SLACK DOCK_PUMP_BUFSIZE
/* As in pump.c: bounded work per wake-up, epoll is level-triggered. */
#define STEPS_PER_RUN 16
#define DGRAM_MAX 65507

struct dock_fanout_state dock_fanout;

static void on_event(struct dock_watcher *w, uint32_t events)
{
	(void)w;
	(void)events;
	dock_fanout_run();
}

static void on_timer(struct dock_timer *t)
{
	(void)t;
	dock_fanout_run();
}

struct dock_end *dock_fanout_add_sink(enum dock_end_type type, int fd, unsigned streams,
				      bool lossy, const char *name)
{
	struct dock_fanout_sink *k;
	int i;

	if (dock_fanout.nsink == DOCK_FANOUT_MAX_SINKS) {
		errno = ENOSPC;
		return NULL;
	}
	k = &dock_fanout.sink[dock_fanout.nsink];
	memset(k, 0, sizeof(*k));
	k->q.cap = lossy ? DOCK_FANOUT_QUEUE + LOSSY_SLACK : LOSSLESS_QUEUE;
	k->bound = lossy ? DOCK_FANOUT_QUEUE : k->q.cap;
	/* Pages of a big queue become resident only once a slow peer fills
	 * them. */
	k->q.buf = malloc(k->q.cap);
	if (k->q.buf == NULL)
		return NULL;
	dock_end_init(&k->end, type, fd);
	k->end.w.cb = on_event;
	k->streams = streams;
	k->lossy = lossy;
	k->name = name;
	k->owner = -1;
	for (i = 0; i < dock_fanout.nsrc; i++)
		dock_fanout.src[i].pairs[dock_fanout.nsink].active = (streams & dock_fanout.src[i].stream) != 0;
	dock_fanout.nsink++;
	return &k->end;
}

struct dock_end *dock_fanout_add_source(int fd, enum dock_stream stream,
					const struct dock_prefix *prefix, bool timestamps)
{
	struct dock_fanout_source *s;
	int i;

	if (dock_fanout.nsrc == DOCK_FANOUT_MAX_SOURCES) {
		errno = ENOSPC;
		return NULL;
	}
	s = &dock_fanout.src[dock_fanout.nsrc];
	memset(s, 0, sizeof(*s));
	s->raw = malloc(DOCK_FANOUT_RAW_SIZE);
	if (s->raw == NULL)
		return NULL;
	dock_end_init(&s->end, DOCK_END_FD, fd);
	s->end.w.cb = on_event;
	s->stream = stream;
	s->prefix = prefix;
	s->timestamps = timestamps;
	for (i = 0; i < dock_fanout.nsink; i++)
		s->pairs[i].active = (dock_fanout.sink[i].streams & stream) != 0;
	dock_fanout.nsrc++;
	return &s->end;
}

void dock_fanout_set_input(struct dock_end *peer, struct dock_end *master, void (*on_eof)(void))
{
	dock_fanout.peer = peer;
	dock_fanout.master = master;
	dock_fanout.on_eof = on_eof;
}

/* ---- writing a sink's queue */

/* True when every source k takes has ended and been taken. */
static bool sources_done(const struct dock_fanout_sink *k)
{
	int i;

	for (i = 0; i < dock_fanout.nsrc; i++) {
		const struct dock_fanout_source *s = &dock_fanout.src[i];

		if (s->pairs[k - dock_fanout.sink].active && (!s->eof || !dock_fanout_all_taken(s)))
			return false;
	}
	return true;
}

/* One datagram per line, without its newline; a line longer than a
 * datagram in pieces. An unfinished line waits for its end, unless the
 * streams have ended. Returns the bytes to take off the queue, 0 to wait;
 * *len gets the datagram's size. */
static size_t next_datagram(const struct dock_fanout_sink *k, size_t *len)
{
	size_t nl = dock_ring_find(&k->q, '\n', DGRAM_MAX + 1);

	if (nl != SIZE_MAX) {
		*len = nl;
		return nl + 1;
	}
	if (k->q.len > DGRAM_MAX) {
		*len = DGRAM_MAX;
		return DGRAM_MAX;
	}
	if (sources_done(k)) {
		*len = k->q.len;
		return k->q.len;
	}
	return 0;
}

static bool flush(struct dock_fanout_sink *k)
{
	bool moved = false;
	size_t len, consume;
	ssize_t n;

	k->blocked = false;
	while (k->q.len > 0) {
		if (k->end.write_dead) {
			dock_fanout_mark_dead(k);
			return true;
		}
		if (k->end.type == DOCK_END_DGRAM) {
			consume = next_datagram(k, &len);
			if (consume == 0)
				break;
			/* An empty line: nothing to send. */
			n = len == 0 ? 0 :
				dock_end_write(&k->end, dock_ring_linear(&k->q, len, dock_fanout.scratch), len);
		} else {
			const char *head = dock_ring_head(&k->q, &len);

			n = dock_end_write(&k->end, head, len);
			consume = n > 0 ? (size_t)n : 0;
		}
		if (dock_io_would_block(n)) {
			k->blocked = true;
			return moved;
		}
		if (n == DOCK_IO_ERROR) {
			dock_fanout_mark_dead(k);
			return true;
		}
		dock_ring_skip(&k->q, consume);
		moved = true;
	}
	/* Caught up: the episode of drops, if any, is over. */
	if (k->q.len == 0)
		dock_fanout_report_drops(k);
	return moved;
}

/* ---- an interactive peer's input to the terminal */

static bool move_input(void)
{
	bool moved = false;
	ssize_t n;

	if (dock_fanout.peer == NULL)
		return false;
	if (dock_fanout.in_len > 0) {
		n = dock_end_write(dock_fanout.master, dock_fanout.in + dock_fanout.in_off, dock_fanout.in_len);
		if (dock_io_would_block(n))
			return false;
		/* The terminal is gone: the command is ending, input has no
		 * reader left. */
		if (n == DOCK_IO_ERROR)
			n = (ssize_t)dock_fanout.in_len;
		dock_fanout.in_off += (size_t)n;
		dock_fanout.in_len -= (size_t)n;
		moved = true;
		if (dock_fanout.in_len > 0)
			return moved;
	}
	if (dock_fanout.in_eof)
		return moved;
	n = dock_end_read(dock_fanout.peer, dock_fanout.in, sizeof(dock_fanout.in));
	if (dock_io_would_block(n))
		return moved;
	if (n == 0) {
		dock_fanout.in_eof = true;
		dock_fanout.peer->read_eof = true;
		if (dock_fanout.on_eof != NULL)
			dock_fanout.on_eof();
		return true;
	}
	dock_fanout.in_off = 0;
	dock_fanout.in_len = (size_t)n;
	return true;
}

/* ---- epoll interest and the timer */

static uint32_t interest(const struct dock_end *e)
{
	uint32_t ev = 0;
	int i;

	for (i = 0; i < dock_fanout.nsrc; i++) {
		const struct dock_fanout_source *s = &dock_fanout.src[i];

		if (e == &s->end && !s->eof && dock_fanout_all_taken(s))
			ev |= EPOLLIN;
	}
	for (i = 0; i < dock_fanout.nsink; i++) {
		const struct dock_fanout_sink *k = &dock_fanout.sink[i];

		if (e == &k->end && k->q.len > 0 && !e->write_dead &&
		    (k->end.type != DOCK_END_DGRAM || k->blocked))
			ev |= EPOLLOUT;
	}
	if (e == dock_fanout.peer && !dock_fanout.in_eof && dock_fanout.in_len == 0)
		ev |= EPOLLIN;
	if (e == dock_fanout.master && dock_fanout.in_len > 0)
		ev |= EPOLLOUT;
	return ev;
}

/* The next time the fan-out must run without an fd event: at once when a
 * sink epoll cannot watch holds output (or the last round still moved), at
 * the end of a hold, at a periodic drop report. -1: never. */
static int64_t next_wakeup(bool again, int64_t now)
{
	int64_t at = again ? now : -1;
	int i;

	for (i = 0; i < dock_fanout.nsink; i++) {
		const struct dock_fanout_sink *k = &dock_fanout.sink[i];
		int64_t t = -1;

		if (k->q.len > 0 && !k->end.pollable && !k->end.write_dead)
			t = now;
		else if (k->holding && k->owner >= 0)
			t = k->held_since + DOCK_FANOUT_HOLD_MS;
		if (t >= 0 && (at < 0 || t < at))
			at = t;
		if (k->dropped > 0 && (at < 0 || k->report_at < at))
			at = k->report_at;
	}
	return at;
}

void dock_fanout_run(void)
{
	int64_t now = dock_now_ms(), at;
	bool moved = false;
	int round, i;

	for (round = 0; round < STEPS_PER_RUN; round++) {
		moved = false;
		for (i = 0; i < dock_fanout.nsink; i++)
			moved |= flush(&dock_fanout.sink[i]);
		for (i = 0; i < dock_fanout.nsrc; i++)
			moved |= dock_fanout_step_source(i, now);
		moved |= move_input();
		if (!moved)
			break;
	}
	for (i = 0; i < dock_fanout.nsink; i++) {
		struct dock_fanout_sink *k = &dock_fanout.sink[i];

		if (k->end.type == DOCK_END_TLS && !k->end.write_dead &&
		    dock_tls_flush(k->end.tls) == DOCK_IO_ERROR)
			dock_fanout_mark_dead(k);
		if (k->dropped > 0 && now >= k->report_at)
			dock_fanout_report_drops(k);
		dock_end_watch(&k->end, interest(&k->end));
	}
	for (i = 0; i < dock_fanout.nsrc; i++)
		dock_end_watch(&dock_fanout.src[i].end, interest(&dock_fanout.src[i].end));
	at = next_wakeup(moved, now);
	if (at < 0) {
		dock_timer_cancel(&dock_fanout.timer);
	} else {
		dock_fanout.timer.cb = on_timer;
		dock_timer_arm(&dock_fanout.timer, at);
	}
}

bool dock_fanout_busy(void)
{
	int i;

	for (i = 0; i < dock_fanout.nsrc; i++)
		if (!dock_fanout.src[i].eof || !dock_fanout_all_taken(&dock_fanout.src[i]))
			return true;
	for (i = 0; i < dock_fanout.nsink; i++) {
		const struct dock_fanout_sink *k = &dock_fanout.sink[i];

		if (k->end.write_dead)
			continue;
		if (k->q.len > 0)
			return true;
		if (k->end.type == DOCK_END_TLS && (dock_tls_events(k->end.tls) & EPOLLOUT))
			return true;
	}
	return false;
}

void dock_fanout_close(void)
{
	int i;

	dock_timer_cancel(&dock_fanout.timer);
	for (i = 0; i < dock_fanout.nsink; i++) {
		struct dock_fanout_sink *k = &dock_fanout.sink[i];

		/* What a lossy queue still holds never reached its peer. */
		if (k->lossy && !k->end.write_dead && k->q.len > 0) {
			while (k->q.len > 0) {
				size_t nl = dock_ring_find(&k->q, '\n', k->q.len);

				k->dropped++;
				dock_ring_skip(&k->q, nl == SIZE_MAX ? k->q.len : nl + 1);
			}
		}
		dock_fanout_report_drops(k);
		free(k->q.buf);
		k->q.buf = NULL;
	}
	for (i = 0; i < dock_fanout.nsrc; i++) {
		free(dock_fanout.src[i].raw);
		dock_fanout.src[i].raw = NULL;
	}
	dock_fanout.nsink = dock_fanout.nsrc = 0;
}
