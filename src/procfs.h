/* Pure parsers for /proc files: they read a caller's buffer, never a file. */
#ifndef DOCK_PROCFS_H
#define DOCK_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct dock_proc_stat {
	pid_t pid;
	char state;
	pid_t ppid;
	pid_t pgrp;
};

/* Parses the head of /proc/PID/stat. The command name may hold spaces and
 * parentheses, so the fields after it are found from its last ')'. */
int dock_procfs_parse_stat(const char *buf, size_t len, struct dock_proc_stat *out);

struct dock_proc_sigmasks {
	uint64_t blocked;	/* SigBlk */
	uint64_t ignored;	/* SigIgn */
	uint64_t caught;	/* SigCgt */
};

/* Parses the SigBlk, SigIgn and SigCgt lines of /proc/PID/status. Returns 0
 * when all three were found, -1 otherwise. */
int dock_procfs_parse_sigmasks(const char *buf, size_t len, struct dock_proc_sigmasks *out);

/* Signal sig (1-64) as a bit of a /proc mask. */
static inline uint64_t dock_procfs_sigbit(int sig)
{
	return (sig >= 1 && sig <= 64) ? 1ULL << (sig - 1) : 0;
}

#endif
