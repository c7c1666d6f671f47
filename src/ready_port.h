/* --bind-port: the port probes (see ready.h). */
#ifndef DOCK_READY_PORT_H
#define DOCK_READY_PORT_H

#include <stdbool.h>

/* Adds the gate "port N". Returns 0, or -1 after a message. strict: only
 * a socket held by a process of dock's tree counts. */
int dock_ready_port_setup(int port, bool strict);

/* The command runs: probes from now on until the port is seen, the command
 * ends or nothing can be looked at. Does nothing without a port to wait
 * for. */
void dock_ready_port_started(void);

#endif
