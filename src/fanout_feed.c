/* The command's streams into the fan-out's queues (fanout_state.h): each
 * read rendered (stamp, prefix) into every sink that takes it, a line of
 * one stream never inside a line of the other, a lossless sink that is
 * full holding the reading back and a lossy one dropping whole lines. */
#include "fanout_state.h"

#include <string.h>
#include <time.h>

#include "log.h"

/* While a drop episode lasts: one warning this often. */
#define DROP_REPORT_MS 60000

void dock_fanout_report_drops(struct dock_fanout_sink *k)
{
	if (k->dropped == 0)
		return;
	dock_warnx("--io %s: the destination did not keep up: %llu line%s dropped", k->name,
		   (unsigned long long)k->dropped, k->dropped == 1 ? "" : "s");
	k->dropped = 0;
}

static void drop_line(struct dock_fanout_sink *k, struct dock_fanout_pair *pr)
{
	if (k->dropped++ == 0)
		k->report_at = dock_now_ms() + DROP_REPORT_MS;
	pr->dropping = true;
}

void dock_fanout_mark_dead(struct dock_fanout_sink *k)
{
	if (!k->end.write_dead)
		dock_debug("destination %s closed: its output is discarded", k->name);
	k->end.write_dead = true;
	dock_ring_skip(&k->q, k->q.len);
	k->owner = -1;
	k->holding = false;
}

/* ---- rendering a source's read into a sink */

static void set_owner(struct dock_fanout_sink *k, int owner)
{
	if (k->owner != owner)
		k->holding = false;
	k->owner = owner;
}

/* May a line of source si start in k now? Not while another source's line
 * is unfinished there, unless that wait has lasted DOCK_FANOUT_HOLD_MS or
 * that source has ended: then k's line is ended by a newline of dock's,
 * and its source's next byte there starts a line of its own. */
static bool may_start(struct dock_fanout_sink *k, int si, int64_t now)
{
	struct dock_fanout_source *owner;

	if (k->owner < 0 || k->owner == si)
		return true;
	owner = &dock_fanout.src[k->owner];
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
	owner->pairs[k - dock_fanout.sink].pst.mid_line = false;
	set_owner(k, -1);
	return true;
}

/* Bytes that need no rendering go from the read straight to a lossless
 * destination whose queue is empty, as `tee` does, without a copy into the
 * queue. Returns what it took (0: queue them). */
static size_t direct_write(struct dock_fanout_sink *k, const char *in, size_t n)
{
	ssize_t w;

	if (k->lossy || k->q.len > 0 || k->end.write_dead)
		return 0;
	w = dock_end_write(&k->end, in, n);
	if (w == DOCK_IO_ERROR) {
		dock_fanout_mark_dead(k);
		return n;
	}
	return w > 0 ? (size_t)w : 0;
}

/* Moves what sink ki takes now of source si's read. True when something
 * moved. */
static bool feed(int si, int ki, int64_t now)
{
	struct dock_fanout_source *s = &dock_fanout.src[si];
	struct dock_fanout_sink *k = &dock_fanout.sink[ki];
	struct dock_fanout_pair *pr = &s->pairs[ki];
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
				w = dock_prefix_apply(s->prefix, &pr->pst, in, n, dock_fanout.scratch,
						      room < DOCK_FANOUT_SCRATCH_SIZE ? room : DOCK_FANOUT_SCRATCH_SIZE, &used);
				dock_ring_put(&k->q, dock_fanout.scratch, w);
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

bool dock_fanout_all_taken(const struct dock_fanout_source *s)
{
	int i;

	for (i = 0; i < dock_fanout.nsink; i++)
		if (s->pairs[i].active && s->pairs[i].taken < s->raw_len)
			return false;
	return true;
}

bool dock_fanout_step_source(int si, int64_t now)
{
	struct dock_fanout_source *s = &dock_fanout.src[si];
	bool moved = false;
	ssize_t n;
	int i;

	if (dock_fanout_all_taken(s)) {
		if (s->eof)
			return false;
		n = dock_end_read(&s->end, s->raw, DOCK_FANOUT_RAW_SIZE);
		if (dock_io_would_block(n))
			return false;
		s->raw_len = n > 0 ? (size_t)n : 0;
		for (i = 0; i < dock_fanout.nsink; i++)
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
			for (i = 0; i < dock_fanout.nsink; i++)
				if (s->pairs[i].active)
					dock_prefix_stamp(&s->pairs[i].pst, (int64_t)ts.tv_sec,
							  ts.tv_nsec);
		}
		moved = true;
	}
	for (i = 0; i < dock_fanout.nsink; i++)
		if (s->pairs[i].active)
			moved |= feed(si, i, now);
	return moved;
}
