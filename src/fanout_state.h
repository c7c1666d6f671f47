/* Inside the fan-out (fanout.h): the state fanout.c (the destinations:
 * writing each queue out, the interactive peer's input, epoll and the
 * timer) and fanout_feed.c (the command's streams into the queues:
 * rendering, the hold between streams, back-pressure and drops) share.
 *
 * Each source (a pipe of the command, or its terminal's master) holds one
 * read at a time. Every destination ("sink") that takes the source keeps
 * its own position in that read and its own line state (a pair), and
 * renders from it into its own ring queue; the source reads again only once
 * every sink has taken the whole read. So a lossless sink that is full stops
 * the reading, and a lossy one never does: it drops instead. The time stamp
 * is taken once per read and given to every pair. */
#ifndef DOCK_FANOUT_STATE_H
#define DOCK_FANOUT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fanout.h"
#include "loop.h"
#include "options.h"
#include "prefix.h"
#include "pump.h"
#include "ring.h"

#define DOCK_FANOUT_MAX_SOURCES 2
#define DOCK_FANOUT_MAX_SINKS (DOCK_MAX_IO + 1)	/* "-" is two sinks: stdout, stderr */
/* A pipe holds 64 KiB: one read can take all of it. */
#define DOCK_FANOUT_RAW_SIZE DOCK_PUMP_BUFSIZE
/* Rendering goes through here; also holds a datagram that wraps the ring. */
#define DOCK_FANOUT_SCRATCH_SIZE DOCK_PUMP_BUFSIZE
#define DOCK_FANOUT_INPUT_SIZE 16384

struct dock_fanout_pair {
	bool active;			/* the sink takes this source */
	bool dropping;			/* the rest of the current line is dropped */
	size_t taken;			/* of the source's current read */
	struct dock_prefix_state pst;
};

struct dock_fanout_source {
	struct dock_end end;
	enum dock_stream stream;
	const struct dock_prefix *prefix;
	bool timestamps;
	bool eof;
	char *raw;
	size_t raw_len;
	struct dock_fanout_pair pairs[DOCK_FANOUT_MAX_SINKS];
};

struct dock_fanout_sink {
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

struct dock_fanout_state {
	struct dock_fanout_source src[DOCK_FANOUT_MAX_SOURCES];
	int nsrc;
	struct dock_fanout_sink sink[DOCK_FANOUT_MAX_SINKS];
	int nsink;
	/* An interactive peer's bytes on their way to the terminal. */
	struct dock_end *peer, *master;
	void (*on_eof)(void);
	char in[DOCK_FANOUT_INPUT_SIZE];
	size_t in_off, in_len;
	bool in_eof;
	struct dock_timer timer;
	char scratch[DOCK_FANOUT_SCRATCH_SIZE];
};

extern struct dock_fanout_state dock_fanout;

/* Writes off what a destination that went away still queues. */
void dock_fanout_mark_dead(struct dock_fanout_sink *k);

/* The warning for the lines k dropped since the last one, if any. */
void dock_fanout_report_drops(struct dock_fanout_sink *k);

/* True when every sink that takes s has taken all of its current read. */
bool dock_fanout_all_taken(const struct dock_fanout_source *s);

/* Reads source si again once its read is all taken, and feeds every sink
 * that takes it. True when something moved. */
bool dock_fanout_step_source(int si, int64_t now);

#endif
