#include "paths.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "url.h"

static struct {
	char cwd[PATH_MAX];
	bool cwd_tried, cwd_known;
	/* A relative path stayed relative: leaving the directory would
	 * change what it names. */
	bool keep_cwd;
	char status_file[PATH_MAX];
} paths;

int dock_paths_join(const char *dir, const char *rel, char *out, size_t len)
{
	int n;

	if (rel[0] == '/')
		n = snprintf(out, len, "%s", rel);
	else
		n = snprintf(out, len, "%s%s%s", dir,
			     dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/", rel);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int dock_paths_join_list(const char *dir, const char *list, char *out, size_t len)
{
	const char *s = list;
	size_t used = 0;

	if (len == 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	out[0] = '\0';
	for (;;) {
		size_t n = strcspn(s, ":");
		char entry[PATH_MAX];

		if (n >= sizeof(entry)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(entry, s, n);
		entry[n] = '\0';
		/* An empty entry stays empty: it names nothing either way. */
		if (used > 0 || s != list) {
			if (used + 1 >= len) {
				errno = ENAMETOOLONG;
				return -1;
			}
			out[used++] = ':';
			out[used] = '\0';
		}
		if (n > 0 && dock_paths_join(dir, entry, out + used, len - used) < 0)
			return -1;
		used += strlen(out + used);
		if (s[n] == '\0')
			return 0;
		s += n + 1;
	}
}

static const char *cwd(void)
{
	if (!paths.cwd_tried) {
		paths.cwd_tried = true;
		/* getcwd fails when the directory was removed, or a component
		 * above it cannot be searched; relative paths still work then,
		 * from where dock is. */
		paths.cwd_known = getcwd(paths.cwd, sizeof(paths.cwd)) != NULL && paths.cwd[0] == '/';
		if (!paths.cwd_known)
			dock_debug("cannot tell the current directory (%s)", strerror(errno));
	}
	return paths.cwd_known ? paths.cwd : NULL;
}

/* rel made absolute into out, or false (and dock keeps its directory). */
static bool absolute(const char *what, const char *rel, char *out, size_t len)
{
	const char *dir = cwd();

	if (dir != NULL && dock_paths_join(dir, rel, out, len) == 0)
		return true;
	if (dir != NULL)
		dock_debug("%s %s: too long once made absolute", what, rel);
	paths.keep_cwd = true;
	return false;
}

void dock_paths_resolve(struct dock_io_target *targets, size_t n, const char **status_file)
{
	char abs[PATH_MAX];
	size_t i;

	/* Network and socket destinations are connected before dock moves;
	 * only files are opened again later (rotation reopens by name). */
	for (i = 0; i < n; i++) {
		struct dock_io_target *t = &targets[i];

		if (t->kind != DOCK_IO_FILE || t->url.path[0] == '/' ||
		    !absolute("--io", t->url.path, abs, sizeof(abs)))
			continue;
		if (strlen(abs) < sizeof(t->url.path))
			memcpy(t->url.path, abs, strlen(abs) + 1);
		else
			paths.keep_cwd = true;
	}
	if (*status_file != NULL && (*status_file)[0] != '/' &&
	    absolute("--status-file", *status_file, paths.status_file, sizeof(paths.status_file)))
		*status_file = paths.status_file;
}

/* A relative SSL_CERT_FILE or SSL_CERT_DIR made absolute in dock's own
 * environment; false when it cannot be. */
static bool absolute_env(const char *name, bool list)
{
	const char *v = getenv(name), *dir;
	char out[PATH_MAX * 2];

	if (v == NULL || v[0] == '\0')
		return true;
	if (!list && v[0] == '/')
		return true;
	if (list && v[0] == '/' && strstr(v, ":") == NULL)
		return true;
	dir = cwd();
	if (dir == NULL)
		return false;
	if ((list ? dock_paths_join_list(dir, v, out, sizeof(out))
		  : dock_paths_join(dir, v, out, sizeof(out))) < 0)
		return false;
	if (strcmp(out, v) == 0)
		return true;
	return setenv(name, out, 1) == 0;
}

bool dock_paths_leave_cwd(void)
{
	if (!absolute_env("SSL_CERT_FILE", false) || !absolute_env("SSL_CERT_DIR", true))
		paths.keep_cwd = true;
	if (paths.keep_cwd) {
		dock_debug("a relative path could not be made absolute: staying in the current "
			   "directory");
		return false;
	}
	if (chdir("/") < 0) {
		dock_warn("chdir /");
		return false;
	}
	return true;
}
