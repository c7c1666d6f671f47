#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "procfs.h"

static bool warned_no_proc;
static pid_t spared[DOCK_TREE_SPARED];

void dock_tree_spare(pid_t pid, bool on)
{
	size_t i;

	for (i = 0; i < DOCK_TREE_SPARED; i++)
		if (spared[i] == (on ? 0 : pid)) {
			spared[i] = on ? pid : 0;
			return;
		}
}

static bool is_spared(pid_t pid)
{
	size_t i;

	for (i = 0; i < DOCK_TREE_SPARED; i++)
		if (spared[i] == pid && pid > 0)
			return true;
	return false;
}

bool dock_tree_only_spared(void)
{
	struct dock_tree t;
	pid_t self = dock_tree_self();
	bool only = true;
	size_t i;

	for (i = 0; i < DOCK_TREE_SPARED && spared[i] == 0; i++)
		;
	if (i == DOCK_TREE_SPARED || dock_tree_read(&t) < 0)
		return false;
	for (i = 0; i < t.n && only; i++)
		if (t.tab[i].ppid == self && !is_spared(t.tab[i].pid))
			only = false;
	dock_tree_free(&t);
	return only;
}

pid_t dock_tree_self(void)
{
	static pid_t self;
	char buf[32];
	ssize_t len;
	long v;
	char *end;

	if (self > 0)
		return self;
	len = readlink("/proc/self", buf, sizeof(buf) - 1);
	self = getpid();
	if (len > 0) {
		buf[len] = '\0';
		v = strtol(buf, &end, 10);
		if (*end == '\0' && v > 0)
			self = (pid_t)v;
	}
	return self;
}

void dock_tree_free(struct dock_tree *t)
{
	free(t->tab);
	free(t->inside);
	t->tab = NULL;
	t->inside = NULL;
	t->n = 0;
}

int dock_tree_read(struct dock_tree *t)
{
	struct dock_proc_link *grown;
	size_t cap = 0, *scratch;
	struct dirent *de;
	DIR *d = opendir("/proc");

	t->tab = NULL;
	t->inside = NULL;
	t->n = 0;
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		struct dock_proc_stat st;
		char path[64], buf[512];
		ssize_t len;
		int fd;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.16s/stat", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;	/* exited meanwhile */
		len = read(fd, buf, sizeof(buf));
		close(fd);
		if (len <= 0 || dock_procfs_parse_stat(buf, (size_t)len, &st) < 0)
			continue;
		if (t->n == cap) {
			cap = cap ? cap * 2 : 256;
			grown = realloc(t->tab, cap * sizeof(*t->tab));
			if (grown == NULL) {
				closedir(d);
				dock_tree_free(t);
				return -1;
			}
			t->tab = grown;
		}
		t->tab[t->n].pid = st.pid;
		t->tab[t->n].ppid = st.ppid;
		t->n++;
	}
	closedir(d);
	t->inside = malloc(t->n ? t->n : 1);
	scratch = malloc((t->n ? t->n : 1) * sizeof(*scratch));
	if (t->inside == NULL || scratch == NULL) {
		free(scratch);
		dock_tree_free(t);
		return -1;
	}
	dock_procfs_mark_descendants(t->tab, t->n, dock_tree_self(), t->inside, scratch);
	free(scratch);
	/* A /proc that does not list dock itself is not its namespace's (an
	 * empty tmpfs in its place, another namespace's procfs): an empty tree
	 * read from it would have the shutdown signal no one and wait for the
	 * kill timeout while the command's children live on. */
	if (dock_procfs_find_link(t->tab, t->n, dock_tree_self()) < 0) {
		dock_tree_free(t);
		errno = ENOENT;
		return -1;
	}
	return 0;
}

static int signal_descendants(int sig)
{
	struct dock_tree t;
	size_t i;
	int sent = 0;

	if (dock_tree_read(&t) < 0)
		return -1;
	for (i = 0; i < t.n; i++)
		if (t.inside[i] && !is_spared(t.tab[i].pid) && kill(t.tab[i].pid, sig) == 0)
			sent++;
	dock_tree_free(&t);
	return sent;
}

