/* The option table: every option's names, value, handler and help line,
 * and the handlers, which parse one value into struct dock_config. Pure. */
#include "options_table.h"

#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "signame.h"

#define FLAG_SETTER(fn, field)                                                        \
	static int fn(struct dock_config *cfg, const char *v, char *e, size_t l)      \
	{                                                                             \
		(void)v;                                                              \
		(void)e;                                                              \
		(void)l;                                                              \
		cfg->field = true;                                                    \
		return 0;                                                             \
	}

FLAG_SETTER(set_debug, debug)
FLAG_SETTER(set_thug, thug)
FLAG_SETTER(set_signal_group, signal_group)
FLAG_SETTER(set_tls_insecure, tls_insecure)
FLAG_SETTER(set_strict_port_binding, strict_port_binding)
FLAG_SETTER(set_notify, notify)
FLAG_SETTER(set_log_timestamps, log_timestamps)

static int set_nonempty(const char **field, const char *v, char *err, size_t errlen)
{
	if (v[0] == '\0') {
		snprintf(err, errlen, "needs a non-empty value");
		return -1;
	}
	*field = v;
	return 0;
}

/* "-" is dock's own stdout and stderr; anything else an --io URL or path.
 * A file named "-" is still reachable as ./- or file://-. */
static int set_io(struct dock_config *cfg, const char *v, char *err, size_t errlen)
{
	struct dock_io_target *t;
	char why[DOCK_ERR_MAX], shown[160];

	if (cfg->n_io == DOCK_MAX_IO) {
		snprintf(err, errlen, "at most %d destinations", DOCK_MAX_IO);
		return -1;
	}
	if (set_nonempty(&cfg->io_text[cfg->n_io], v, err, errlen) < 0)
		return -1;
	t = &cfg->io[cfg->n_io];
	if (strcmp(v, "-") == 0) {
		memset(t, 0, sizeof(*t));
		t->kind = DOCK_IO_STDIO;
	} else if (dock_url_parse_io(v, t, why, sizeof(why)) < 0) {
		dock_url_redact(v, shown, sizeof(shown));
		snprintf(err, errlen, "%s in '%.128s'", why, shown);
		return -1;
	}
	cfg->n_io++;
	return 0;
}

/* NO_COLOR is read before any option is applied (see dock_options_parse),
 * so a prefix is parsed, and rendered, where it is given. */
static int set_prefix(struct dock_prefix *p, const struct dock_config *cfg, const char *v,
		      char *err, size_t errlen)
{
	if (v[0] == '\0') {
		snprintf(err, errlen, "needs a non-empty value");
		return -1;
	}
	return dock_prefix_parse(v, cfg->no_color, p, err, errlen);
}

static int set_stdout_prefix(struct dock_config *cfg, const char *v, char *err, size_t errlen)
{ return set_prefix(&cfg->stdout_prefix, cfg, v, err, errlen); }
static int set_stderr_prefix(struct dock_config *cfg, const char *v, char *err, size_t errlen)
{ return set_prefix(&cfg->stderr_prefix, cfg, v, err, errlen); }
static int set_web_hook(struct dock_config *cfg, const char *v, char *err, size_t errlen)
{ return set_nonempty(&cfg->web_hook, v, err, errlen); }
static int set_status_file(struct dock_config *cfg, const char *v, char *err, size_t errlen)
{ return set_nonempty(&cfg->status_file, v, err, errlen); }

static int parse_uint_range(const char *v, unsigned long lo, unsigned long hi, unsigned long *out)
{
	unsigned long n = 0;
	const char *p = v;

	if (*p == '\0')
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || n > hi)
			return -1;
		n = n * 10 + (unsigned long)(*p - '0');
	}
	if (n < lo || n > hi)
		return -1;
	*out = n;
	return 0;
}

static int set_bind_port(struct dock_config *cfg, const char *v, char *err, size_t errlen)
{
	unsigned long n;

	if (parse_uint_range(v, 1, 65535, &n) < 0) {
		snprintf(err, errlen, "invalid port '%s' (1-65535)", v);
		return -1;
	}
	cfg->bind_port = (int)n;
	return 0;
}

static int set_log_keep(struct dock_config *cfg, const char *v, char *err, size_t errlen)
{
	unsigned long n;

	if (parse_uint_range(v, 1, 10000, &n) < 0) {
		snprintf(err, errlen, "invalid count '%s' (1-10000)", v);
		return -1;
	}
	cfg->log_keep = (unsigned)n;
	return 0;
}

static int set_log_rotate(struct dock_config *cfg, const char *v, char *err, size_t errlen)
{
	/* A bare number is hours, as the Go dock that dock replaces took --log-rotate
	 * (docs/decisions.md), so its images keep working. */
	if (dock_duration_parse(v, DOCK_MS_PER_HOUR, &cfg->log_rotate_ms) < 0 ||
	    cfg->log_rotate_ms < 1000) {
		snprintf(err, errlen, "invalid period '%s' (hours, or 90s, 30m, 6h, 1d; at least 1s)", v);
		return -1;
	}
	return 0;
}

