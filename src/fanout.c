/* The fan-out of the command's output to several destinations; the rules
 * are in fanout.h.
 *
 * Each source (a pipe of the command, or its terminal's master) holds one
 * read at a time. Every destination ("sink") that takes the source keeps
 * its own position in that read and its own line state (struct pair), and
 * renders from it into its own ring queue; the source reads again only once
 * every sink has taken the whole read. So a lossless sink that is full stops
 * the reading, and a lossy one never does: it drops instead. The time stamp
 * is taken once per read and given to every pair. */
#include "fanout.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "loop.h"
#include "options.h"
#include "ring.h"

#define MAX_SOURCES 2
#define MAX_SINKS (DOCK_MAX_IO + 1)	/* "-" is two sinks: stdout, stderr */
/* A pipe holds 64 KiB: one read can take all of it. */
#define RAW_SIZE DOCK_PUMP_BUFSIZE
#define LOSSLESS_QUEUE (2 * DOCK_PUMP_BUFSIZE)
/* Lines admitted below the bound may still take this much past it; a line
 * that reaches the queue's end is cut there and the rest dropped. */
#define LOSSY_SLACK DOCK_PUMP_BUFSIZE
/* Rendering goes through here; also holds a datagram that wraps the ring. */
#define SCRATCH_SIZE DOCK_PUMP_BUFSIZE
#define INPUT_SIZE 16384
/* As in pump.c: bounded work per wake-up, epoll is level-triggered. */
#define STEPS_PER_RUN 16
#define DGRAM_MAX 65507
/* While a drop episode lasts: one warning this often. */
#define DROP_REPORT_MS 60000

struct pair {
	bool active;			/* the sink takes this source */
	bool dropping;			/* the rest of the current line is dropped */
	size_t taken;			/* of the source's current read */
	struct dock_prefix_state pst;
};

struct source {
	struct dock_end end;
	enum dock_stream stream;
	const struct dock_prefix *prefix;
	bool timestamps;
	bool eof;
	char *raw;
	size_t raw_len;
	struct pair pairs[MAX_SINKS];
};

struct sink {
	struct dock_end end;
	unsigned streams;
	bool lossy;
	bool blocked;			/* its last write would have blocked */
	const char *name;
	struct dock_ring q;
	size_t bound;			/* a lossy queue: no line starts past this */
	int owner;			/* source whose line is unfinished here, or -1 */
	bool holding;			/* a line of the other source waits since held_since */
	int64_t held_since;
	uint64_t dropped;		/* lines, this episode */
	int64_t report_at;
};

static struct {
	struct source src[MAX_SOURCES];
	int nsrc;
	struct sink sink[MAX_SINKS];
	int nsink;
	/* An interactive peer's bytes on their way to the terminal. */
	struct dock_end *peer, *master;
	void (*on_eof)(void);
	char in[INPUT_SIZE];
	size_t in_off, in_len;
	bool in_eof;
	struct dock_timer timer;
	char scratch[SCRATCH_SIZE];
} fo;

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
	struct sink *k;
	int i;

	if (fo.nsink == MAX_SINKS) {
		errno = ENOSPC;
		return NULL;
	}
	k = &fo.sink[fo.nsink];
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
	for (i = 0; i < fo.nsrc; i++)
		fo.src[i].pairs[fo.nsink].active = (streams & fo.src[i].stream) != 0;
	fo.nsink++;
	return &k->end;
}

struct dock_end *dock_fanout_add_source(int fd, enum dock_stream stream,
					const struct dock_prefix *prefix, bool timestamps)
{
	struct source *s;
	int i;

	if (fo.nsrc == MAX_SOURCES) {
		errno = ENOSPC;
		return NULL;
	}
	s = &fo.src[fo.nsrc];
	memset(s, 0, sizeof(*s));
	s->raw = malloc(RAW_SIZE);
	if (s->raw == NULL)
		return NULL;
	dock_end_init(&s->end, DOCK_END_FD, fd);
	s->end.w.cb = on_event;
	s->stream = stream;
	s->prefix = prefix;
	s->timestamps = timestamps;
	for (i = 0; i < fo.nsink; i++)
		s->pairs[i].active = (fo.sink[i].streams & stream) != 0;
	fo.nsrc++;
	return &s->end;
}

