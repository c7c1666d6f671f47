/* The command's output to several destinations at once (--io given more
 * than once, or stdout and stderr told apart into one destination). Each
 * stream of the command is read once, and each destination renders what it
 * takes of it (stamp, prefix) into a queue of its own:
 *
 *  - a lossless destination (a file, dock's own stdout or stderr) that is
 *    full holds the reading back, so a slow one slows the command as it
 *    would without dock;
 *  - a lossy one (a network peer) never holds anything back: a line that
 *    starts while its queue holds DOCK_FANOUT_QUEUE bytes is dropped whole
 *    and counted, with one warning per episode.
 *
 * A destination that takes both stdout and stderr never gets a line of one
 * inside a line of the other: a stream's line start waits until the other
 * stream's unfinished line there ends, at most DOCK_FANOUT_HOLD_MS; then dock
 * ends that line with a newline of its own, and its rest starts a new line
 * (with its own stamp and prefix). */
#ifndef DOCK_FANOUT_H
#define DOCK_FANOUT_H

#include <stdbool.h>

#include "prefix.h"
#include "pump.h"

enum dock_stream {
	DOCK_STREAM_OUT = 1,	/* stdout, or stdout and stderr on one pipe or a pty */
	DOCK_STREAM_ERR = 2,
};

/* What a lossy destination queues before it drops lines: about 10,000 lines
 * of 100 bytes, a second or more of a command logging flat out. */
#define DOCK_FANOUT_QUEUE (1024 * 1024)
/* How long a line start of one stream waits for the other stream's
 * unfinished line in a destination that takes both. */
#define DOCK_FANOUT_HOLD_MS 100

/* Adds a destination taking the streams in the mask (DOCK_STREAM_*). The
 * end comes back set up as dock_end_init(type, fd) does, for the caller to
 * fill in (tls, lf, pollable). name is shown in messages: no secret in it.
 * NULL when out of room or memory. */
struct dock_end *dock_fanout_add_sink(enum dock_end_type type, int fd, unsigned streams,
				      bool lossy, const char *name);

/* Adds a stream of the command to read (fd non-blocking). prefix (never
 * NULL; len 0: none) must stay valid. Returns its end, or NULL. */
struct dock_end *dock_fanout_add_source(int fd, enum dock_stream stream,
					const struct dock_prefix *prefix, bool timestamps);

/* An interactive peer (a destination already added) also feeds the
 * command's terminal (the source master): what it sends is written there.
 * on_eof runs once when the peer closes. */
void dock_fanout_set_input(struct dock_end *peer, struct dock_end *master, void (*on_eof)(void));

/* Moves what can move now, then updates epoll interest and the timer. */
void dock_fanout_run(void);

/* True while a stream is still open or output waits for a destination that
 * still takes it. */
bool dock_fanout_busy(void);

/* Reports drops not yet reported (and what never left a lossy queue), then
 * frees the buffers. */
void dock_fanout_close(void);

#endif
