/* Signals: blocked from the start and read from one signalfd; forwarded to
 * the main command after --rewrite and --thug. */
#ifndef DOCK_SIGNALS_H
#define DOCK_SIGNALS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/types.h>

/* Blocks every signal dock handles (all but the fault signals, which must
 * stay deliverable so a bug in dock is a crash, not a hang) and saves the
 * original mask for the command. Returns 0, or -1 after a message. */
int dock_signals_block(void);

/* Where a plain signal that arrives as a fault signal (SEGV, ABRT...,
 * sent with kill) is forwarded: the command (or -pgid), or 0 for nowhere. */
void dock_signals_set_target(pid_t target);

/* What forwarding applies: rewrite[s] is what signal s becomes (0 drops
 * it; the table must outlive dock's use of it), and --thug. */
void dock_signals_configure(const unsigned char *rewrite, bool thug);

/* Waits for one handled signal and describes it as the signalfd would.
 * Returns 0, or -1 (EINTR: a fault signal's handler ran). For a loop that
 * has nothing but signals to wait for: one system call instead of two. */
int dock_signals_wait(struct signalfd_siginfo *out);

/* Opens the signalfd (non-blocking, close-on-exec). Returns it or -1. */
int dock_signals_open(void);

/* In the forked child, before exec: default dispositions, original mask. */
void dock_signals_restore_for_exec(void);

/* The signal a received sig becomes for the command: --rewrite first, then
 * --thug (INT/TERM/QUIT the command blocks or ignores becomes KILL). Returns 0
 * when the signal is dropped. */
int dock_signals_translate(int sig, pid_t target);

/* A stop that comes from a terminal (TSTP, TTIN, TTOU): in a shell's job,
 * dock stops with the command on these, and continues on SIGCONT. */
bool dock_signals_is_terminal_stop(int sig);

/* Job control, when dock is not PID 1: a shell sees dock as the job, not
 * the command. Until setup the calls below do nothing (as PID 1, always).
 * shares_terminal: the command's stdin is dock's (not a pty of its own). */
void dock_signals_job_setup(pid_t command, bool shares_terminal);

/* After forwarding sig: a terminal stop stops dock too, until SIGCONT. */
void dock_signals_job_forwarded(int sig);

/* On SIGCHLD, while the command lives: on dock's controlling terminal,
 * the command stopping stops dock too (the ^Z reached only the command's
 * group, which holds the terminal). */
void dock_signals_job_check_command(void);

/* On SIGCONT: hands the terminal to the command's group when the shell
 * made dock the foreground. Returns true when dock had stopped itself and
 * the SIGCONT went to the command's whole group (no forwarding needed). */
bool dock_signals_job_continue(void);

#endif