void dock_fanout_set_input(struct dock_end *peer, struct dock_end *master, void (*on_eof)(void))
{
	fo.peer = peer;
	fo.master = master;
	fo.on_eof = on_eof;
}

/* ---- drops */

static void report_drops(struct sink *k)
{
	if (k->dropped == 0)
		return;
	dock_warnx("--io %s: the destination did not keep up: %llu line%s dropped", k->name,
		   (unsigned long long)k->dropped, k->dropped == 1 ? "" : "s");
	k->dropped = 0;
}

static void drop_line(struct sink *k, struct pair *pr)
{
	if (k->dropped++ == 0)
		k->report_at = dock_now_ms() + DROP_REPORT_MS;
	pr->dropping = true;
}

static void mark_dead(struct sink *k)
{
	if (!k->end.write_dead)
		dock_debug("destination %s closed: its output is discarded", k->name);
	k->end.write_dead = true;
	dock_ring_skip(&k->q, k->q.len);
	k->owner = -1;
	k->holding = false;
}

/* ---- rendering a source's read into a sink */

static void set_owner(struct sink *k, int owner)
{
	if (k->owner != owner)
		k->holding = false;
	k->owner = owner;
}

/* May a line of source si start in k now? Not while another source's line
 * is unfinished there, unless that wait has lasted DOCK_FANOUT_HOLD_MS or
 * that source has ended: then k's line is ended by a newline of dock's,
 * and its source's next byte there starts a line of its own. */
static bool may_start(struct sink *k, int si, int64_t now)
{
	struct source *owner;

	if (k->owner < 0 || k->owner == si)
		return true;
	owner = &fo.src[k->owner];
	if (!owner->eof) {
		if (!k->holding) {
			k->holding = true;
			k->held_since = now;
		}
		if (now - k->held_since < DOCK_FANOUT_HOLD_MS)
			return false;
	}
	if (dock_ring_free(&k->q) == 0)
		return false;
	dock_ring_put(&k->q, "\n", 1);
	owner->pairs[k - fo.sink].pst.mid_line = false;
	set_owner(k, -1);
	return true;
}

/* Bytes that need no rendering go from the read straight to a lossless
 * destination whose queue is empty, as `tee` does, without a copy into the
 * queue. Returns what it took (0: queue them). */
static size_t direct_write(struct sink *k, const char *in, size_t n)
{
	ssize_t w;

	if (k->lossy || k->q.len > 0 || k->end.write_dead)
		return 0;
	w = dock_end_write(&k->end, in, n);
	if (w == DOCK_IO_ERROR) {
		mark_dead(k);
		return n;
	}
	return w > 0 ? (size_t)w : 0;
}

/* Moves what sink ki takes now of source si's read. True when something
 * moved. */
static bool feed(int si, int ki, int64_t now)
{
	struct source *s = &fo.src[si];
	struct sink *k = &fo.sink[ki];
	struct pair *pr = &s->pairs[ki];
	bool moved = false;

	while (pr->taken < s->raw_len) {
		const char *in = s->raw + pr->taken, *nl;
		size_t n = s->raw_len - pr->taken, room, used, w;

		if (k->end.write_dead) {
			pr->taken = s->raw_len;
			return true;
		}
		if (pr->dropping) {
			nl = memchr(in, '\n', n);
			pr->taken += nl != NULL ? (size_t)(nl - in) + 1 : n;
			pr->dropping = nl == NULL;
			moved = true;
			continue;
		}
		if (!pr->pst.mid_line) {
			if (!may_start(k, si, now))
				return moved;
			if (k->lossy && k->q.len >= k->bound) {
				drop_line(k, pr);
				continue;
			}
		}
		room = dock_ring_free(&k->q);
		if (k->lossy) {
			/* A line at a time, so each is admitted or dropped
			 * whole; one byte stays free to end a cut line. */
			nl = memchr(in, '\n', n);
			if (nl != NULL)
				n = (size_t)(nl - in) + 1;
			room = room > 0 ? room - 1 : 0;
		}
		if (s->prefix->len == 0 && pr->pst.stamp_len == 0) {
			used = w = direct_write(k, in, n);
			if (used == 0) {
				used = w = n < room ? n : room;
				dock_ring_put(&k->q, in, used);
			}
			if (used > 0)
				pr->pst.mid_line = in[used - 1] != '\n';
		} else {
			size_t flat;
			char *tail = dock_ring_tail(&k->q, &flat);

			/* Straight into the ring where it has room in one piece
			 * for a line's head; through scratch at its wrap. */
			if (flat > room)
				flat = room;
			if (flat >= DOCK_LINE_HEAD_MAX) {
				w = dock_prefix_apply(s->prefix, &pr->pst, in, n, tail, flat, &used);
				dock_ring_commit(&k->q, w);
			} else {
				w = dock_prefix_apply(s->prefix, &pr->pst, in, n, fo.scratch,
						      room < SCRATCH_SIZE ? room : SCRATCH_SIZE, &used);
				dock_ring_put(&k->q, fo.scratch, w);
			}
		}
		pr->taken += used;
		if (w > 0) {
			set_owner(k, pr->pst.mid_line ? si : -1);
			moved = true;
		}
		if (used == n)
			continue;
		/* The queue is full. A lossless sink waits for its destination;
		 * a lossy one (only mid-line here: a line starts below the bound)
		 * ends the line and drops its rest. */
		if (!k->lossy || !pr->pst.mid_line)
			return moved;
		dock_ring_put(&k->q, "\n", 1);
		pr->pst.mid_line = false;
		set_owner(k, -1);
		drop_line(k, pr);
		moved = true;
	}
	return moved;
}

