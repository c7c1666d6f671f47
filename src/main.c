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
	struct dock_io_settings io;
} dock;	/* zero-filled (bss): an initializer would put all of it, the whole
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
	if (dock.kill_rounds == 0) {
		char left[DOCK_ERR_MAX];

		dock_tree_describe_left(dock.pid1, left, sizeof(left));
		dock_warnx("processes still running %llu ms after SIGTERM; sending SIGKILL%s",
			   (unsigned long long)dock.cfg.kill_timeout_ms, left);
	}
	if (dock.kill_rounds++ == KILL_RETRIES) {
		dock_warnx("processes survive SIGKILL; exiting anyway");
		dock.done = true;
		return;
	}
	dock_tree_signal(SIGKILL, dock.pid1, dock.reaper.main_pid);
	dock_timer_arm(t, dock_now_ms() + KILL_RETRY_MS);
}

/* The main command has ended: no more forwarding, and the platform is told. */
static void main_ended(void)
{
	int status = dock.reaper.main_status;

	dock.shutting_down = true;
	dock_signals_set_target(0);
	dock_debug("main command (pid %d) ended: exit %d%s", (int)dock.reaper.main_pid,
		   dock_status_exit_code(status), dock.stop_forwarded ? ", after a stop signal" : "");
	dock_lifecycle_ended(dock_status_exit_code(status), dock_status_signal(status),
			     dock_status_stopped(dock.cfg.remap_exit, status, dock.stop_forwarded));
}

static void begin_shutdown(void)
{
	int n;

	main_ended();
	n = dock_tree_signal(SIGTERM, dock.pid1, dock.reaper.main_pid);
	/* A stopped process would hold SIGTERM pending until the timeout. */
	if (n > 0)
		dock_tree_signal(SIGCONT, dock.pid1, dock.reaper.main_pid);
	if (dock.pid1)
		dock_debug("sent SIGTERM to every process of the namespace");
	else
		dock_debug("sent SIGTERM to %d process(es) of the tree", n);
	dock.kill_timer.cb = on_kill_timer;
	dock_timer_arm(&dock.kill_timer, dock_now_ms() + (int64_t)dock.cfg.kill_timeout_ms);
}

static void on_child(void)
{
	bool empty = dock_reaper_reap(&dock.reaper) == 1;

	/* dock's own helpers (a log compressor) are waited for by the drain,
	 * within its bound, not by the tree's shutdown. */
	if (!empty && dock.reaper.main_done)
		empty = dock_tree_only_spared();

	if (!dock.reaper.main_done)
		dock_signals_job_check_command();

	if (dock.reaper.main_done && !dock.shutting_down) {
		if (empty) {
			main_ended();
		} else {
			begin_shutdown();
		}
	}
	if (dock.shutting_down && empty)
		dock.done = true;
}

