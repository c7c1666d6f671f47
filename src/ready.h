/* Readiness: the conditions that hold "running" back, each a lifecycle gate.
 *
 * --bind-port: a TCP socket listening on the port, or a UDP socket bound to
 * it, IPv4 or IPv6. The kernel has no event for a bind, so dock asks sock_diag
 * netlink (or reads /proc/net/{tcp,udp}{,6} without it) on a short timer from
 * the command's start until the port is seen; then the timer stops.
 * --strict-port-binding: the socket must be held by a process of dock's tree.
 *
 * --notify: the sd_notify protocol. dock binds a datagram socket, names it in
 * NOTIFY_SOCKET for the command, and READY=1 opens the gate.
 *
 * ready.c sets up what the options ask for; ready_port.c waits for the
 * port and ready_probe.c looks for it; ready_notify.c reads the socket
 * (the message parser is in lib/notify.c). */
#ifndef DOCK_READY_H
#define DOCK_READY_H

#include <stdbool.h>
#include <sys/types.h>

/* Before the command is spawned: adds the gates, opens the notify socket and
 * sets NOTIFY_SOCKET in dock's environment. Returns 0, or -1 after a message
 * when a readiness condition cannot be set up at all. */
struct dock_ready_settings {
	bool notify;			/* --notify */
	int bind_port;			/* --bind-port; 0: none */
	bool strict_port_binding;	/* --strict-port-binding */
};
int dock_ready_setup(const struct dock_ready_settings *s);

/* Right after the command's exec succeeded: starts probing for the port. */
void dock_ready_started(pid_t pid);

#endif
