#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fanout.h"
#include "log.h"
#include "logfile.h"
#include "pty.h"
#include "pump.h"
#include "url.h"
#include "wire.h"

static struct {
	const struct dock_io_settings *s;
	/* With one destination: it, and how its lines are formatted (NULL:
	 * bytes pass as they are). */
	const struct dock_io_target *target;
	const struct dock_prefix *prefix, *err_prefix;
	bool fanout;			/* several destinations: fanout.c moves the bytes */
	pid_t pid;
	bool interactive;
	bool finished;
	/* Fds that belong to the command: dock closes its copies after spawn. */
	int child_fds[3];
	int nchild;
	struct dock_wire wire[DOCK_MAX_IO];
	struct dock_logfile *lf[DOCK_MAX_IO];
	char names[DOCK_MAX_IO][512];	/* each --io as shown in messages (redacted) */
	size_t failed;			/* 1 + the --io a set-up error names, or 0 */
	struct dock_end src_out, src_err, dst_out, dst_err, peer, master;
	struct dock_pump out, err, in;
} io;

/* An empty prefix: lines get only their stamp (--log-timestamps alone). */
static const struct dock_prefix no_prefix;

/* What the prefixer is given for a stream with this prefix: NULL when its
 * lines need neither a prefix nor a stamp, so its bytes are only copied. */
static const struct dock_prefix *format_of(const struct dock_prefix *p)
{
	if (p->len > 0)
		return p;
	return io.s->timestamps ? &no_prefix : NULL;
}

static bool prefixes_differ(const struct dock_io_settings *s)
{
	return s->stderr_prefix->len != s->stdout_prefix->len ||
	       memcmp(s->stderr_prefix->text, s->stdout_prefix->text, s->stdout_prefix->len) != 0;
}

/* The one place a log file is opened. */
static struct dock_logfile *open_log(const char *path, char *err, size_t errlen)
{
	return dock_logfile_open(path, &io.s->log, err, errlen);
}

static void set_timestamps(struct dock_pump *p)
{
	p->timestamps = p->prefix != NULL && io.s->timestamps;
}

static void keep_for_child(int fd)
{
	io.child_fds[io.nchild++] = fd;
}

static int make_pipe(int *rd, int *wr)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	/* Only dock's end is non-blocking: the command keeps a blocking pipe,
	 * which is what makes it wait (not fail) when dock stops reading. */
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	*rd = p[0];
	*wr = p[1];
	return 0;
}

/* Prepares one of dock's own fds (1 or 2) as a pump's destination. It was
 * inherited, so its file description is shared with whoever started dock:
 * setting O_NONBLOCK on it would surprise them (a shell's terminal). A
 * pipe, fifo or terminal is opened again through /proc for a description
 * of dock's own; a socket is written with MSG_DONTWAIT; a regular file
 * never blocks for long anyway. */
