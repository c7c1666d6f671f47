/* System calls that musl or the kernel headers of an older build host may
 * not name: declared once here, so every module uses the same numbers and
 * the same fallback story. Each wrapper returns what the syscall returns
 * (-1 with errno set, ENOSYS on a kernel that lacks it). */
#ifndef DOCK_SYS_H
#define DOCK_SYS_H

#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* The numbers are the same on every architecture since the unified
 * syscall table of Linux 5.1. */
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static inline int dock_sys_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0U);
}

static inline int dock_sys_pidfd_send_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0U);
}

static inline int dock_sys_close_range(unsigned first, unsigned last, unsigned flags)
{
	return (int)syscall(SYS_close_range, first, last, flags);
}

#endif