int dock_tree_signal(int sig, bool pid1, pid_t fallback_pgrp)
{
	int sent;

	if (pid1) {
		/* kill(-1) reaches every process of the namespace but dock. */
		if (kill(-1, sig) < 0)
			return errno == ESRCH ? 0 : -1;
		return 1;
	}
	sent = signal_descendants(sig);
	if (sent >= 0)
		return sent;
	/* Without /proc the tree cannot be listed, and processes that left
	 * the command's group (daemons, setsid) miss this signal: say so once. */
	if (!warned_no_proc)
		dock_warn("cannot list the process tree in /proc; signalling the command's "
			  "process group only");
	else
		dock_debug("cannot read /proc; signalling the command's process group only");
	warned_no_proc = true;
	if (fallback_pgrp > 0 && kill(-fallback_pgrp, sig) == 0)
		return 1;
	return 0;
}

/* State and name of one process, read again: the table keeps only links. */
static int read_named(pid_t pid, char *state, struct dock_tree_named *out)
{
	struct dock_proc_stat st;
	char path[64], buf[512];
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf));
	close(fd);
	if (len <= 0 || dock_procfs_parse_stat(buf, (size_t)len, &st) < 0 ||
	    dock_tree_parse_comm(buf, (size_t)len, out->comm, sizeof(out->comm)) < 0)
		return -1;
	out->pid = pid;
	*state = st.state;
	return 0;
}

void dock_tree_describe_left(bool pid1, char *buf, size_t len)
{
	struct dock_tree_named named[DOCK_TREE_NAMED];
	struct dock_tree t;
	size_t i, n = 0, total = 0;
	pid_t self = dock_tree_self();
	/* As PID 1 the signal reaches the whole namespace, which is what its
	 * own /proc lists (a process entered with setns has no parent in it,
	 * so links alone would miss it). A /proc of another namespace would
	 * list strangers: then only what descends from dock. */
	bool whole = pid1 && self == 1;
	struct dock_tree_named one;
	char state;

	if (len > 0)
		buf[0] = '\0';
	if (dock_tree_read(&t) < 0)
		return;
	for (i = 0; i < t.n; i++) {
		if (t.tab[i].pid == self || !(whole || t.inside[i]))
			continue;
		if (read_named(t.tab[i].pid, &state, &one) < 0 || state == 'Z')
			continue;	/* gone meanwhile, or a zombie */
		if (n < DOCK_TREE_NAMED)
			named[n++] = one;
		total++;
	}
	dock_tree_free(&t);
	dock_tree_format_named(named, n, total, buf, len);
}

bool dock_tree_inode_in(uint64_t inode, const uint64_t *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] == inode)
			return true;
	return false;
}

/* Whether process pid has an fd on one of the sockets. A process that is
 * gone, or whose fds dock may not read, holds none as far as dock knows. */
static bool pid_holds(pid_t pid, const uint64_t *inodes, size_t n)
{
	char path[32], target[64];
	struct dirent *de;
	bool held = false;
	uint64_t ino;
	DIR *d;
	int dfd;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return false;
	d = fdopendir(dfd);
	if (d == NULL) {
		close(dfd);
		return false;
	}
	while (!held && (de = readdir(d)) != NULL) {
		ssize_t len;

		if (de->d_name[0] == '.')
			continue;
		len = readlinkat(dirfd(d), de->d_name, target, sizeof(target));
		if (len <= 0 || (size_t)len == sizeof(target))
			continue;
		held = dock_procfs_parse_socket_link(target, (size_t)len, &ino) == 0 &&
		       dock_tree_inode_in(ino, inodes, n);
	}
	closedir(d);
	return held;
}

int dock_tree_find_holder(const uint64_t *inodes, size_t n, pid_t *holder)
{
	struct dock_tree t;
	size_t i;
	int found = 0;

	if (dock_tree_read(&t) < 0)
		return -1;
	for (i = 0; i < t.n && !found; i++) {
		if (t.inside[i] && pid_holds(t.tab[i].pid, inodes, n)) {
			*holder = t.tab[i].pid;
			found = 1;
		}
	}
	dock_tree_free(&t);
	return found;
}

int dock_tree_contains(pid_t pid)
{
	struct dock_tree t;
	long i;
	int in;

	if (pid <= 0)
		return 0;
	if (dock_tree_read(&t) < 0)
		return -1;
	i = dock_procfs_find_link(t.tab, t.n, pid);
	in = i >= 0 && t.inside[i];
	dock_tree_free(&t);
	return in;
}
