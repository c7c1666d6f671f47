/* dock: start-up order, the loop's life, the exit status. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "hook.h"
#include "idle.h"
#include "io.h"
#include "lifecycle.h"
#include "log.h"
#include "loop.h"
#include "options.h"
#include "paths.h"
#include "ready.h"
#include "reaper.h"
#include "signals.h"
#include "spawn.h"
#include "status.h"
#include "statusfile.h"
#include "tree.h"

/* The Makefile passes the commit of the build (empty outside git). */
#ifndef DOCK_COMMIT
#define DOCK_COMMIT ""
#endif

extern char **environ;

/* After SIGKILL, processes in uninterruptible sleep may take a while to go.
 * dock re-sends KILL (catching anything forked meanwhile) this many times a
 * second apart, then exits anyway: as PID 1 the kernel kills what is left. */
#define KILL_RETRIES 5
#define KILL_RETRY_MS 1000

/* How long the command's last output may take to reach a slow peer, and
 * the log file to finish its archives, once the tree is gone. The hook's
 * last status goes out meanwhile, within --web-hook-exit-timeout: the exit
 * waits for the longer of the two, never their sum (docs/decisions.md has
 * the whole formula). */
#define IO_DRAIN_MS 5000

static struct {
	struct dock_config cfg;
	bool pid1;
	pid_t self;
	bool shutting_down;
	bool done;
	bool stop_forwarded;	/* a stop signal from outside reached the command */
	int kill_rounds;
	struct dock_reaper reaper;
	struct dock_watcher sigw;
	struct dock_timer kill_timer;
	struct dock_spawn_io sio;
} d;	/* zero-filled (bss): an initializer would put all of it, the whole
	 * configuration included, into the binary's data section */

/* A runtime may start dock with 0, 1 or 2 closed. The first pipe dock
 * made would then take that number, and the command would find its output
 * pipe on its stdin. /dev/null holds the place. */
static void ensure_std_fds(void)
{
	int fd;

	for (fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			_exit(1);
	}
}

static void strip_own_env(void)
{
	char **src, **dst;

	for (src = dst = environ; *src; src++)
		if (!dock_options_is_own_env(*src))
			*dst++ = *src;
	*dst = NULL;
}

static void on_kill_timer(struct dock_timer *t)
{
	if (d.kill_rounds == 0) {
		char left[256];

		dock_tree_describe_left(d.pid1, left, sizeof(left));
		dock_warnx("processes still running %llu ms after SIGTERM; sending SIGKILL%s",
			   (unsigned long long)d.cfg.kill_timeout_ms, left);
	}
	if (d.kill_rounds++ == KILL_RETRIES) {
		dock_warnx("processes survive SIGKILL; exiting anyway");
		d.done = true;
		return;
	}
	dock_tree_signal(SIGKILL, d.pid1, d.reaper.main_pid);
	dock_timer_arm(t, dock_now_ms() + KILL_RETRY_MS);
}

/* The main command has ended: no more forwarding, and the platform is told. */
static void main_ended(void)
{
	int status = d.reaper.main_status;

	d.shutting_down = true;
	dock_signals_set_target(&d.cfg, 0);
	dock_debug("main command (pid %d) ended: exit %d%s", (int)d.reaper.main_pid,
		   dock_status_exit_code(status), d.stop_forwarded ? ", after a stop signal" : "");
	dock_lifecycle_ended(dock_status_exit_code(status), dock_status_signal(status),
			     dock_status_stopped(&d.cfg, status, d.stop_forwarded));
}

static void begin_shutdown(void)
{
	int n;

	main_ended();
	n = dock_tree_signal(SIGTERM, d.pid1, d.reaper.main_pid);
	/* A stopped process would hold SIGTERM pending until the timeout. */
	if (n > 0)
		dock_tree_signal(SIGCONT, d.pid1, d.reaper.main_pid);
	if (d.pid1)
		dock_debug("sent SIGTERM to every process of the namespace");
	else
		dock_debug("sent SIGTERM to %d process(es) of the tree", n);
	d.kill_timer.cb = on_kill_timer;
	dock_timer_arm(&d.kill_timer, dock_now_ms() + (int64_t)d.cfg.kill_timeout_ms);
}

static void on_child(void)
{
	int empty = dock_reaper_reap(&d.reaper);

	if (!d.reaper.main_done)
		dock_signals_job_check_command();

	if (d.reaper.main_done && !d.shutting_down) {
		if (empty) {
			main_ended();
		} else {
			begin_shutdown();
		}
	}
	if (d.shutting_down && empty)
		d.done = true;
}