static bool all_taken(const struct source *s)
{
	int i;

	for (i = 0; i < fo.nsink; i++)
		if (s->pairs[i].active && s->pairs[i].taken < s->raw_len)
			return false;
	return true;
}

static bool step_source(int si, int64_t now)
{
	struct source *s = &fo.src[si];
	bool moved = false;
	ssize_t n;
	int i;

	if (all_taken(s)) {
		if (s->eof)
			return false;
		n = dock_end_read(&s->end, s->raw, RAW_SIZE);
		if (dock_io_would_block(n))
			return false;
		s->raw_len = n > 0 ? (size_t)n : 0;
		for (i = 0; i < fo.nsink; i++)
			s->pairs[i].taken = 0;
		if (n == 0) {
			s->eof = true;
			s->end.read_eof = true;
			return true;
		}
		if (s->timestamps) {
			/* One clock read per read, whatever the number of lines
			 * and destinations. */
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			for (i = 0; i < fo.nsink; i++)
				if (s->pairs[i].active)
					dock_prefix_stamp(&s->pairs[i].pst, (int64_t)ts.tv_sec,
							  ts.tv_nsec);
		}
		moved = true;
	}
	for (i = 0; i < fo.nsink; i++)
		if (s->pairs[i].active)
			moved |= feed(si, i, now);
	return moved;
}

/* ---- writing a sink's queue */

/* True when every source k takes has ended and been taken. */
static bool sources_done(const struct sink *k)
{
	int i;

	for (i = 0; i < fo.nsrc; i++)
		if (fo.src[i].pairs[k - fo.sink].active && (!fo.src[i].eof || !all_taken(&fo.src[i])))
			return false;
	return true;
}

/* One datagram per line, without its newline; a line longer than a
 * datagram in pieces. An unfinished line waits for its end, unless the
 * streams have ended. Returns the bytes to take off the queue, 0 to wait;
 * *len gets the datagram's size. */
static size_t next_datagram(const struct sink *k, size_t *len)
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

static bool flush(struct sink *k)
{
	bool moved = false;
	size_t len, consume;
	ssize_t n;

	k->blocked = false;
	while (k->q.len > 0) {
		if (k->end.write_dead) {
			mark_dead(k);
			return true;
		}
		if (k->end.type == DOCK_END_DGRAM) {
			consume = next_datagram(k, &len);
			if (consume == 0)
				break;
			/* An empty line: nothing to send. */
			n = len == 0 ? 0 :
				dock_end_write(&k->end, dock_ring_linear(&k->q, len, fo.scratch), len);
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
			mark_dead(k);
			return true;
		}
		dock_ring_skip(&k->q, consume);
		moved = true;
	}
	/* Caught up: the episode of drops, if any, is over. */
	if (k->q.len == 0)
		report_drops(k);
	return moved;
}

