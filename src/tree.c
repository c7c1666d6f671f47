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

struct pair {
	pid_t pid, ppid;
};

/* Reads the (pid, ppid) of every process in /proc into a growing array,
 * freed by the caller. Memory is bounded by the number of processes. */
static struct pair *read_table(size_t *count)
{
	struct pair *tab = NULL, *grown;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir("/proc");

	if (d == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		char path[64], buf[512];
		struct dock_proc_stat st;
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
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			grown = realloc(tab, cap * sizeof(*tab));
			if (grown == NULL)
				break;
			tab = grown;
		}
		tab[n].pid = st.pid;
		tab[n].ppid = st.ppid;
		n++;
	}
	closedir(d);
	if (tab == NULL)
		tab = malloc(sizeof(*tab));	/* empty /proc still counts as read */
	*count = n;
	return tab;
}

static int by_pid(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static long find(const struct pair *tab, size_t n, pid_t pid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tab[mid].pid == pid)
			return (long)mid;
		if (tab[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

enum { UNKNOWN, OUTSIDE, INSIDE };

/* Signals every process whose chain of parents leads to root. Each chain is
 * walked once: what a walk learns is remembered for every process on it, so
 * a tree of thousands costs O(n log n), not a walk per process. */
static int signal_descendants(int sig, pid_t root)
{
	size_t n, i, depth;
	struct pair *tab = read_table(&n);
	unsigned char *mark;
	long *path;
	int sent = 0;

	if (tab == NULL)
		return -1;
	qsort(tab, n, sizeof(*tab), by_pid);
	mark = calloc(n ? n : 1, 1);
	path = calloc(n ? n : 1, sizeof(*path));
	if (mark == NULL || path == NULL) {
		free(mark);
		free(path);
		free(tab);
		return -1;
	}
	for (i = 0; i < n; i++) {
		long cur = (long)i;
		unsigned char verdict;

		depth = 0;
		for (;;) {
			if (mark[cur] != UNKNOWN) {
				verdict = mark[cur];
				break;
			}
			path[depth++] = cur;
			if (tab[cur].ppid == root) {
				verdict = INSIDE;
				break;
			}
			if (tab[cur].pid == root || depth >= n) {
				verdict = OUTSIDE;
				break;
			}
			cur = find(tab, n, tab[cur].ppid);
			if (cur < 0) {
				verdict = OUTSIDE;
				break;
			}
		}
		while (depth > 0)
			mark[path[--depth]] = verdict;
	}
	for (i = 0; i < n; i++)
		if (mark[i] == INSIDE && tab[i].pid != root && kill(tab[i].pid, sig) == 0)
			sent++;
	free(path);
	free(mark);
	free(tab);
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
	sent = signal_descendants(sig, getpid());
	if (sent >= 0)
		return sent;
	dock_debug("cannot read /proc; signalling the command's process group only");
	if (fallback_pgrp > 0 && kill(-fallback_pgrp, sig) == 0)
		return 1;
	return 0;
}