static int set_log_max_size(struct dock_config *cfg, const char *v, char *err, size_t errlen)
{
	if (dock_size_parse(v, &cfg->log_max_size) < 0) {
		snprintf(err, errlen, "invalid size '%s' (examples: 512k, 10M, 1G)", v);
		return -1;
	}
	return 0;
}

static int set_web_hook_timeout(struct dock_config *cfg, const char *v, char *err, size_t errlen)
{
	if (dock_duration_parse(v, DOCK_MS_PER_SECOND, &cfg->web_hook_timeout_ms) < 0 ||
	    cfg->web_hook_timeout_ms == 0) {
		snprintf(err, errlen, "invalid duration '%s' (examples: 500ms, 10s, 1m)", v);
		return -1;
	}
	return 0;
}

static int set_web_hook_exit_timeout(struct dock_config *cfg, const char *v, char *err, size_t errlen)
{
	if (dock_duration_parse(v, DOCK_MS_PER_SECOND, &cfg->web_hook_exit_timeout_ms) < 0 ||
	    cfg->web_hook_exit_timeout_ms == 0) {
		snprintf(err, errlen, "invalid duration '%s' (examples: 500ms, 2s, 10s)", v);
		return -1;
	}
	return 0;
}

/* "Name: value" with an HTTP token as name; no CR or LF anywhere, so a
 * header can never smuggle a second header or a body into the request. */
int dock_options_set_web_hook_header(struct dock_config *cfg, const char *v, char *err, size_t errlen)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";
	const char *p = v;

	for (; *p && *p != ':'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(tchar, *p)))
			break;
	/* The value is often a secret (Authorization): an error shows only
	 * the name part, the run of token characters before p. */
	if (strpbrk(v, "\r\n") != NULL) {
		snprintf(err, errlen, "header '%.*s' holds a line break", (int)(p - v > 64 ? 64 : p - v), v);
		return -1;
	}
	if (p == v || *p != ':') {
		snprintf(err, errlen, "expected 'Name: value', got '%.*s%s' (the rest not shown)",
			 (int)(p - v > 64 ? 64 : p - v), v, *p ? "..." : "");
		return -1;
	}
	if (cfg->n_web_hook_headers == DOCK_MAX_HOOK_HEADERS) {
		snprintf(err, errlen, "at most %d headers", DOCK_MAX_HOOK_HEADERS);
		return -1;
	}
	cfg->web_hook_headers[cfg->n_web_hook_headers++] = v;
	return 0;
}

static int set_io_connect_timeout(struct dock_config *cfg, const char *v, char *err, size_t errlen)
{
	/* At least one attempt needs some time; a day is already no bound. */
	if (dock_duration_parse(v, DOCK_MS_PER_SECOND, &cfg->io_connect_timeout_ms) < 0 ||
	    cfg->io_connect_timeout_ms == 0 || cfg->io_connect_timeout_ms > DOCK_MS_PER_HOUR * 24) {
		snprintf(err, errlen, "invalid duration '%s' (examples: 500ms, 5s, 1m; at most 1d)", v);
		return -1;
	}
	return 0;
}

static int set_kill_timeout(struct dock_config *cfg, const char *v, char *err, size_t errlen)
{
	if (dock_duration_parse(v, DOCK_MS_PER_SECOND, &cfg->kill_timeout_ms) < 0) {
		snprintf(err, errlen, "invalid duration '%s' (examples: 500ms, 5s, 1m)", v);
		return -1;
	}
	return 0;
}

static int set_pdeathsig(struct dock_config *cfg, const char *v, char *err, size_t errlen)
{
	int sig = dock_signame_parse(v, 0);

	if (sig < 0) {
		snprintf(err, errlen, "unknown signal '%s'", v);
		return -1;
	}
	cfg->pdeathsig = sig;
	return 0;
}

static int set_rewrite(struct dock_config *cfg, const char *v, char *err, size_t errlen)
{
	char from_text[32];
	const char *colon = strchr(v, ':');
	size_t n;
	int from, to;

	if (colon == NULL || (n = (size_t)(colon - v)) == 0 || n >= sizeof(from_text)) {
		snprintf(err, errlen, "expected SIG:SIG, got '%s'", v);
		return -1;
	}
	memcpy(from_text, v, n);
	from_text[n] = '\0';
	from = dock_signame_parse(from_text, 0);
	to = dock_signame_parse(colon + 1, 1);
	if (from < 0 || to < 0) {
		snprintf(err, errlen, "unknown signal in '%s'", v);
		return -1;
	}
	if (from == SIGKILL || from == SIGSTOP || from == SIGCHLD) {
		snprintf(err, errlen, "signal '%s' is never forwarded, so cannot be rewritten", from_text);
		return -1;
	}
	cfg->rewrite[from] = (unsigned char)to;
	return 0;
}

static int parse_exit_code(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	if (n == 0 || n > 3)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= 255 ? v : -1;
}

