#include "ready.h"

#include "ready_notify.h"
#include "ready_port.h"
#include "tree.h"

int dock_ready_setup(const struct dock_ready_settings *s)
{
	if (!s->notify && s->bind_port == 0)
		return 0;
	/* The root of "dock's tree" for both the notify sender check and
	 * --strict-port-binding, fixed now: dock_tree_self() reads /proc once
	 * and keeps the answer. */
	(void)dock_tree_self();
	if (s->notify && dock_ready_notify_setup() < 0)
		return -1;
	if (s->bind_port > 0 && dock_ready_port_setup(s->bind_port, s->strict_port_binding) < 0)
		return -1;
	return 0;
}

void dock_ready_started(pid_t pid)
{
	(void)pid;
	dock_ready_port_started();
}
