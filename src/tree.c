#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "procfs.h"

static bool warned_no_proc;

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
		if (t.inside[i] && kill(t.tab[i].pid, sig) == 0)
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
