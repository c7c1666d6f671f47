#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "logfile.h"
#include "pty.h"
#include "pump.h"
#include "url.h"
#include "wire.h"

static struct {
	struct dock_io_target target;
	struct dock_prefix prefix;
	bool has_prefix;
	pid_t pid;
	bool interactive;
	bool finished;
	/* Fds that belong to the command: dock closes its copies after spawn. */
	int child_fds[3];
	int nchild;
	struct dock_wire wire;
	struct dock_logfile *lf;
	struct dock_end src_out, src_err, dst_out, dst_err, peer, master;
	struct dock_pump out, err, in;
} io;

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

static void on_peer_eof(struct dock_pump *p)
{
	(void)p;
	if (io.pid <= 0)
		return;
	/* As a terminal hangup would: the whole session of the command. */
	dock_debug("--io peer closed the connection: SIGHUP to the command");
	if (kill(-io.pid, SIGHUP) < 0 && errno == ESRCH)
		kill(io.pid, SIGHUP);
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
	return dock_pump_init(&io.out, &io.src_out, dst, io.has_prefix ? &io.prefix : NULL, NULL);
}

static int setup_inherit(struct dock_spawn_io *sio)
{
	int r1, w1, r2, w2;

	if (!io.has_prefix)
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
	if (dock_pump_init(&io.out, &io.src_out, &io.dst_out, &io.prefix, NULL) < 0 ||
	    dock_pump_init(&io.err, &io.src_err, &io.dst_err, &io.prefix, NULL) < 0)
		return -1;
	/* Where dock's stdout or stderr goes away (`dock ... | head`), the
	 * command's own stream is closed: it sees what it would see without
	 * dock in between. */
	io.out.close_source = true;
	io.err.close_source = true;
	return 0;
}

static int setup_file(const struct dock_config *cfg, struct dock_spawn_io *sio, char *err,
		      size_t errlen)
{
	struct stat st;
	int fd;

	io.lf = dock_logfile_open(io.target.url.path, cfg, err, errlen);
	if (io.lf == NULL)
		return -1;
	fd = dock_logfile_fd(io.lf);
	if (dock_logfile_direct(io.lf) && !io.has_prefix) {
		/* No rotation and no prefix: the command appends to the file
		 * itself, exactly as `cmd >>FILE 2>&1`, at the kernel's speed,
		 * and blocking, as a FIFO's or a terminal's writer expects. */
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
			snprintf(err, errlen, "%s: %s", io.target.url.path, strerror(errno));
			return -1;
		}
		sio->fd[1] = sio->fd[2] = fd;
		return 0;
	}
	if (dock_logfile_direct(io.lf) && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
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
	io.dst_out.lf = io.lf;
	return pump_output_to(&io.dst_out, sio, err, errlen);
}

static int setup_datagram(const struct dock_config *cfg, struct dock_spawn_io *sio, char *err,
			  size_t errlen)
{
	if (dock_wire_connect(&io.target, cfg->tls_insecure, &io.wire, err, errlen) < 0)
		return -1;
	dock_end_init(&io.peer, DOCK_END_DGRAM, io.wire.fd);
	return pump_output_to(&io.peer, sio, err, errlen);
}

static int setup_interactive(const struct dock_config *cfg, struct dock_spawn_io *sio, char *err,
			     size_t errlen)
{
	int master, slave;

	if (dock_wire_connect(&io.target, cfg->tls_insecure, &io.wire, err, errlen) < 0)
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
	dock_end_init(&io.peer, io.wire.tls ? DOCK_END_TLS : DOCK_END_SOCKET, io.wire.fd);
	io.peer.tls = io.wire.tls;
	if (dock_pump_init(&io.out, &io.master, &io.peer, io.has_prefix ? &io.prefix : NULL,
			   NULL) < 0 ||
	    dock_pump_init(&io.in, &io.peer, &io.master, NULL, on_peer_eof) < 0)
		return -1;
	io.in.input = true;
	return 0;
}

int dock_io_setup(const struct dock_config *cfg, struct dock_spawn_io *sio, char *err,
		  size_t errlen)
{
	char why[256];
	int r;

	io.target.kind = DOCK_IO_INHERIT;
	if (cfg->io != NULL && dock_io_parse(cfg->io, &io.target, why, sizeof(why)) < 0) {
		/* options.c validated it already; this is a broken invariant. */
		snprintf(err, errlen, "--io: %s", why);
		return -1;
	}
	if (cfg->stdout_prefix != NULL) {
		if (dock_prefix_parse(cfg->stdout_prefix, cfg->no_color, &io.prefix, why,
				      sizeof(why)) < 0) {
			snprintf(err, errlen, "--stdout-prefix: %s", why);
			return -1;
		}
		io.has_prefix = true;
	}
	switch (io.target.kind) {
	case DOCK_IO_INHERIT:
		r = setup_inherit(sio);
		if (r < 0)
			snprintf(err, errlen, "pipe: %s", strerror(errno));
		return r;
	case DOCK_IO_FILE:
		return setup_file(cfg, sio, err, errlen);
	case DOCK_IO_UDP:
	case DOCK_IO_UNIXGRAM:
		r = setup_datagram(cfg, sio, err, errlen);
		break;
	default:
		r = setup_interactive(cfg, sio, err, errlen);
		break;
	}
	if (r < 0) {
		char shown[512];

		dock_url_redact(cfg->io, shown, sizeof(shown));
		/* Name the URL: the reason alone does not say which peer. */
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "--io %s: %s", shown, why);
	}
	return r;
}

void dock_io_started(pid_t pid)
{
	int i;

	io.pid = pid;
	for (i = 0; i < io.nchild; i++)
		close(io.child_fds[i]);
	io.nchild = 0;
	dock_pumps_run();
}

bool dock_io_busy(void)
{
	if (dock_pumps_busy())
		return true;
	/* Every byte is out: close the TLS session cleanly and let the log
	 * file finish its archives; the loop runs while either has work. */
	if (!io.finished) {
		io.finished = true;
		if (io.wire.tls != NULL) {
			dock_tls_close(io.wire.tls);
			dock_tls_flush(io.wire.tls);
		}
		if (io.lf != NULL)
			dock_logfile_finish(io.lf);
	}
	return io.lf != NULL && dock_logfile_busy(io.lf);
}

void dock_io_close(void)
{
	dock_logfile_close(io.lf);
	io.lf = NULL;
}
