#include "pty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int dock_pty_open(int *master, int *slave)
{
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	struct termios tio;
	char name[64];
	int m, s, saved;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return -1;
	if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, name, sizeof(name)) != 0)
		goto fail;
	/* O_NOCTTY: the slave becomes the command's controlling terminal in
	 * the child (TIOCSCTTY after setsid), never dock's. */
	s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		goto fail;
	if (tcgetattr(s, &tio) == 0) {
		/* The peer is usually a terminal of its own, which echoes already;
		 * a second echo would double every keystroke. */
		tio.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
		tcsetattr(s, TCSANOW, &tio);
	}
	/* A zero-sized terminal confuses full-screen programs. */
	ioctl(s, TIOCSWINSZ, &ws);
	if (fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK) < 0) {
		saved = errno;
		close(s);
		errno = saved;
		goto fail;
	}
	*master = m;
	*slave = s;
	return 0;
fail:
	saved = errno;
	close(m);
	errno = saved;
	return -1;
}
