/* The pseudo-terminal of an interactive (stream peer) --io. */
#ifndef DOCK_PTY_H
#define DOCK_PTY_H

/* Opens a master/slave pair, both close-on-exec, with echo off on the slave
 * (the peer's own terminal echoes), the master non-blocking. Returns 0 or -1
 * with errno. */
int dock_pty_open(int *master, int *slave);

#endif
