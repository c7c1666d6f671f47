#include "options.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "duration.h"
#include "signame.h"

/* How one option's value is taken. A handler returns 0, or -1 after writing
 * the reason (without the option's name) into err. */
typedef int (*option_fn)(struct dock_config *cfg, const char *value, char *err, size_t errlen);

struct option_spec {
	const char *name;	/* long name, without "--" */
	char shortname;		/* 0 when none */
	const char *meta;	/* value placeholder, NULL for a flag */
	bool repeatable;
	bool no_env;		/* -h/-v make no sense in the environment */
	option_fn apply;
	const char *help;
};

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
	char why[192], shown[160];

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
static int set_web_hook_header(struct dock_config *cfg, const char *v, char *err, size_t errlen)
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

static const struct option_spec specs[] = {
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
	{ "web-hook-header", 0, "'NAME: VALUE'", true, false, set_web_hook_header,
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

#define NSPECS (sizeof(specs) / sizeof(specs[0]))

/* Zeroes n bytes at p, storing only into the words that are not zero
 * already. dock's configuration is a static, zero-filled struct of some
 * 40 KiB, most of it room for --io targets that a run rarely has; reading a
 * page of it that was never written maps the kernel's shared zero page,
 * writing one (as memset does) gives dock a page of its own for as long as
 * it lives. So a plain `dock -- CMD` keeps 40 kB less resident. */
static void zero_unless_zero(void *p, size_t n)
{
	unsigned char *b = p;
	unsigned long w;
	size_t i = 0;

	for (; i + sizeof(w) <= n; i += sizeof(w)) {
		memcpy(&w, b + i, sizeof(w));
		if (w != 0)
			memset(b + i, 0, sizeof(w));
	}
	for (; i < n; i++)
		if (b[i] != 0)
			b[i] = 0;
}

static void config_defaults(struct dock_config *cfg)
{
	int i;

	zero_unless_zero(cfg, sizeof(*cfg));
	cfg->kill_timeout_ms = DOCK_DEFAULT_KILL_TIMEOUT_MS;
	cfg->web_hook_timeout_ms = DOCK_DEFAULT_HOOK_TIMEOUT_MS;
	cfg->io_connect_timeout_ms = DOCK_DEFAULT_IO_CONNECT_TIMEOUT_MS;
	cfg->web_hook_exit_timeout_ms = DOCK_DEFAULT_HOOK_EXIT_TIMEOUT_MS;
	cfg->log_keep = DOCK_DEFAULT_LOG_KEEP;
	for (i = 0; i < _NSIG; i++)
		cfg->rewrite[i] = (unsigned char)i;
	for (i = 0; i < 256; i++)
		cfg->remap_exit[i] = -1;
}

/* DOCK_KILL_TIMEOUT from "kill-timeout": upper case, '-' as '_'. */
static void env_name(const struct option_spec *o, char *buf, size_t len)
{
	size_t i, n = (size_t)snprintf(buf, len, "DOCK_%s", o->name);

	for (i = 5; i < n && i < len; i++)
		buf[i] = buf[i] == '-' ? '_' : (char)(buf[i] >= 'a' && buf[i] <= 'z' ? buf[i] - 32 : buf[i]);
}

static const char *env_lookup(char **envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

bool dock_options_is_own_env(const char *entry)
{
	return strncmp(entry, "DOCK_", 5) == 0;
}

static int env_flag(const char *v, bool *out)
{
	static const char *yes[] = { "1", "true", "yes", "on" };
	static const char *no[] = { "", "0", "false", "no", "off" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, 0;
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, 0;
	return -1;
}

/* A repeatable option's environment value holds several values separated by
 * commas or white space: DOCK_REWRITE="TERM:INT,HUP:0". */
static int apply_env_list(struct dock_config *cfg, const struct option_spec *o, const char *v,
			  char *err, size_t errlen)
{
	/* A header value may hold commas and spaces: headers go one a line. */
	const char *sep = o->apply == set_web_hook_header ? "\n" : ", \t\n";
	char *item;
	size_t n;

	for (;;) {
		v += strspn(v, sep);
		if (*v == '\0')
			return 0;
		n = strcspn(v, sep);
		if (n + 1 > sizeof(cfg->env_store) - cfg->env_store_used) {
			snprintf(err, errlen, "value too long");
			return -1;
		}
		item = cfg->env_store + cfg->env_store_used;
		cfg->env_store_used += n + 1;
		memcpy(item, v, n);
		item[n] = '\0';
		if (o->apply(cfg, item, err, errlen) < 0)
			return -1;
		v += n;
	}
}

static enum dock_options_result fail(char *err, size_t errlen, const char *who, const char *why)
{
	char reason[256];

	snprintf(reason, sizeof(reason), "%s", why);
	snprintf(err, errlen, "%s: %s", who, reason);
	return DOCK_OPTIONS_USAGE;
}

static const struct option_spec *find_long(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < NSPECS; i++)
		if (strlen(specs[i].name) == n && strncmp(specs[i].name, name, n) == 0)
			return &specs[i];
	return NULL;
}

static const struct option_spec *find_short(char c)
{
	size_t i;

	for (i = 0; i < NSPECS; i++)
		if (specs[i].shortname == c)
			return &specs[i];
	return NULL;
}

/* The --io destinations together: what one of them cannot say alone. */
static int check_io(struct dock_config *cfg, char *err, size_t errlen)
{
	char shown[160], other[160];
	size_t i, j, interactive = 0;

	for (i = 0; i < cfg->n_io; i++) {
		const struct dock_io_target *t = &cfg->io[i];

		for (j = 0; j < i; j++)
			if (memcmp(t, &cfg->io[j], sizeof(*t)) == 0) {
				dock_url_redact(cfg->io_text[i], shown, sizeof(shown));
				snprintf(err, errlen, "--io: '%.128s' given twice", shown);
				return -1;
			}
		if (t->kind != DOCK_IO_TCP && t->kind != DOCK_IO_TLS && t->kind != DOCK_IO_UNIX)
			continue;
		/* The command's terminal and stdin come from the interactive
		 * stream: two cannot share them. */
		if (interactive++ > 0) {
			for (j = 0; j < i; j++)
				if (cfg->io[j].kind == DOCK_IO_TCP || cfg->io[j].kind == DOCK_IO_TLS ||
				    cfg->io[j].kind == DOCK_IO_UNIX)
					break;
			dock_url_redact(cfg->io_text[j], other, sizeof(other));
			dock_url_redact(cfg->io_text[i], shown, sizeof(shown));
			snprintf(err, errlen, "--io: at most one interactive stream (tcp, tls, unix), "
				 "got '%.100s' and '%.100s'", other, shown);
			return -1;
		}
		/* On a terminal stderr is stdout: nothing tells their lines apart. */
		if (cfg->stderr_prefix.len != cfg->stdout_prefix.len ||
		    memcmp(cfg->stderr_prefix.text, cfg->stdout_prefix.text, cfg->stdout_prefix.len) != 0) {
			dock_url_redact(cfg->io_text[i], shown, sizeof(shown));
			snprintf(err, errlen, "--stderr-prefix: the interactive --io '%.128s' gives the "
				 "command a terminal, where stderr is stdout", shown);
			return -1;
		}
	}
	return 0;
}

/* Options that only make sense with others, checked once all are known. */
static int check_combination(struct dock_config *cfg, char *err, size_t errlen)
{
	char why[256];
	bool file_io = false;
	size_t i;

	/* Unless given, stderr lines get the stdout prefix. */
	if (cfg->stderr_prefix.len == 0)
		cfg->stderr_prefix = cfg->stdout_prefix;
	if (check_io(cfg, err, errlen) < 0)
		return -1;
	if (cfg->web_hook != NULL) {
		struct dock_url hook;

		if (dock_url_parse_http(cfg->web_hook, &hook, why, sizeof(why)) < 0) {
			dock_url_redact(cfg->web_hook, err, errlen);
			snprintf(why + strlen(why), sizeof(why) - strlen(why), " in '%.*s'", 128, err);
			snprintf(err, errlen, "--web-hook: %s", why);
			return -1;
		}
	}
	for (i = 0; i < cfg->n_io; i++)
		file_io = file_io || cfg->io[i].kind == DOCK_IO_FILE;

	if (!file_io && (cfg->log_rotate_ms || cfg->log_max_size)) {
		snprintf(err, errlen, "%s: needs a file --io", cfg->log_rotate_ms ? "--log-rotate" : "--log-max-size");
		return -1;
	}
	/* Rotation renames and recreates the file: a FIFO, a device or
	 * /dev/stdout (a link to a pipe) cannot be rotated. */
	for (i = 0; file_io && (cfg->log_rotate_ms || cfg->log_max_size) && i < cfg->n_io; i++) {
		const char *path = cfg->io[i].url.path;
		struct stat st;

		if (cfg->io[i].kind != DOCK_IO_FILE)
			continue;
		if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s: needs a regular file; --io %.*s is %s",
				 cfg->log_rotate_ms ? "--log-rotate" : "--log-max-size", 256, path,
				 S_ISDIR(st.st_mode)    ? "a directory"
				 : S_ISFIFO(st.st_mode) ? "a FIFO"
				 : S_ISCHR(st.st_mode)  ? "a character device"
				 : S_ISSOCK(st.st_mode) ? "a socket"
							: "not a regular file");
			return -1;
		}
	}
	if (cfg->strict_port_binding && cfg->bind_port == 0) {
		snprintf(err, errlen, "--strict-port-binding: needs --bind-port");
		return -1;
	}
	return 0;
}

enum dock_options_result dock_options_parse(struct dock_config *cfg, int argc, char **argv,
					    char **envp, char *err, size_t errlen)
{
	bool given[NSPECS] = { false };
	char name[64], why[256];
	int i = 1;
	size_t k;

	config_defaults(cfg);
	err[0] = '\0';
	/* no-color.org: set and not empty. Known first: prefixes are rendered
	 * as they are parsed. */
	cfg->no_color = env_lookup(envp, "NO_COLOR") != NULL && env_lookup(envp, "NO_COLOR")[0] != '\0';

	/* Command line first, only recording which options it sets, so that the
	 * environment can then fill just the others: a flag wins over DOCK_*. */
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const struct option_spec *o;
		const char *value = NULL;

		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		if (arg[1] == '-') {
			const char *eq = strchr(arg + 2, '=');
			size_t n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);

			o = find_long(arg + 2, n);
			if (o == NULL) {
				snprintf(err, errlen, "unknown option '%.*s' (see dock --help)",
					 (int)(n + 2 > 64 ? 64 : n + 2), arg);
				return DOCK_OPTIONS_USAGE;
			}
			snprintf(name, sizeof(name), "--%s", o->name);
			if (eq != NULL) {
				if (o->meta == NULL)
					return fail(err, errlen, name, "takes no value");
				value = eq + 1;
			}
		} else {
			/* Short flags may be clustered (-dv); none takes a value. */
			for (k = 1; arg[k]; k++) {
				o = find_short(arg[k]);
				if (o == NULL) {
					snprintf(err, errlen, "unknown option '-%c' (see dock --help)", arg[k]);
					return DOCK_OPTIONS_USAGE;
				}
				if (o->shortname == 'h')
					return DOCK_OPTIONS_HELP;
				if (o->shortname == 'v')
					return DOCK_OPTIONS_VERSION;
				o->apply(cfg, NULL, why, sizeof(why));
				given[o - specs] = true;
			}
			continue;
		}
		if (strcmp(o->name, "help") == 0)
			return DOCK_OPTIONS_HELP;
		if (strcmp(o->name, "version") == 0)
			return DOCK_OPTIONS_VERSION;
		if (o->meta != NULL && value == NULL) {
			if (i + 1 >= argc)
				return fail(err, errlen, name, "needs a value");
			value = argv[++i];
		}
		if (o->apply(cfg, value, why, sizeof(why)) < 0)
			return fail(err, errlen, name, why);
		given[o - specs] = true;
	}

	for (k = 0; k < NSPECS; k++) {
		const struct option_spec *o = &specs[k];
		const char *v;
		bool on;

		if (given[k] || o->no_env)
			continue;
		env_name(o, name, sizeof(name));
		v = env_lookup(envp, name);
		if (v == NULL)
			continue;
		if (o->meta == NULL) {
			if (env_flag(v, &on) < 0) {
				snprintf(why, sizeof(why), "expected 1 or 0, got '%.64s'", v);
				return fail(err, errlen, name, why);
			}
			if (on)
				o->apply(cfg, NULL, why, sizeof(why));
		} else if (o->repeatable) {
			if (apply_env_list(cfg, o, v, why, sizeof(why)) < 0)
				return fail(err, errlen, name, why);
		} else if (o->apply(cfg, v, why, sizeof(why)) < 0) {
			return fail(err, errlen, name, why);
		}
	}

	if (i >= argc) {
		snprintf(err, errlen, "no command given (see dock --help)");
		return DOCK_OPTIONS_USAGE;
	}
	if (check_combination(cfg, err, errlen) < 0)
		return DOCK_OPTIONS_USAGE;
	cfg->command = &argv[i];
	return DOCK_OPTIONS_RUN;
}

