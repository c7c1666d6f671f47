/* dock_procfs_mark_descendants on any table of (pid, ppid): what the
 * shutdown signals. A table read from /proc at different moments can hold
 * anything (cycles through reused pids, parents gone), so it must end, stay
 * in its buffers, and agree with the plain walk of each chain. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) ((c) ? (void)0 : (fprintf(stderr, "invariant: %s\n", #c), abort()))

#define MAX_PROCS 512

static int by_pid(const void *a, const void *b)
{
	const struct dock_proc_link *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* The definition, without memory: follow parents until root is a parent
 * (inside), or root itself, a missing parent or a cycle (outside). */
static int naive_inside(const struct dock_proc_link *tab, size_t n, pid_t root, size_t i)
{
	size_t steps;
	long cur = (long)i;

	for (steps = 0; steps < n; steps++) {
		if (tab[cur].pid == root)
			return 0;
		if (tab[cur].ppid == root)
			return 1;
		cur = dock_procfs_find_link(tab, n, tab[cur].ppid);
		if (cur < 0)
			return 0;
	}
	return 0;
}

/* Input: [root][flags] then 2 bytes per process: pid and ppid, both small
 * so that chains form. flags bit 0: keep duplicate pids (no answer is
 * checked then, only that the walk ends inside its buffers). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dock_proc_link *tab;
	unsigned char *inside;
	size_t *scratch, n = 0, i, k;
	pid_t root;
	int dups;

	if (size < 2)
		return 0;
	root = data[0];
	dups = data[1] & 1;
	k = (size - 2) / 2;
	if (k > MAX_PROCS)
		k = MAX_PROCS;
	/* Exact-size buffers: a write past n entries is an ASan report. */
	tab = malloc((k ? k : 1) * sizeof(*tab));
	for (i = 0; i < k; i++) {
		struct dock_proc_link l = { data[2 + 2 * i], data[3 + 2 * i] };
		size_t j;

		if (!dups) {
			for (j = 0; j < n && tab[j].pid != l.pid; j++)
				;
			if (j < n)
				continue;
		}
		tab[n++] = l;
	}
	inside = malloc(n ? n : 1);
	scratch = malloc((n ? n : 1) * sizeof(*scratch));
	dock_procfs_mark_descendants(tab, n, root, inside, scratch);
	for (i = 0; i < n; i++) {
		ASSERT(inside[i] == 0 || inside[i] == 1);
		if (i > 0)
			ASSERT(by_pid(&tab[i - 1], &tab[i]) <= 0);	/* sorted */
		if (tab[i].pid == root)
			ASSERT(!inside[i]);
		if (!dups)
			ASSERT(inside[i] == naive_inside(tab, n, root, i));
	}
	free(scratch);
	free(inside);
	free(tab);
	return 0;
}
