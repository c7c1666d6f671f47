/* The sock_diag netlink client: runs the requests of sockdiag_msg.h on a
 * NETLINK_SOCK_DIAG socket and reads the kernel's answers. */
#ifndef DOCK_SOCKDIAG_H
#define DOCK_SOCKDIAG_H

#include <stddef.h>
#include <stdint.h>

#include "sockdiag_msg.h"

/* Opens a NETLINK_SOCK_DIAG socket (close-on-exec, non-blocking). */
int dock_sockdiag_open(void);

/* Runs the n dumps on fd, sent in one sendmsg and read with recvmmsg, so a
 * probe costs two system calls, not two per dump. *seq numbers requests.
 * Returns 0 once every dump has ended, each with its own error (ENOENT: no
 * diag module for that family or protocol), or -1 with errno when the
 * socket itself failed or an answer broke off (EAGAIN): then the caller
 * should reopen fd, as a half-read dump would answer EBUSY to the next. */
int dock_sockdiag_run(int fd, struct dock_sockdiag_scan *scans, size_t n, uint32_t *seq);

/* Gives the memory the answers were read into back to the kernel (once
 * probing is over: it is scratch, and only resident pages cost). */
void dock_sockdiag_release(void);

#endif
