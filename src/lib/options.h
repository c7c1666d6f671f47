/* Command line and DOCK_* environment into a struct dock_config. Pure: the
 * parser reads only its arguments and writes only cfg and err. */
#ifndef DOCK_OPTIONS_H
#define DOCK_OPTIONS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errmax.h"
#include "prefix.h"
#include "status.h"
#include "url.h"

#define DOCK_DEFAULT_KILL_TIMEOUT_MS 5000ULL
#define DOCK_DEFAULT_HOOK_TIMEOUT_MS 10000ULL
#define DOCK_DEFAULT_IO_CONNECT_TIMEOUT_MS 5000ULL
#define DOCK_DEFAULT_HOOK_EXIT_TIMEOUT_MS 2000ULL
#define DOCK_DEFAULT_LOG_KEEP 5
#define DOCK_MAX_HOOK_HEADERS 16
#define DOCK_MAX_IO 8		/* --io destinations */

struct dock_config {
	char **command;			/* NULL-terminated argv of the main command */
	bool debug;
	bool thug;
	bool signal_group;
	uint64_t kill_timeout_ms;
	int pdeathsig;			/* 0: none */
	/* rewrite[s] is what signal s becomes when forwarded; 0 drops it. */
	unsigned char rewrite[_NSIG];
	/* remap_exit[c] is the exit code that replaces c, or -1 for none. */
	int16_t remap_exit[DOCK_STATUS_CODES];

	/* I/O (--io, --io-connect-timeout, --stdout-prefix, --stderr-prefix, --log-timestamps,
	 * --tls-insecure), parsed: nothing downstream parses them again. */
	struct dock_io_target io[DOCK_MAX_IO];	/* in the order given */
	const char *io_text[DOCK_MAX_IO];	/* each as given, for messages only:
						 * redact it (dock_url_redact) */
	size_t n_io;				/* 0: the command inherits dock's */
	struct dock_prefix stdout_prefix;	/* len 0: none */
	struct dock_prefix stderr_prefix;	/* the stdout one unless given */
	bool log_timestamps;
	bool no_color;				/* NO_COLOR was set */
	bool tls_insecure;
	uint64_t io_connect_timeout_ms;	/* a stream peer is waited for this long */

	/* Rotation of a file --io */
	uint64_t log_rotate_ms;		/* 0: no periodic rotation */
	unsigned log_keep;
	uint64_t log_max_size;		/* 0: no size limit */

	/* Reporting (--web-hook...) */
	const char *web_hook;			/* as given, for messages only: redact it */
	struct dock_url web_hook_url;		/* parsed, when web_hook is set */
	const char *web_hook_headers[DOCK_MAX_HOOK_HEADERS];
	size_t n_web_hook_headers;
	uint64_t web_hook_timeout_ms;
	uint64_t web_hook_exit_timeout_ms;	/* how long the hook may hold the exit */
	const char *status_file;

	/* Readiness */
	int bind_port;			/* 0: none */
	bool strict_port_binding;
	bool notify;

	/* Values of repeatable options taken from one DOCK_* variable are split
	 * into here, so the parser never writes into the environment. */
	char env_store[2048];
	size_t env_store_used;
};

enum dock_options_result {
	DOCK_OPTIONS_RUN = 0,
	DOCK_OPTIONS_HELP = 1,
	DOCK_OPTIONS_VERSION = 2,
	DOCK_OPTIONS_USAGE = -1,	/* err holds one line naming option and value */
};

/* Fills cfg from envp (DOCK_* names) and then argv (which wins). */
enum dock_options_result dock_options_parse(struct dock_config *cfg, int argc, char **argv,
					    char **envp, char *err, size_t errlen);

/* Writes the usage text (every option) into buf; returns its length, or the
 * length it would need when len is too small, as snprintf. */
size_t dock_options_usage(char *buf, size_t len);

/* True when an environment entry "NAME=value" is one dock consumes. */
bool dock_options_is_own_env(const char *entry);

#endif
