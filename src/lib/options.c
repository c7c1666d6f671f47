/* The command line and DOCK_* environment into a struct dock_config: each
 * option's value through its handler (options_table.c), then the checks
 * that need them all. Pure. */
#include "options.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "options_table.h"

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
static void env_name(const struct dock_option_spec *o, char *buf, size_t len)
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
static int apply_env_list(struct dock_config *cfg, const struct dock_option_spec *o, const char *v,
			  char *err, size_t errlen)
{
	/* A header value may hold commas and spaces: headers go one a line. */
	const char *sep = o->apply == dock_options_set_web_hook_header ? "\n" : ", \t\n";
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
	char reason[DOCK_ERR_MAX];

	snprintf(reason, sizeof(reason), "%s", why);
	snprintf(err, errlen, "%s: %s", who, reason);
	return DOCK_OPTIONS_USAGE;
}

static const struct dock_option_spec *find_long(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < DOCK_OPTIONS_COUNT; i++)
		if (strlen(dock_options_table[i].name) == n &&
		    strncmp(dock_options_table[i].name, name, n) == 0)
			return &dock_options_table[i];
	return NULL;
}

static const struct dock_option_spec *find_short(char c)
{
	size_t i;

	for (i = 0; i < DOCK_OPTIONS_COUNT; i++)
		if (dock_options_table[i].shortname == c)
			return &dock_options_table[i];
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
				 "got '%.90s' and '%.90s'", other, shown);
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
	char why[DOCK_ERR_MAX];
	bool file_io = false;
	size_t i;

	/* Unless given, stderr lines get the stdout prefix. */
	if (cfg->stderr_prefix.len == 0)
		cfg->stderr_prefix = cfg->stdout_prefix;
	if (check_io(cfg, err, errlen) < 0)
		return -1;
	if (cfg->web_hook != NULL) {
		if (dock_url_parse_http(cfg->web_hook, &cfg->web_hook_url, why, sizeof(why)) < 0) {
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
	if (cfg->strict_port_binding && cfg->bind_port == 0) {
		snprintf(err, errlen, "--strict-port-binding: needs --bind-port");
		return -1;
	}
	return 0;
}

/* One command-line option: --name, --name=value or --name value (the
 * latter takes argv[*i + 1]), or a cluster of short flags (-dv). Records
 * in given which options the command line set. */
static enum dock_options_result apply_arg(struct dock_config *cfg, int argc, char **argv, int *i,
					  bool given[], char *err, size_t errlen)
{
	const char *arg = argv[*i], *value = NULL, *eq;
	const struct dock_option_spec *o;
	char name[64], why[DOCK_ERR_MAX];
	size_t n, k;

	if (arg[1] != '-') {
		/* Short flags may be clustered (-dv); none takes a value. */
		for (k = 1; arg[k]; k++) {
			o = find_short(arg[k]);
			if (o == NULL) {
				snprintf(err, errlen, "unknown option '-%c' (see dock --help)", arg[k]);
				return DOCK_OPTIONS_USAGE;
			}
			if (o->apply == NULL)	/* -h, -v */
				return o->shortname == 'h' ? DOCK_OPTIONS_HELP : DOCK_OPTIONS_VERSION;
			o->apply(cfg, NULL, why, sizeof(why));
			given[o - dock_options_table] = true;
		}
		return DOCK_OPTIONS_RUN;
	}
	eq = strchr(arg + 2, '=');
	n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
	o = find_long(arg + 2, n);
	if (o == NULL) {
		snprintf(err, errlen, "unknown option '%.*s' (see dock --help)", (int)(n + 2 > 64 ? 64 : n + 2),
			 arg);
		return DOCK_OPTIONS_USAGE;
	}
	snprintf(name, sizeof(name), "--%s", o->name);
	if (eq != NULL && o->meta == NULL)
		return fail(err, errlen, name, "takes no value");
	if (o->apply == NULL)	/* --help, --version */
		return o->shortname == 'h' ? DOCK_OPTIONS_HELP : DOCK_OPTIONS_VERSION;
	if (eq != NULL)
		value = eq + 1;
	else if (o->meta != NULL && *i + 1 >= argc)
		return fail(err, errlen, name, "needs a value");
	else if (o->meta != NULL)
		value = argv[++*i];
	if (o->apply(cfg, value, why, sizeof(why)) < 0)
		return fail(err, errlen, name, why);
	given[o - dock_options_table] = true;
	return DOCK_OPTIONS_RUN;
}

/* Each option the command line left unset, from its DOCK_* variable. */
static enum dock_options_result apply_env(struct dock_config *cfg, char **envp, const bool given[],
					  char *err, size_t errlen)
{
	char name[64], why[DOCK_ERR_MAX];
	const char *v;
	size_t k;
	bool on;

	for (k = 0; k < DOCK_OPTIONS_COUNT; k++) {
		const struct dock_option_spec *o = &dock_options_table[k];

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
	return DOCK_OPTIONS_RUN;
}

enum dock_options_result dock_options_parse(struct dock_config *cfg, int argc, char **argv,
					    char **envp, char *err, size_t errlen)
{
	bool given[DOCK_OPTIONS_COUNT] = { false };
	enum dock_options_result r;
	const char *no_color = env_lookup(envp, "NO_COLOR");
	int i;

	config_defaults(cfg);
	err[0] = '\0';
	/* no-color.org: set and not empty. Known first: prefixes are rendered
	 * as they are parsed. */
	cfg->no_color = no_color != NULL && no_color[0] != '\0';

	/* Command line first, only recording which options it sets, so that the
	 * environment can then fill just the others: a flag wins over DOCK_*. */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (argv[i][0] != '-' || argv[i][1] == '\0')
			break;
		r = apply_arg(cfg, argc, argv, &i, given, err, errlen);
		if (r != DOCK_OPTIONS_RUN)
			return r;
	}
	r = apply_env(cfg, envp, given, err, errlen);
	if (r != DOCK_OPTIONS_RUN)
		return r;
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
	for (k = 0; k < DOCK_OPTIONS_COUNT; k++) {
		char left[48];
		const struct dock_option_spec *o = &dock_options_table[k];

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