static void forward(const struct signalfd_siginfo *si)
{
	int sig = (int)si->ssi_signo, out;
	pid_t target;

	/* A signal the kernel raised for dock's own write (SIGPIPE from a
	 * closed peer, SIGXFSZ past the file-size limit) is dock's business,
	 * not the command's: the write has failed and dock handles that. */
	if ((sig == SIGPIPE || sig == SIGXFSZ) && si->ssi_code == SI_USER &&
	    (pid_t)si->ssi_pid == d.self)
		return;
	/* No command (exec failed, dock is telling the hook) or no longer
	 * one: kill(0, ...) would signal dock's own process group. */
	if (d.reaper.main_pid <= 0 || d.reaper.main_done) {
		dock_debug("signal %d during shutdown: not forwarded", sig);
		return;
	}
	if (sig == SIGCONT && dock_signals_job_continue())
		return;
	out = dock_signals_translate(&d.cfg, sig, d.reaper.main_pid);
	if (out == 0) {
		dock_debug("signal %d dropped", sig);
		return;
	}
	target = d.cfg.signal_group ? -d.reaper.main_pid : d.reaper.main_pid;
	dock_debug("forwarding signal %d as %d to %d", sig, out, (int)target);
	if (kill(target, out) < 0) {
		if (errno != ESRCH)
			dock_warn("kill(%d, %d)", (int)target, out);
	} else if (dock_status_is_stop_signal(sig) || dock_status_is_stop_signal(out)) {
		/* A stop signal from outside, as --rewrite or --thug made it, or
		 * one --rewrite made of another: whatever the command does with
		 * it, its end was asked for. */
		d.stop_forwarded = true;
	}
	dock_signals_job_forwarded(sig);
}

static void on_signalfd(struct dock_watcher *w, uint32_t events)
{
	struct signalfd_siginfo si[16];
	bool child = false;
	ssize_t n;
	size_t i;

	(void)events;
	/* A short read means the queue is empty: no second read to learn it
	 * (epoll is level-triggered, so anything left wakes the loop again). */
	do {
		n = read(w->fd, si, sizeof(si));
		if (n <= 0)
			break;
		for (i = 0; i < (size_t)n / sizeof(si[0]); i++) {
			if (si[i].ssi_signo == SIGCHLD)
				child = true;
			else
				forward(&si[i]);
		}
	} while ((size_t)n == sizeof(si));
	/* SIGCHLD coalesces, so one reap pass handles any number of them. */
	if (child)
		on_child();
}

static void wait_signal_directly(void)
{
	struct signalfd_siginfo si;

	if (dock_signals_wait(&si) < 0)
		return;
	if (si.ssi_signo == SIGCHLD)
		on_child();
	else
		forward(&si);
}

static void set_pdeathsig(int sig)
{
	pid_t parent = getppid();

	if (prctl(PR_SET_PDEATHSIG, sig) < 0) {
		dock_warn("prctl(PR_SET_PDEATHSIG)");
		return;
	}
	/* The parent may have died before the prctl: then no signal would come. */
	if (getppid() != parent)
		kill(getpid(), sig);
}

/* Once the tree is gone (or given up on): the command's last output and
 * the hook's last status go out side by side, each within its own bound,
 * while the loop keeps reaping. The hook's bound is a timer of its own, so
 * the loop wakes for it even if no fd ever does. Without a command that
 * ran (exec failed), there is no output to wait for: its pipes never got
 * their writer, so they would never reach end of file. */
static void drain(bool output)
{
	int64_t now = dock_now_ms(), io_until = now + IO_DRAIN_MS;
	bool io_open = output;

	dock_debug("draining: output for at most %d ms, the web hook for at most %llu ms",
		   output ? IO_DRAIN_MS : 0, (unsigned long long)d.cfg.web_hook_exit_timeout_ms);
	dock_hook_drain_until(now + (int64_t)d.cfg.web_hook_exit_timeout_ms);
	for (;;) {
		if (io_open && (!dock_io_busy() || dock_now_ms() >= io_until)) {
			dock_io_close();
			io_open = false;
		}
		if (!io_open && !dock_hook_pending())
			return;
		dock_loop_run_once_until(io_open ? io_until : -1);
	}
}

