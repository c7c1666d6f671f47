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

/* One socket line of /proc/net/tcp, tcp6, udp or udp6 (the same columns:
 * "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ..."). */
struct dock_proc_net_sock {
	uint16_t local_port;
	uint8_t state;		/* TCP state number: 0x0A LISTEN; bound UDP shows 0x07 */
	uint64_t inode;
};

/* Parses one line (without or with its '\n'). Returns 0, or -1 for the
 * header line and anything malformed. IPv4 (8 hex digits) and IPv6 (32)
 * local addresses alike. */
int dock_procfs_parse_net_sock(const char *line, size_t len, struct dock_proc_net_sock *out);

/* Parses the target of a /proc/PID/fd/N link, "socket:[INODE]". Returns 0,
 * or -1 for any other target (a file, a pipe, "anon_inode:..."). */
int dock_procfs_parse_socket_link(const char *buf, size_t len, uint64_t *inode);

/* A process and its parent, as /proc/PID/stat tells them. */
struct dock_proc_link {
	pid_t pid;
	pid_t ppid;
};

/* Sorts tab by pid, then sets inside[i] to 1 for every process whose chain
 * of parents reaches root (root itself is not inside), 0 for the others.
 * Each chain is walked once; scratch holds n entries. Pure. */
void dock_procfs_mark_descendants(struct dock_proc_link *tab, size_t n, pid_t root,
				  unsigned char *inside, size_t *scratch);

/* Index of pid in a tab sorted by dock_procfs_mark_descendants, or -1. */
long dock_procfs_find_link(const struct dock_proc_link *tab, size_t n, pid_t pid);

#endif