static int set_remap_exit(struct dock_config *cfg, const char *v, char *err, size_t errlen)
{
	const char *colon = strchr(v, ':');
	int from, to = 0;

	from = parse_exit_code(v, colon ? (size_t)(colon - v) : strlen(v));
	if (colon != NULL)
		to = parse_exit_code(colon + 1, strlen(colon + 1));
	if (from < 0 || to < 0) {
		snprintf(err, errlen, "expected CODE[:TO] with codes 0-255, got '%s'", v);
		return -1;
	}
	cfg->remap_exit[from] = (int16_t)to;
	return 0;
}

/* The definition's size comes from its initializers: it must agree with
 * DOCK_OPTIONS_COUNT in the header, or the two declarations conflict. */
const struct dock_option_spec dock_options_table[] = {
	{ "help", 'h', NULL, false, true, NULL, "print this help and exit" },
	{ "version", 'v', NULL, false, true, NULL, "print the version and exit" },
	{ "debug", 'd', NULL, false, false, set_debug, "verbose diagnostics on stderr" },
	{ "kill-timeout", 0, "DURATION", false, false, set_kill_timeout,
	  "grace from SIGTERM to SIGKILL for the rest of the\n"
	  "                                 tree (default 5s)" },
	{ "thug", 0, NULL, false, false, set_thug,
	  "INT/TERM/QUIT that the command blocks or ignores\n"
	  "                                 becomes SIGKILL" },
	{ "rewrite", 0, "SIG:SIG", true, false, set_rewrite,
	  "rewrite a signal before forwarding; SIG:0 drops it" },
	{ "signal-group", 0, NULL, false, false, set_signal_group,
	  "forward signals to the command's whole process group" },
	{ "remap-exit", 0, "CODE[:TO]", true, false, set_remap_exit,
	  "exit TO (default 0) when the command exits CODE" },
	{ "pdeathsig", 0, "SIG", false, false, set_pdeathsig,
	  "when not PID 1: get SIG when dock's parent dies" },
	{ "io", 0, "URL", true, false, set_io,
	  "where the command's streams go: PATH, file://, tcp://, tls://,\n"
	  "                                 unix://, udp://, unixgram://, or - (dock's\n"
	  "                                 own stdout and stderr); repeatable: each\n"
	  "                                 destination gets every line" },
	{ "io-connect-timeout", 0, "DURATION", false, false, set_io_connect_timeout,
	  "wait this long for a tcp, tls or unix --io peer\n"
	  "                                 that is not up yet (default 5s)" },
	{ "stdout-prefix", 0, "PREFIX[:COLOR]", false, false, set_stdout_prefix,
	  "start every output line with PREFIX; COLOR: white,\n"
	  "                                 green, blue, magenta, yellow, cyan, red" },
	{ "stderr-prefix", 0, "PREFIX[:COLOR]", false, false, set_stderr_prefix,
	  "start every stderr line with PREFIX instead\n"
	  "                                 (default: the --stdout-prefix one)" },
	{ "log-timestamps", 0, NULL, false, false, set_log_timestamps,
	  "start every output line with the time it was read:\n"
	  "                                 RFC 3339, UTC, milliseconds" },
	{ "tls-insecure", 0, NULL, false, false, set_tls_insecure,
	  "do not verify TLS certificates (warns once)" },
	{ "log-rotate", 0, "PERIOD", false, false, set_log_rotate,
	  "with a file --io: rotate every PERIOD (hours,\n"
	  "                                 or 90s, 30m, 6h, 1d)" },
	{ "log-keep", 0, "N", false, false, set_log_keep, "archives kept by rotation (default 5)" },
	{ "log-max-size", 0, "SIZE", false, false, set_log_max_size,
	  "also rotate when the log file passes SIZE (10M, 1G)" },
	{ "web-hook", 0, "URL", false, false, set_web_hook,
	  "PUT each status change as JSON to an http(s) URL" },
	{ "web-hook-header", 0, "'NAME: VALUE'", true, false, dock_options_set_web_hook_header,
	  "extra header on hook requests" },
	{ "web-hook-timeout", 0, "DURATION", false, false, set_web_hook_timeout,
	  "bound on one hook delivery, retries included\n"
	  "                                 (default 10s)" },
	{ "web-hook-exit-timeout", 0, "DURATION", false, false, set_web_hook_exit_timeout,
	  "how long the last status may hold dock's exit\n"
	  "                                 once the tree is gone (default 2s)" },
	{ "status-file", 0, "PATH", false, false, set_status_file,
	  "keep the current status as JSON in PATH" },
	{ "bind-port", 0, "PORT", false, false, set_bind_port,
	  "report running only once PORT is bound" },
	{ "strict-port-binding", 0, NULL, false, false, set_strict_port_binding,
	  "only a socket of dock's process tree counts" },
	{ "notify", 0, NULL, false, false, set_notify,
	  "running once the command sends READY=1 to\n"
	  "                                 $NOTIFY_SOCKET" },
};
