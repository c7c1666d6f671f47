/* Pure mapping from the main command's wait status to dock's exit code and
 * to the final status the platform is told, and the --thug decision. */
#ifndef DOCK_STATUS_H
#define DOCK_STATUS_H

#include <stdbool.h>
#include <stdint.h>

/* --remap-exit as a table: remap[c] is the exit code that replaces c, or
 * -1 for none. */
#define DOCK_STATUS_CODES 256

/* The shell convention: the exit code, or 128+N when killed by signal N. */
int dock_status_exit_code(int wstatus);

/* The signal that ended the command, or 0 when it exited. */
int dock_status_signal(int wstatus);

/* Applies --remap-exit (the table above) to code, last of all. */
int dock_status_remap(const int16_t remap[DOCK_STATUS_CODES], int code);

/* A stop signal: what a container engine or a user sends to end the
 * command (TERM, INT, QUIT). When dock forwards one it received from
 * outside, whatever --rewrite or --thug made of it, or forwards one that
 * --rewrite made of another signal, the end that follows was asked for. */
bool dock_status_is_stop_signal(int sig);

/* The final status of a command that ran: "stopped" (true) when it exited
 * 0 after --remap-exit, or when it ended after dock forwarded a stop signal
 * (stop_forwarded), whatever its code; "crashed" otherwise: a non-zero exit
 * or a signal nobody asked for (an OOM kill, a fault). A command that could
 * not be started is always crashed. */
bool dock_status_stopped(const int16_t remap[DOCK_STATUS_CODES], int wstatus, bool stop_forwarded);

/* --thug: what stop signal sig becomes for a command with these signal
 * masks (bit N-1 for signal N, as /proc/PID/status shows them): SIGKILL
 * when the command blocks or ignores it, else sig. Any other signal is
 * returned as it is. */
int dock_status_thug(int sig, uint64_t blocked, uint64_t ignored);

#endif