static void init_inherited(struct dock_end *e, int fd)
{
	struct stat st;
	char path[32];
	int nfd;

	if (fstat(fd, &st) < 0) {
		dock_end_init(e, DOCK_END_FD, fd);
		e->write_dead = true;
		return;
	}
	if (S_ISSOCK(st.st_mode)) {
		dock_end_init(e, DOCK_END_SOCKET, fd);
		return;
	}
	if (S_ISREG(st.st_mode)) {
		dock_end_init(e, DOCK_END_FD, fd);
		e->pollable = false;
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (nfd < 0 && errno == ENXIO && S_ISFIFO(st.st_mode)) {
		/* A FIFO with no reader: a write there fails with EPIPE. */
		dock_end_init(e, DOCK_END_FD, fd);
		e->write_dead = true;
		e->dead_errno = EPIPE;
		return;
	}
	if (nfd < 0) {
		/* No /proc, or a pipe of another user: the shared blocking
		 * description it is, written only when epoll says there is
		 * room, PIPE_BUF bytes at a time. */
		dock_debug("cannot reopen fd %d (%s): writing to it when it is writable", fd,
			   strerror(errno));
		dock_end_init(e, DOCK_END_FD, fd);
		e->gated = true;
		return;
	}
	dock_end_init(e, DOCK_END_FD, nfd);
}

static void peer_closed(void)
{
	if (io.pid <= 0)
		return;
	/* As a terminal hangup would: the whole session of the command. */
	dock_debug("--io peer closed the connection: SIGHUP to the command");
	if (kill(-io.pid, SIGHUP) < 0 && errno == ESRCH)
		kill(io.pid, SIGHUP);
}

static void on_peer_eof(struct dock_pump *p)
{
	(void)p;
	peer_closed();
}

/* The command's stdout and stderr on one pipe (their order kept, as 2>&1
 * does), pumped into dst with the prefix if there is one. */
static int pump_output_to(struct dock_end *dst, struct dock_spawn_io *sio, char *err,
			  size_t errlen)
{
	int r, w;

	if (make_pipe(&r, &w) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	keep_for_child(w);
	sio->fd[1] = sio->fd[2] = w;
	dock_end_init(&io.src_out, DOCK_END_FD, r);
	if (dock_pump_init(&io.out, &io.src_out, dst, io.prefix, NULL) < 0)
		return -1;
	set_timestamps(&io.out);
	return 0;
}

static int setup_inherit(struct dock_spawn_io *sio)
{
	int r1, w1, r2, w2;

	if (io.prefix == NULL && io.err_prefix == NULL)
		return 0;	/* the command writes to dock's own fds: no copy at all */
	if (make_pipe(&r1, &w1) < 0)
		return -1;
	if (make_pipe(&r2, &w2) < 0) {
		close(r1);
		close(w1);
		return -1;
	}
	keep_for_child(w1);
	keep_for_child(w2);
	sio->fd[1] = w1;
	sio->fd[2] = w2;
	dock_end_init(&io.src_out, DOCK_END_FD, r1);
	dock_end_init(&io.src_err, DOCK_END_FD, r2);
	init_inherited(&io.dst_out, STDOUT_FILENO);
	init_inherited(&io.dst_err, STDERR_FILENO);
	if (dock_pump_init(&io.out, &io.src_out, &io.dst_out, io.prefix, NULL) < 0 ||
	    dock_pump_init(&io.err, &io.src_err, &io.dst_err, io.err_prefix, NULL) < 0)
		return -1;
	set_timestamps(&io.out);
	set_timestamps(&io.err);
	/* Where dock's stdout or stderr goes away (`dock ... | head`), the
	 * command's own stream is closed: it sees what it would see without
	 * dock in between. */
	io.out.close_source = true;
	io.err.close_source = true;
	return 0;
}

static int setup_file(struct dock_spawn_io *sio, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	io.lf[0] = open_log(io.target->url.path, err, errlen);
	if (io.lf[0] == NULL)
		return -1;
	fd = dock_logfile_fd(io.lf[0]);
	if (dock_logfile_direct(io.lf[0]) && io.prefix == NULL) {
		/* No rotation, prefix or stamp: the command appends to the file
		 * itself, exactly as `cmd >>FILE 2>&1`, at the kernel's speed,
		 * and blocking, as a FIFO's or a terminal's writer expects. */
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
			dock_warn("%s", io.target->url.path);
			err[0] = '\0';	/* said */
			return -1;
		}
		sio->fd[1] = sio->fd[2] = fd;
		return 0;
	}
	if (dock_logfile_direct(io.lf[0]) && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* A FIFO, a terminal, /dev/null: written as dock's own stdout
		 * is, when epoll says there is room, so a slow reader holds the
		 * command back instead of dock. */
		dock_end_init(&io.dst_out, DOCK_END_FD, fd);
		if (pump_output_to(&io.dst_out, sio, err, errlen) < 0)
			return -1;
		/* Its reader gone, the command sees EPIPE, as it would
		 * writing there itself. */
		io.out.close_source = true;
		return 0;
	}
	dock_end_init(&io.dst_out, DOCK_END_LOGFILE, -1);
	io.dst_out.lf = io.lf[0];
	return pump_output_to(&io.dst_out, sio, err, errlen);
}

static int setup_datagram(struct dock_spawn_io *sio, char *err, size_t errlen)
{
	if (dock_wire_connect(io.target, io.s->tls_insecure, io.s->connect_timeout_ms, &io.wire[0],
			      err, errlen) < 0)
		return -1;
	dock_end_init(&io.peer, DOCK_END_DGRAM, io.wire[0].fd);
	return pump_output_to(&io.peer, sio, err, errlen);
}

static int setup_interactive(struct dock_spawn_io *sio, char *err, size_t errlen)
{
	int master, slave;

	if (dock_wire_connect(io.target, io.s->tls_insecure, io.s->connect_timeout_ms, &io.wire[0],
			      err, errlen) < 0)
		return -1;
	if (dock_pty_open(&master, &slave) < 0) {
		snprintf(err, errlen, "pseudo-terminal: %s", strerror(errno));
		return -1;
	}
	keep_for_child(slave);
	sio->fd[0] = sio->fd[1] = sio->fd[2] = slave;
	sio->ctty = true;
	io.interactive = true;
	dock_end_init(&io.master, DOCK_END_FD, master);
	dock_end_init(&io.peer, io.wire[0].tls ? DOCK_END_TLS : DOCK_END_SOCKET, io.wire[0].fd);
	io.peer.tls = io.wire[0].tls;
	if (dock_pump_init(&io.out, &io.master, &io.peer, io.prefix, NULL) < 0 ||
	    dock_pump_init(&io.in, &io.peer, &io.master, NULL, on_peer_eof) < 0)
		return -1;
	set_timestamps(&io.out);
	io.in.input = true;
	return 0;
}

/* The message will name --io i: a reason alone does not say which peer. */
static int name_failure(size_t i)
{
	io.failed = i + 1;
	return -1;
}

static bool interactive_kind(enum dock_io_kind kind)
{
	return kind == DOCK_IO_TCP || kind == DOCK_IO_TLS || kind == DOCK_IO_UNIX;
}

/* dock's own fd 1 or 2 as a destination of the fan-out. */
static int add_inherited_sink(int fd, unsigned streams, const char *name)
{
	struct dock_end tmp, *e;

	init_inherited(&tmp, fd);
	e = dock_fanout_add_sink(tmp.type, tmp.fd, streams, false, name);
	if (e == NULL)
		return -1;
	e->pollable = tmp.pollable;
	e->write_dead = tmp.write_dead;
	return 0;
}

/* A second name for a file already open would rotate it twice over. */
static int check_same_file(size_t i)
{
	struct stat a, b;
	size_t j;

	if (fstat(dock_logfile_fd(io.lf[i]), &a) < 0)
		return 0;
	for (j = 0; j < i; j++)
		if (io.lf[j] != NULL && fstat(dock_logfile_fd(io.lf[j]), &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			dock_warnx("--io %s: the same file as --io %s", io.names[i], io.names[j]);
			return -1;
		}
	return 0;
}

/* Destination i of several: its end in the fan-out. Files, and dock's own
 * stdout and stderr, are lossless; network peers lossy. pty: the command's
 * output comes from a terminal. *peer: the end of an interactive peer. */
static int add_destination(size_t i, bool pty, struct dock_end **peer, char *err, size_t errlen)
{
	const struct dock_io_target *t = &io.s->targets[i];
	const unsigned both = DOCK_STREAM_OUT | DOCK_STREAM_ERR;
	struct dock_end *e;

	switch (t->kind) {
	case DOCK_IO_STDIO:
		/* On a terminal stderr is stdout: all of it goes to dock's stdout. */
		if (add_inherited_sink(STDOUT_FILENO, DOCK_STREAM_OUT, io.names[i]) < 0 ||
		    (!pty && add_inherited_sink(STDERR_FILENO, DOCK_STREAM_ERR, io.names[i]) < 0))
			goto nomem;
		return 0;
	case DOCK_IO_FILE:
		io.lf[i] = open_log(t->url.path, err, errlen);
		if (io.lf[i] == NULL)
			return -1;
		if (check_same_file(i) < 0) {
			err[0] = '\0';	/* already said */
			return -1;
		}
		e = dock_fanout_add_sink(DOCK_END_LOGFILE, -1, both, false, io.names[i]);
		if (e == NULL)
			goto nomem;
		e->lf = io.lf[i];
		return 0;
	default:
		if (dock_wire_connect(t, io.s->tls_insecure, io.s->connect_timeout_ms, &io.wire[i], err,
				      errlen) < 0)
			return name_failure(i);
		e = dock_fanout_add_sink(t->kind == DOCK_IO_UDP || t->kind == DOCK_IO_UNIXGRAM ?
					 DOCK_END_DGRAM :
					 io.wire[i].tls ? DOCK_END_TLS : DOCK_END_SOCKET,
					 io.wire[i].fd, both, true, io.names[i]);
		if (e == NULL)
			goto nomem;
		e->tls = io.wire[i].tls;
		if (interactive_kind(t->kind))
			*peer = e;
		return 0;
	}
nomem:
	snprintf(err, errlen, "--io: %s", strerror(errno));
	return -1;
}

/* The command's streams into the fan-out: its terminal with an interactive
 * peer; two pipes when stdout and stderr must be told apart (dock's own
 * stdout and stderr as a destination, or a prefix of stderr's own); else
 * one pipe, which keeps their order as 2>&1 does. */
static int add_sources(struct dock_end *peer, struct dock_spawn_io *sio, bool apart, char *err,
		       size_t errlen)
{
	struct dock_end *src, *src2;
	int r, w, r2, w2, master, slave;

	if (peer != NULL) {
		io.interactive = true;
		if (dock_pty_open(&master, &slave) < 0) {
			snprintf(err, errlen, "pseudo-terminal: %s", strerror(errno));
			return -1;
		}
		keep_for_child(slave);
		sio->fd[0] = sio->fd[1] = sio->fd[2] = slave;
		sio->ctty = true;
		src = dock_fanout_add_source(master, DOCK_STREAM_OUT, io.s->stdout_prefix,
					     io.s->timestamps);
		if (src == NULL)
			goto fail;
		dock_fanout_set_input(peer, src, peer_closed);
		return 0;
	}
	if (make_pipe(&r, &w) < 0)
		goto fail;
	keep_for_child(w);
	sio->fd[1] = sio->fd[2] = w;
	src = dock_fanout_add_source(r, DOCK_STREAM_OUT, io.s->stdout_prefix, io.s->timestamps);
	if (src == NULL)
		goto fail;
	if (!apart)
		return 0;
	if (make_pipe(&r2, &w2) < 0)
		goto fail;
	keep_for_child(w2);
	sio->fd[2] = w2;
	src2 = dock_fanout_add_source(r2, DOCK_STREAM_ERR, io.s->stderr_prefix, io.s->timestamps);
	if (src2 == NULL)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "--io: %s", strerror(errno));
	return -1;
}

static int setup_fanout(struct dock_spawn_io *sio, char *err, size_t errlen)
{
	const struct dock_io_settings *s = io.s;
	struct dock_end *peer = NULL;
	bool apart = prefixes_differ(s), pty = false;
	size_t i;

	io.fanout = true;
	for (i = 0; i < s->n; i++) {
		apart = apart || s->targets[i].kind == DOCK_IO_STDIO;
		pty = pty || interactive_kind(s->targets[i].kind);
	}
	for (i = 0; i < s->n; i++)
		if (add_destination(i, pty, &peer, err, errlen) < 0)
			return -1;
	return add_sources(peer, sio, apart, err, errlen);
}

static int setup(struct dock_spawn_io *sio, char *err, size_t errlen)
{
	const struct dock_io_settings *s = io.s;
	int r;

	/* "-" alone is dock's own streams, as without --io. */
	if (s->n == 0 || (s->n == 1 && s->targets[0].kind == DOCK_IO_STDIO)) {
		r = setup_inherit(sio);
		if (r < 0)
			snprintf(err, errlen, "pipe: %s", strerror(errno));
		return r;
	}
	if (s->n > 1 || prefixes_differ(s))
		return setup_fanout(sio, err, errlen);
	io.target = &s->targets[0];
	switch (io.target->kind) {
	case DOCK_IO_FILE:
		return setup_file(sio, err, errlen);
	case DOCK_IO_UDP:
	case DOCK_IO_UNIXGRAM:
		r = setup_datagram(sio, err, errlen);
		break;
	default:
		r = setup_interactive(sio, err, errlen);
		break;
	}
	return r < 0 ? name_failure(0) : 0;
}

int dock_io_setup(const struct dock_io_settings *s, struct dock_spawn_io *sio)
{
	char err[DOCK_ERR_MAX] = "";
	size_t i;

	io.s = s;
	for (i = 0; i < s->n; i++)
		dock_url_redact(s->texts[i], io.names[i], sizeof(io.names[i]));
	io.prefix = format_of(s->stdout_prefix);
	io.err_prefix = format_of(s->stderr_prefix);
	if (setup(sio, err, sizeof(err)) == 0)
		return 0;
	if (io.failed > 0)
		dock_warnx("--io %s: %s", io.names[io.failed - 1], err);
	else if (err[0] != '\0')
		dock_warnx("%s", err);
	return -1;
}

int dock_io_check_targets(const struct dock_io_settings *s)
{
	struct stat st;
	size_t i;

	for (i = 0; s->rotation != NULL && i < s->n; i++) {
		const char *path = s->targets[i].url.path;

		if (s->targets[i].kind != DOCK_IO_FILE || stat(path, &st) < 0 || S_ISREG(st.st_mode))
			continue;
		dock_warnx("%s: needs a regular file; --io %.*s is %s", s->rotation, 256, path,
			   S_ISDIR(st.st_mode)    ? "a directory"
			   : S_ISFIFO(st.st_mode) ? "a FIFO"
			   : S_ISCHR(st.st_mode)  ? "a character device"
			   : S_ISSOCK(st.st_mode) ? "a socket"
						  : "not a regular file");
		return -1;
	}
	return 0;
}

void dock_io_started(pid_t pid)
{
	int i;

	io.pid = pid;
	for (i = 0; i < io.nchild; i++)
		close(io.child_fds[i]);
	io.nchild = 0;
	if (io.fanout)
		dock_fanout_run();
	else
		dock_pumps_run();
}

bool dock_io_busy(void)
{
	bool busy = false;
	int i;

	if (io.fanout ? dock_fanout_busy() : dock_pumps_busy())
		return true;
	/* Every byte is out: close the TLS session cleanly and let the log
	 * files finish their archives; the loop runs while either has work. */
	if (!io.finished) {
		io.finished = true;
		for (i = 0; i < DOCK_MAX_IO; i++) {
			if (io.wire[i].tls != NULL) {
				dock_tls_close(io.wire[i].tls);
				dock_tls_flush(io.wire[i].tls);
			}
			if (io.lf[i] != NULL)
				dock_logfile_finish(io.lf[i]);
		}
	}
	for (i = 0; i < DOCK_MAX_IO; i++)
		busy = busy || (io.lf[i] != NULL && dock_logfile_busy(io.lf[i]));
	return busy;
}

void dock_io_close(void)
{
	int i;

	if (io.fanout)
		dock_fanout_close();
	for (i = 0; i < DOCK_MAX_IO; i++) {
		dock_logfile_close(io.lf[i]);
		io.lf[i] = NULL;
	}
}
