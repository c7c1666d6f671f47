/* --notify: the sd_notify socket (see ready.h). */
#ifndef DOCK_READY_NOTIFY_H
#define DOCK_READY_NOTIFY_H

/* Binds the socket, watches it in the loop, sets NOTIFY_SOCKET in dock's
 * environment and adds the gate. Returns 0, or -1 after a message. */
int dock_ready_notify_setup(void);

#endif
