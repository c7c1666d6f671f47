/* The rest of the process tree once the main command has ended. */
#ifndef DOCK_TREE_H
#define DOCK_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "procfs.h"

/* Every process of /proc with its parent, sorted by pid, and which of them
 * are dock's descendants. */
struct dock_tree {
	struct dock_proc_link *tab;
	unsigned char *inside;	/* inside[i]: tab[i] descends from dock */
	size_t n;
};

/* Reads the table. Returns 0, or -1 when /proc cannot be read. Memory grows
 * with the number of processes only, and is freed by dock_tree_free. */
int dock_tree_read(struct dock_tree *t);
void dock_tree_free(struct dock_tree *t);

/* dock's own pid as the mounted /proc numbers it: in a PID namespace whose
 * /proc is the parent's, getpid() would name another process there. */
pid_t dock_tree_self(void);

/* Sends sig to every process of dock's tree: as PID 1 every process of the
 * namespace, otherwise every descendant found in /proc (falling back to the
 * main command's process group when /proc cannot be read). Returns how many
 * processes were signalled, as far as known, or -1. */
int dock_tree_signal(int sig, bool pid1, pid_t fallback_pgrp);

/* dock's own helper processes (a log compressor) are not the command's
 * tree: the shutdown neither waits for them nor signals them where it
 * signals one by one (as PID 1 kill(-1) reaches them too, and they keep
 * SIGTERM blocked). on: the helper starts; off: dock is done with it. At
 * most DOCK_TREE_SPARED at once; more are treated as the tree's. */
#define DOCK_TREE_SPARED 8
void dock_tree_spare(pid_t pid, bool on);

/* After a reap that left children: true when every child dock has left is
 * a spared helper, so the tree counts as empty. Reads /proc only while a
 * helper runs; false when /proc cannot tell. */
bool dock_tree_only_spared(void);

/* How many leftovers a message names; the rest are counted. */
#define DOCK_TREE_NAMED 5

/* A process as a message names it: pid and command name (printable). */
struct dock_tree_named {
	pid_t pid;
	char comm[32];
};

/* Pure: the command name of a /proc/PID/stat line, between the first '('
 * and the last ')', as printable text: bytes outside 0x20-0x7e become '?'
 * (the name is the command's to choose, and may hold a newline or escape
 * codes meant for a terminal). Returns 0, or -1 for a malformed line. */
int dock_tree_parse_comm(const char *buf, size_t len, char *out, size_t outlen);

/* Pure: ": 12 (sh), 13 (sleep) and 3 more" for n named of total processes,
 * or "" when total is 0. Always NUL-terminated, cut to len - 1 bytes. */
void dock_tree_format_named(const struct dock_tree_named *named, size_t n, size_t total,
			    char *buf, size_t len);

/* Names what dock_tree_signal would reach now (zombies left out: they are
 * gone already, a signal changes nothing for them), formatted as above;
 * "" when /proc cannot tell. */
void dock_tree_describe_left(bool pid1, char *buf, size_t len);

#endif