/* ---- an interactive peer's input to the terminal */

static bool move_input(void)
{
	bool moved = false;
	ssize_t n;

	if (fo.peer == NULL)
		return false;
	if (fo.in_len > 0) {
		n = dock_end_write(fo.master, fo.in + fo.in_off, fo.in_len);
		if (dock_io_would_block(n))
			return false;
		/* The terminal is gone: the command is ending, input has no
		 * reader left. */
		if (n == DOCK_IO_ERROR)
			n = (ssize_t)fo.in_len;
		fo.in_off += (size_t)n;
		fo.in_len -= (size_t)n;
		moved = true;
		if (fo.in_len > 0)
			return moved;
	}
	if (fo.in_eof)
		return moved;
	n = dock_end_read(fo.peer, fo.in, sizeof(fo.in));
	if (dock_io_would_block(n))
		return moved;
	if (n == 0) {
		fo.in_eof = true;
		fo.peer->read_eof = true;
		if (fo.on_eof != NULL)
			fo.on_eof();
		return true;
	}
	fo.in_off = 0;
	fo.in_len = (size_t)n;
	return true;
}

/* ---- epoll interest and the timer */

static uint32_t interest(const struct dock_end *e)
{
	uint32_t ev = 0;
	int i;

	for (i = 0; i < fo.nsrc; i++)
		if (e == &fo.src[i].end && !fo.src[i].eof && all_taken(&fo.src[i]))
			ev |= EPOLLIN;
	for (i = 0; i < fo.nsink; i++) {
		const struct sink *k = &fo.sink[i];

		if (e == &k->end && k->q.len > 0 && !e->write_dead &&
		    (k->end.type != DOCK_END_DGRAM || k->blocked))
			ev |= EPOLLOUT;
	}
	if (e == fo.peer && !fo.in_eof && fo.in_len == 0)
		ev |= EPOLLIN;
	if (e == fo.master && fo.in_len > 0)
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

	for (i = 0; i < fo.nsink; i++) {
		const struct sink *k = &fo.sink[i];
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
		for (i = 0; i < fo.nsink; i++)
			moved |= flush(&fo.sink[i]);
		for (i = 0; i < fo.nsrc; i++)
			moved |= step_source(i, now);
		moved |= move_input();
		if (!moved)
			break;
	}
	for (i = 0; i < fo.nsink; i++) {
		struct sink *k = &fo.sink[i];

		if (k->end.type == DOCK_END_TLS && !k->end.write_dead &&
		    dock_tls_flush(k->end.tls) == DOCK_IO_ERROR)
			mark_dead(k);
		if (k->dropped > 0 && now >= k->report_at)
			report_drops(k);
		dock_end_watch(&k->end, interest(&k->end));
	}
	for (i = 0; i < fo.nsrc; i++)
		dock_end_watch(&fo.src[i].end, interest(&fo.src[i].end));
	at = next_wakeup(moved, now);
	if (at < 0) {
		dock_timer_cancel(&fo.timer);
	} else {
		fo.timer.cb = on_timer;
		dock_timer_arm(&fo.timer, at);
	}
}

bool dock_fanout_busy(void)
{
	int i;

	for (i = 0; i < fo.nsrc; i++)
		if (!fo.src[i].eof || !all_taken(&fo.src[i]))
			return true;
	for (i = 0; i < fo.nsink; i++) {
		const struct sink *k = &fo.sink[i];

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

	dock_timer_cancel(&fo.timer);
	for (i = 0; i < fo.nsink; i++) {
		struct sink *k = &fo.sink[i];

		/* What a lossy queue still holds never reached its peer. */
		if (k->lossy && !k->end.write_dead && k->q.len > 0) {
			while (k->q.len > 0) {
				size_t nl = dock_ring_find(&k->q, '\n', k->q.len);

				k->dropped++;
				dock_ring_skip(&k->q, nl == SIZE_MAX ? k->q.len : nl + 1);
			}
		}
		report_drops(k);
		free(k->q.buf);
		k->q.buf = NULL;
	}
	for (i = 0; i < fo.nsrc; i++) {
		free(fo.src[i].raw);
		fo.src[i].raw = NULL;
	}
	fo.nsink = fo.nsrc = 0;
}