static void forward(const struct signalfd_siginfo *si)
{
	int sig = (int)si->ssi_signo, out;
	pid_t target;

	/* A signal the kernel raised for dock's own write (SIGPIPE from a
	 * closed peer, SIGXFSZ past the file-size limit) is dock's business,
	 * not the command's: the write has failed and dock handles that. */
	if ((sig == SIGPIPE || sig == SIGXFSZ) && si->ssi_code == SI_USER &&
	    (pid_t)si->ssi_pid == dock.self)
		return;
	/* No command (exec failed, dock is telling the hook) or no longer
	 * one: kill(0, ...) would signal dock's own process group. */
	if (dock.reaper.main_pid <= 0 || dock.reaper.main_done) {
		dock_debug("signal %d during shutdown: not forwarded", sig);
		return;
	}
	if (sig == SIGCONT && dock_signals_job_continue())
		return;
	out = dock_signals_translate(sig, dock.reaper.main_pid);
	if (out == 0) {
		dock_debug("signal %d dropped", sig);
		return;
	}
	target = dock.cfg.signal_group ? -dock.reaper.main_pid : dock.reaper.main_pid;
	dock_debug("forwarding signal %d as %d to %d", sig, out, (int)target);
	if (kill(target, out) < 0) {
		if (errno != ESRCH)
			dock_warn("kill(%d, %d)", (int)target, out);
	} else if (dock_status_is_stop_signal(sig) || dock_status_is_stop_signal(out)) {
		/* A stop signal from outside, as --rewrite or --thug made it, or
		 * one --rewrite made of another: whatever the command does with
		 * it, its end was asked for. */
		dock.stop_forwarded = true;
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
		   output ? IO_DRAIN_MS : 0, (unsigned long long)dock.cfg.web_hook_exit_timeout_ms);
	dock_hook_drain_until(now + (int64_t)dock.cfg.web_hook_exit_timeout_ms);
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

/* Help and version: printed, with the exit code of the print. */
static int print_usage(void)
{
	size_t len = dock_options_usage(NULL, 0);
	char *buf = malloc(len + 1);

	if (buf == NULL)
		return 1;
	dock_options_usage(buf, len + 1);
	fputs(buf, stdout);
	free(buf);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int print_version(void)
{
	/* tini's shape, "NAME version X.Y.Z - git.COMMIT": dockerd runs its
	 * init with --version and shows the COMMIT part in `docker info`. A
	 * build from outside a git checkout has no commit to name, and then
	 * prints the version alone. */
	if (DOCK_COMMIT[0] != '\0')
		printf("dock version %s - git.%s\n", DOCK_VERSION, DOCK_COMMIT);
	else
		printf("dock version %s\n", DOCK_VERSION);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* The command line and DOCK_* variables into dock.cfg, and the settings
 * each module takes from it. Returns -1 when there is a command to run,
 * else dock's exit code (help, version, a usage error: 2). */
static int parse_options(int argc, char **argv)
{
	char err[DOCK_ERR_MAX];

	switch (dock_options_parse(&dock.cfg, argc, argv, environ, err, sizeof(err))) {
	case DOCK_OPTIONS_RUN:
		break;
	case DOCK_OPTIONS_HELP:
		return print_usage();
	case DOCK_OPTIONS_VERSION:
		return print_version();
	case DOCK_OPTIONS_USAGE:
		dock_warnx("%s", err);
		return 2;
	}
	dock_log_debug_on = dock.cfg.debug;
	strip_own_env();
	dock.io = (struct dock_io_settings){
		.targets = dock.cfg.io,
		.texts = dock.cfg.io_text,
		.n = dock.cfg.n_io,
		.stdout_prefix = &dock.cfg.stdout_prefix,
		.stderr_prefix = &dock.cfg.stderr_prefix,
		.timestamps = dock.cfg.log_timestamps,
		.tls_insecure = dock.cfg.tls_insecure,
		.connect_timeout_ms = dock.cfg.io_connect_timeout_ms,
		.rotation = dock.cfg.log_rotate_ms ? "--log-rotate"
			    : dock.cfg.log_max_size ? "--log-max-size" : NULL,
		.log = { .period_ms = dock.cfg.log_rotate_ms, .max_size = dock.cfg.log_max_size,
			 .keep = dock.cfg.log_keep },
	};
	/* What only the file system can tell is still a usage error. */
	if (dock_io_check_targets(&dock.io) < 0)
		return 2;
	dock_paths_resolve(dock.cfg.io, dock.cfg.n_io, &dock.cfg.status_file);
	dock_signals_configure(dock.cfg.rewrite, dock.cfg.thug);
	return -1;
}

/* Who dock is: PID 1, or a subreaper under some other init. */
static void setup_process(void)
{
	dock.self = getpid();
	dock.pid1 = dock.self == 1;
	if (dock.pid1)
		return;
	/* Orphans of the tree must come to dock, not to the real init, or
	 * they could be neither reaped nor stopped by it. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		dock_warn("cannot become a child subreaper; orphans will escape");
	if (dock.cfg.pdeathsig)
		set_pdeathsig(dock.cfg.pdeathsig);
}

static int setup_loop(void)
{
	if (dock_loop_init() < 0) {
		dock_warn("epoll");
		return -1;
	}
	dock.sigw.fd = dock_signals_open();
	dock.sigw.cb = on_signalfd;
	if (dock.sigw.fd < 0 || dock_loop_add(&dock.sigw, EPOLLIN) < 0) {
		dock_warn("signalfd");
		return -1;
	}
	return 0;
}

/* Reporters and readiness conditions attach before the command starts,
 * so they see "starting" and can hold "running" back. */
static int setup_reporters(void)
{
	if (dock_hook_setup(&(struct dock_hook_settings){
		    .url = dock.cfg.web_hook != NULL ? &dock.cfg.web_hook_url : NULL, .url_text = dock.cfg.web_hook,
		    .headers = dock.cfg.web_hook_headers, .n_headers = dock.cfg.n_web_hook_headers,
		    .timeout_ms = dock.cfg.web_hook_timeout_ms, .exit_timeout_ms = dock.cfg.web_hook_exit_timeout_ms,
		    .tls_insecure = dock.cfg.tls_insecure }) < 0)
		return -1;
	if (dock_statusfile_setup(dock.cfg.status_file) < 0)
		return -1;
	if (dock_ready_setup(&(struct dock_ready_settings){ .notify = dock.cfg.notify,
		    .bind_port = dock.cfg.bind_port, .strict_port_binding = dock.cfg.strict_port_binding }) < 0)
		return -1;
	return 0;
}

/* Returns -1 once the command runs, else dock's exit code: it could not be
 * started (the platform hears of it too: "crashed" with 126 or 127). */
static int start_command(void)
{
	int code;
	pid_t pid = dock_spawn(dock.cfg.command, &dock.sio, &code);

	if (pid < 0) {
		dock_lifecycle_ended(code, 0, false);
		drain(false);
		return dock_status_remap(dock.cfg.remap_exit, code);
	}
	dock.reaper.main_pid = pid;
	/* The command has its copy of the directory: dock's own would hold a
	 * mount busy for the container's life. */
	dock_paths_leave_cwd();
	/* As PID 1 there is no shell's job to stop (nor would the kernel stop
	 * init); the command shares dock's terminal unless it has a pty. */
	if (!dock.pid1)
		dock_signals_job_setup(pid, !dock.sio.ctty && dock.sio.fd[0] < 0);
	dock_signals_set_target(dock.cfg.signal_group ? -pid : pid);
	dock_debug("started %s as pid %d", dock.cfg.command[0], (int)pid);
	dock_io_started(pid);
	dock_ready_started(pid);
	dock_lifecycle_started(pid);
	dock_idle_release_cold_text();
	return -1;
}

/* Until the tree is gone; then the last output and status go out. Returns
 * dock's exit code: the command's, after --remap-exit. */
static int run(void)
{
	int code;

	while (!dock.done) {
		/* With nothing but signals to wait for (no --io, hook, readiness
		 * or shutdown timer), wait for them directly: forwarding then
		 * costs two system calls, as in the leanest inits. */
		if (dock_loop_only(&dock.sigw))
			wait_signal_directly();
		else
			dock_loop_run_once();
	}
	/* The tree is gone: no more SIGKILL rounds (nor their warnings, which
	 * would blame processes that are no longer there). */
	dock_timer_cancel(&dock.kill_timer);
	drain(true);

	code = dock_status_exit_code(dock.reaper.main_status);
	dock_debug("exiting with %d (reaped %lu)", code, dock.reaper.reaped);
	return dock_status_remap(dock.cfg.remap_exit, code);
}

/* Each phase prints its own one-line message when it fails. */
int main(int argc, char **argv)
{
	int code;

	dock.sio.fd[0] = dock.sio.fd[1] = dock.sio.fd[2] = -1;
	dock_log_start();
	/* Before anything else, so no signal meant for the command is lost. */
	if (dock_signals_block() < 0)
		return 1;
	ensure_std_fds();
	code = parse_options(argc, argv);
	if (code >= 0)
		return code;
	setup_process();
	if (setup_loop() < 0 || dock_io_setup(&dock.io, &dock.sio) < 0 || setup_reporters() < 0)
		return 1;
	code = start_command();
	if (code >= 0)
		return code;
	return run();
}