int main(int argc, char **argv)
{
	char err[512];
	int code;
	pid_t pid;

	d.sio.fd[0] = d.sio.fd[1] = d.sio.fd[2] = -1;
	dock_log_start();
	/* Before anything else, so no signal meant for the command is lost. */
	if (dock_signals_block() < 0) {
		dock_warn("sigprocmask");
		return 1;
	}
	ensure_std_fds();
	switch (dock_options_parse(&d.cfg, argc, argv, environ, err, sizeof(err))) {
	case DOCK_OPTIONS_RUN:
		break;
	case DOCK_OPTIONS_HELP: {
		size_t len = dock_options_usage(NULL, 0);
		char *buf = malloc(len + 1);

		if (buf == NULL)
			return 1;
		dock_options_usage(buf, len + 1);
		fputs(buf, stdout);
		free(buf);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	case DOCK_OPTIONS_VERSION:
		/* tini's shape, "NAME version X.Y.Z - git.COMMIT": dockerd runs
		 * its init with --version and shows the COMMIT part in `docker
		 * info`. A build from outside a git checkout has no commit to
		 * name, and then prints the version alone. */
		if (DOCK_COMMIT[0] != '\0')
			printf("dock version %s - git.%s\n", DOCK_VERSION, DOCK_COMMIT);
		else
			printf("dock version %s\n", DOCK_VERSION);
		return fflush(stdout) == 0 ? 0 : 1;
	case DOCK_OPTIONS_USAGE:
		dock_warnx("%s", err);
		return 2;
	}
	dock_log_debug_on = d.cfg.debug;
	strip_own_env();
	dock_paths_resolve(&d.cfg);

	d.self = getpid();
	d.pid1 = d.self == 1;
	if (!d.pid1) {
		/* Orphans of the tree must come to dock, not to the real init,
		 * or they could be neither reaped nor stopped by it. */
		if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
			dock_warn("cannot become a child subreaper; orphans will escape");
		if (d.cfg.pdeathsig)
			set_pdeathsig(d.cfg.pdeathsig);
	}

	if (dock_loop_init() < 0) {
		dock_warn("epoll");
		return 1;
	}
	d.sigw.fd = dock_signals_open();
	d.sigw.cb = on_signalfd;
	if (d.sigw.fd < 0 || dock_loop_add(&d.sigw, EPOLLIN) < 0) {
		dock_warn("signalfd");
		return 1;
	}

	if (dock_io_setup(&d.cfg, &d.sio, err, sizeof(err)) < 0) {
		dock_warnx("%s", err);
		return 1;
	}
	/* Reporters and readiness conditions attach here, before the command
	 * starts, so they see "starting" and can hold "running" back. */
	if (dock_hook_setup(&d.cfg) < 0 || dock_statusfile_setup(&d.cfg) < 0)
		return 1;
	if (dock_ready_setup(&d.cfg) < 0)
		return 1;

	pid = dock_spawn(d.cfg.command, &d.sio, &code);
	if (pid < 0) {
		/* The platform hears of it too: "crashed" with 126 or 127. */
		dock_lifecycle_ended(code, 0, false);
		drain(false);
		return dock_status_remap(&d.cfg, code);
	}
	d.reaper.main_pid = pid;
	/* The command has its copy of the directory: dock's own would hold a
	 * mount busy for the container's life. */
	dock_paths_leave_cwd();
	/* As PID 1 there is no shell's job to stop (nor would the kernel stop
	 * init); the command shares dock's terminal unless it has a pty. */
	if (!d.pid1)
		dock_signals_job_setup(pid, !d.sio.ctty && d.sio.fd[0] < 0);
	dock_signals_set_target(&d.cfg, d.cfg.signal_group ? -pid : pid);
	dock_debug("started %s as pid %d", d.cfg.command[0], (int)pid);
	dock_io_started(pid);
	dock_ready_started(pid);
	dock_lifecycle_started(pid);
	dock_idle_release_cold_text();

	while (!d.done) {
		/* With nothing but signals to wait for (no --io, hook, readiness
		 * or shutdown timer), wait for them directly: forwarding then
		 * costs two system calls, as in the leanest inits. */
		if (dock_loop_only(&d.sigw))
			wait_signal_directly();
		else
			dock_loop_run_once();
	}
	/* The tree is gone: no more SIGKILL rounds (nor their warnings, which
	 * would blame processes that are no longer there). */
	dock_timer_cancel(&d.kill_timer);
	drain(true);

	code = dock_status_exit_code(d.reaper.main_status);
	dock_debug("exiting with %d (reaped %lu)", code, d.reaper.reaped);
	return dock_status_remap(&d.cfg, code);
}