size_t dock_options_usage(char *buf, size_t len)
{
	size_t used = 0, k;
	int n;

#define APPEND(...)                                                                   \
	do {                                                                          \
		n = snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0, \
			     __VA_ARGS__);                                             \
		if (n > 0)                                                            \
			used += (size_t)n;                                            \
	} while (0)

	APPEND("usage: dock [OPTIONS] [--] COMMAND [ARG...]\n\n"
	       "Runs COMMAND as the main process of a container: forwards signals to it,\n"
	       "reaps every zombie, and when it ends stops the rest of the process tree\n"
	       "(SIGTERM, then SIGKILL after --kill-timeout) and exits with its status.\n\n"
	       "options:\n");
	for (k = 0; k < NSPECS; k++) {
		char left[48];
		const struct option_spec *o = &specs[k];

		if (o->shortname)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->shortname, o->name,
				 o->meta ? " " : "", o->meta ? o->meta : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->meta ? " " : "",
				 o->meta ? o->meta : "");
		if (strlen(left) > 30)
			APPEND("  %s\n  %-30s %s\n", left, "", o->help);
		else
			APPEND("  %-30s %s\n", left, o->help);
	}
	APPEND("\nStatus (web hook, status file): starting, running, then stopped (the command\n"
	       "exited 0 after --remap-exit, or ended after a stop signal dock forwarded:\n"
	       "TERM, INT, QUIT) or crashed (anything else: a non-zero exit, a signal nobody\n"
	       "asked for, a command that could not start).\n");
	APPEND("\nEvery long option may also be set as DOCK_<NAME> in the environment\n"
	       "(DOCK_KILL_TIMEOUT=10s, DOCK_THUG=1); a flag on the command line wins.\n"
	       "Exit status: the command's, 128+N if it died of signal N, 127 command not\n"
	       "found, 126 not executable, 2 usage error, 1 other failure before start.\n");
#undef APPEND
	return used;
}
