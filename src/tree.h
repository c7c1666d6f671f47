/* dock's process tree as /proc shows it: read, signalled at shutdown, the
 * leftovers named, and who in it holds a socket (--strict-port-binding) or
 * sent a datagram (--notify). */
#ifndef DOCK_TREE_H
#define DOCK_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "procfs.h"
#include "tree_named.h"

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

/* Whether inode is one of the n in set (socket inodes, as sock_diag and
 * /proc/PID/fd name them). */
bool dock_tree_inode_in(uint64_t inode, const uint64_t *set, size_t n);

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

/* Whether a process of dock's tree has an fd on one of the sockets (inode
 * numbers): 1, with its pid in *holder; 0 when none has (a process whose fds
 * dock may not read holds none as far as dock knows); -1 when /proc cannot
 * tell. */
int dock_tree_find_holder(const uint64_t *inodes, size_t n, pid_t *holder);

/* 1 when pid is of dock's tree, 0 when not, -1 when /proc cannot tell. */
int dock_tree_contains(pid_t pid);

/* Names what dock_tree_signal would reach now (zombies left out: they are
 * gone already, a signal changes nothing for them), formatted as above;
 * "" when /proc cannot tell. */
void dock_tree_describe_left(bool pid1, char *buf, size_t len);

#endif
