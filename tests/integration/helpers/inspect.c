/* inspect: prints what the command inherited, one fact per line:
 * its argv, ids, open fds, signal mask/ignored/caught sets, the
 * foreground process group of stdin, and the environment. Exits 0. */
#include "common.h"
#include <sys/ioctl.h>

extern char **environ;

static void status_field(const char *name)
{
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0) return;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0) return;
	buf[n] = 0;
	char *p = strstr(buf, name);
	if (!p) return;
	p += strlen(name);
	while (*p == ':' || *p == '\t' || *p == ' ') p++;
	char *e = strchr(p, '\n');
	if (e) *e = 0;
	out("%s %s\n", name, p);
}

int main(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) out("arg %d %s\n", i, argv[i]);
	out("ids pid=%d ppid=%d pgid=%d sid=%d tpgid=%d\n", (int)getpid(), (int)getppid(),
	    (int)getpgrp(), (int)getsid(0), (int)tcgetpgrp(0));
	/* fds: snapshot first, so the directory's own fd can be left out */
	int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	char line[512] = "fds";
	size_t len = 3;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]) || atoi(e->d_name) == dfd) continue;
		len += (size_t)snprintf(line + len, sizeof line - len, " %s", e->d_name);
		if (len >= sizeof line) break;
	}
	if (d) closedir(d);
	out("%s\n", line);
	status_field("SigBlk");
	status_field("SigIgn");
	status_field("SigCgt");
	for (char **v = environ; *v; v++) out("env %s\n", *v);
	out("end\n");
	return 0;
}
