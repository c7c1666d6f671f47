#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>

#include "options.h"
#include "unit.h"

static struct dock_config cfg;
static char err[DOCK_ERR_MAX];

/* Parses a NULL-terminated list of words, with env (may be NULL). */
static int parse_env(char **env, ...)
{
	static char *argv[32];
	static char *noenv[] = { NULL };
	va_list ap;
	int argc = 0;

	argv[argc++] = "dock";
	va_start(ap, env);
	for (;;) {
		char *w = va_arg(ap, char *);

		if (w == NULL)
			break;
		argv[argc++] = w;
	}
	va_end(ap);
	argv[argc] = NULL;
	return dock_options_parse(&cfg, argc, argv, env ? env : noenv, err, sizeof(err));
}

#define parse(...) parse_env(NULL, __VA_ARGS__, (char *)NULL)

UNIT_SUITE(test_options)
{
	char buf[4096];
	size_t n;

	CHECK_EQ_INT(parse("sh", "-c", "exit 3"), DOCK_OPTIONS_RUN);
	CHECK_EQ_STR(cfg.command[0], "sh");
	CHECK_EQ_STR(cfg.command[1], "-c");
	CHECK(cfg.command[3] == NULL);
	CHECK_EQ_INT(cfg.kill_timeout_ms, 5000);
	CHECK(!cfg.debug && !cfg.thug && !cfg.signal_group);
	CHECK_EQ_INT(cfg.rewrite[SIGTERM], SIGTERM);
	CHECK_EQ_INT(cfg.remap_exit[0], -1);

	/* Parsing stops at the first non-option: the command's own flags stay. */
	CHECK_EQ_INT(parse("-d", "ls", "-d", "--thug"), DOCK_OPTIONS_RUN);
	CHECK(cfg.debug);
	CHECK(!cfg.thug);
	CHECK_EQ_STR(cfg.command[1], "-d");
	CHECK_EQ_INT(parse("--", "--thug"), DOCK_OPTIONS_RUN);
	CHECK_EQ_STR(cfg.command[0], "--thug");
	CHECK_EQ_INT(parse("-"), DOCK_OPTIONS_RUN);
	CHECK_EQ_STR(cfg.command[0], "-");

	/* How long the hook may hold the exit: 2 s unless told, never 0. */
	CHECK_EQ_INT(parse("x"), DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(cfg.web_hook_exit_timeout_ms, 2000);
	CHECK_EQ_INT(cfg.web_hook_timeout_ms, 10000);
	CHECK_EQ_INT(parse("--web-hook-exit-timeout", "500ms", "x"), DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(cfg.web_hook_exit_timeout_ms, 500);
	CHECK_EQ_INT(parse("--web-hook-exit-timeout=30s", "x"), DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(cfg.web_hook_exit_timeout_ms, 30000);
	CHECK_EQ_INT(parse("--web-hook-exit-timeout", "0", "x"), DOCK_OPTIONS_USAGE);
	CHECK(strstr(err, "--web-hook-exit-timeout") != NULL);
	CHECK_EQ_INT(parse("--web-hook-exit-timeout", "soon", "x"), DOCK_OPTIONS_USAGE);
	{
		char *env[] = { "DOCK_WEB_HOOK_EXIT_TIMEOUT=3s", NULL };

		CHECK_EQ_INT(parse_env(env, "x", (char *)NULL), DOCK_OPTIONS_RUN);
		CHECK_EQ_INT(cfg.web_hook_exit_timeout_ms, 3000);
		CHECK_EQ_INT(parse_env(env, "--web-hook-exit-timeout", "1s", "x", (char *)NULL), DOCK_OPTIONS_RUN);
		CHECK_EQ_INT(cfg.web_hook_exit_timeout_ms, 1000);
	}

	CHECK_EQ_INT(parse("--kill-timeout", "2s", "--thug", "--signal-group", "x"), DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(cfg.kill_timeout_ms, 2000);
	CHECK(cfg.thug && cfg.signal_group);
	CHECK_EQ_INT(parse("--kill-timeout=250ms", "x"), DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(cfg.kill_timeout_ms, 250);
	CHECK_EQ_INT(parse("--rewrite", "TERM:INT", "--rewrite=HUP:0", "--rewrite", "10:12", "x"),
		     DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(cfg.rewrite[SIGTERM], SIGINT);
	CHECK_EQ_INT(cfg.rewrite[SIGHUP], 0);
	CHECK_EQ_INT(cfg.rewrite[10], 12);
	CHECK_EQ_INT(cfg.rewrite[SIGINT], SIGINT);
	CHECK_EQ_INT(parse("--remap-exit", "143", "--remap-exit", "1:2", "x"), DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(cfg.remap_exit[143], 0);
	CHECK_EQ_INT(cfg.remap_exit[1], 2);
	CHECK_EQ_INT(parse("--pdeathsig", "KILL", "x"), DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(cfg.pdeathsig, SIGKILL);
	CHECK_EQ_INT(parse("-dh"), DOCK_OPTIONS_HELP);
	CHECK_EQ_INT(parse("--help"), DOCK_OPTIONS_HELP);
	CHECK_EQ_INT(parse("-v"), DOCK_OPTIONS_VERSION);
	CHECK_EQ_INT(parse("--version", "x"), DOCK_OPTIONS_VERSION);

	/* Usage errors: one line that names the option and the value. */
	CHECK_EQ_INT(parse("--nope", "x"), DOCK_OPTIONS_USAGE);
	CHECK(strstr(err, "--nope") != NULL);
	CHECK_EQ_INT(parse("-x", "x"), DOCK_OPTIONS_USAGE);
	CHECK(strstr(err, "-x") != NULL);
	CHECK_EQ_INT(parse("--thug"), DOCK_OPTIONS_USAGE);
	CHECK(strstr(err, "no command") != NULL);
	CHECK_EQ_INT(parse("--kill-timeout"), DOCK_OPTIONS_USAGE);
	CHECK(strstr(err, "--kill-timeout") && strstr(err, "needs a value"));
	CHECK_EQ_INT(parse("--kill-timeout", "soon", "x"), DOCK_OPTIONS_USAGE);
	CHECK(strstr(err, "--kill-timeout") && strstr(err, "'soon'"));
	CHECK_EQ_INT(parse("--thug=1", "x"), DOCK_OPTIONS_USAGE);
	CHECK_EQ_INT(parse("--rewrite", "TERM", "x"), DOCK_OPTIONS_USAGE);
	CHECK(strstr(err, "--rewrite") && strstr(err, "'TERM'"));
	CHECK_EQ_INT(parse("--rewrite", "FOO:INT", "x"), DOCK_OPTIONS_USAGE);
	CHECK_EQ_INT(parse("--rewrite", "TERM:BAR", "x"), DOCK_OPTIONS_USAGE);
	CHECK_EQ_INT(parse("--rewrite", ":INT", "x"), DOCK_OPTIONS_USAGE);
	CHECK_EQ_INT(parse("--rewrite", "KILL:TERM", "x"), DOCK_OPTIONS_USAGE);
	CHECK_EQ_INT(parse("--remap-exit", "256", "x"), DOCK_OPTIONS_USAGE);
	CHECK_EQ_INT(parse("--remap-exit", "1:", "x"), DOCK_OPTIONS_USAGE);
	CHECK_EQ_INT(parse("--remap-exit", "a:1", "x"), DOCK_OPTIONS_USAGE);
	CHECK_EQ_INT(parse("--remap-exit", "", "x"), DOCK_OPTIONS_USAGE);
	CHECK_EQ_INT(parse("x"), DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(cfg.io_connect_timeout_ms, 5000);
	CHECK_EQ_INT(parse("--io-connect-timeout", "30s", "x"), DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(cfg.io_connect_timeout_ms, 30000);
	CHECK_EQ_INT(parse("--io-connect-timeout=1", "x"), DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(cfg.io_connect_timeout_ms, 1000);
	CHECK_EQ_INT(parse("--io-connect-timeout", "1d", "x"), DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(parse("--io-connect-timeout", "0", "x"), DOCK_OPTIONS_USAGE);
	CHECK(strstr(err, "--io-connect-timeout") != NULL);
	CHECK_EQ_INT(parse("--io-connect-timeout", "25h", "x"), DOCK_OPTIONS_USAGE);
	CHECK_EQ_INT(parse("--io-connect-timeout", "soon", "x"), DOCK_OPTIONS_USAGE);
	{
		char *env[] = { "DOCK_IO_CONNECT_TIMEOUT=750ms", NULL };

		CHECK_EQ_INT(parse_env(env, "x", (char *)NULL), DOCK_OPTIONS_RUN);
		CHECK_EQ_INT(cfg.io_connect_timeout_ms, 750);
		CHECK_EQ_INT(parse_env(env, "--io-connect-timeout", "2s", "x", (char *)NULL),
			     DOCK_OPTIONS_RUN);
		CHECK_EQ_INT(cfg.io_connect_timeout_ms, 2000);
	}
	CHECK_EQ_INT(parse("--pdeathsig", "0", "x"), DOCK_OPTIONS_USAGE);
	CHECK_EQ_INT(parse("--pdeathsig", "NOPE", "x"), DOCK_OPTIONS_USAGE);
	CHECK(strchr(err, '\n') == NULL);

	/* The environment fills what the command line leaves; a flag wins. */
	{
		char *env[] = { "PATH=/bin", "DOCK_KILL_TIMEOUT=3s", "DOCK_THUG=1",
				"DOCK_REWRITE=TERM:INT, HUP:0", "DOCK_SIGNAL_GROUP=0", NULL };

		CHECK_EQ_INT(parse_env(env, "x", (char *)NULL), DOCK_OPTIONS_RUN);
		CHECK_EQ_INT(cfg.kill_timeout_ms, 3000);
		CHECK(cfg.thug);
		CHECK(!cfg.signal_group);
		CHECK_EQ_INT(cfg.rewrite[SIGTERM], SIGINT);
		CHECK_EQ_INT(cfg.rewrite[SIGHUP], 0);
		CHECK_EQ_INT(parse_env(env, "--kill-timeout", "1s", "--rewrite", "USR1:USR2", "x",
				       (char *)NULL), DOCK_OPTIONS_RUN);
		CHECK_EQ_INT(cfg.kill_timeout_ms, 1000);
		CHECK_EQ_INT(cfg.rewrite[SIGTERM], SIGTERM);
		CHECK_EQ_INT(cfg.rewrite[SIGUSR1], SIGUSR2);
	}
	{
		char *env[] = { "DOCK_KILL_TIMEOUT=later", NULL };

		CHECK_EQ_INT(parse_env(env, "x", (char *)NULL), DOCK_OPTIONS_USAGE);
		CHECK(strstr(err, "DOCK_KILL_TIMEOUT") && strstr(err, "'later'"));
	}
	{
		char *env[] = { "DOCK_THUG=maybe", NULL };

		CHECK_EQ_INT(parse_env(env, "x", (char *)NULL), DOCK_OPTIONS_USAGE);
		CHECK(strstr(err, "DOCK_THUG") != NULL);
	}
	/* --io: repeatable, parsed here once; "-" is dock's own streams. */
	CHECK_EQ_INT(parse("x"), DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(cfg.n_io, 0);
	CHECK_EQ_INT(parse("--io", "-", "--io", "file://tcp://x:1", "--io=udp://[::1]:514", "x"),
		     DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(cfg.n_io, 3);
	CHECK_EQ_INT(cfg.io[0].kind, DOCK_IO_STDIO);
	CHECK_EQ_INT(cfg.io[1].kind, DOCK_IO_FILE);
	CHECK_EQ_STR(cfg.io[1].url.path, "tcp://x:1");
	CHECK_EQ_INT(cfg.io[2].kind, DOCK_IO_UDP);
	CHECK_EQ_STR(cfg.io[2].url.host, "::1");
	CHECK_EQ_STR(cfg.io_text[2], "udp://[::1]:514");
	CHECK_EQ_INT(parse("--io", "./-", "x"), DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(cfg.io[0].kind, DOCK_IO_FILE);
	CHECK_EQ_INT(parse("--io", "-", "--io", "-", "x"), DOCK_OPTIONS_USAGE);
	CHECK(strstr(err, "--io") && strstr(err, "twice"));
	CHECK_EQ_INT(parse("--io", "a.log", "--io", "file://a.log", "x"), DOCK_OPTIONS_USAGE);
	CHECK_EQ_INT(parse("--io", "tcp://h:1", "--io", "unix:///s", "x"), DOCK_OPTIONS_USAGE);
	CHECK(strstr(err, "interactive") && strstr(err, "tcp://h:1") && strstr(err, "unix:///s"));
	CHECK_EQ_INT(parse("--io", "tcp://u:pw@h:1", "--io", "tls://h:2", "x"), DOCK_OPTIONS_USAGE);
	CHECK(strstr(err, "pw") == NULL);
	CHECK_EQ_INT(parse("--io", "a", "--io", "b", "--io", "c", "--io", "d", "--io", "e", "--io", "f",
			   "--io", "g", "--io", "h", "x"), DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(cfg.n_io, DOCK_MAX_IO);
	CHECK_EQ_INT(parse("--io", "a", "--io", "b", "--io", "c", "--io", "d", "--io", "e", "--io", "f",
			   "--io", "g", "--io", "h", "--io", "i", "x"), DOCK_OPTIONS_USAGE);
	CHECK(strstr(err, "at most 8") != NULL);
	CHECK_EQ_INT(parse("--io", "-", "--log-rotate", "1h", "x"), DOCK_OPTIONS_USAGE);
	CHECK_EQ_INT(parse("--io", "-", "--io", "a.log", "--log-rotate", "1h", "x"), DOCK_OPTIONS_RUN);
	/* The parser reads no file system: what the path is (a FIFO, a device
	 * cannot be rotated) is io.c's check, before anything is opened. */
	CHECK_EQ_INT(parse("--io", "/dev/null", "--log-rotate", "1h", "x"), DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(parse("--io", "/", "--log-max-size", "1M", "x"), DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(parse("--io", "", "x"), DOCK_OPTIONS_USAGE);
	CHECK(strstr(err, "--io") && strstr(err, "non-empty"));
	{
		char *env[] = { "DOCK_IO=- a.log,udp://h:9", NULL };

		CHECK_EQ_INT(parse_env(env, "x", (char *)NULL), DOCK_OPTIONS_RUN);
		CHECK_EQ_INT(cfg.n_io, 3);
		CHECK_EQ_INT(cfg.io[2].kind, DOCK_IO_UDP);
		/* A flag wins over the variable, all of it. */
		CHECK_EQ_INT(parse_env(env, "--io", "b.log", "x", (char *)NULL), DOCK_OPTIONS_RUN);
		CHECK_EQ_INT(cfg.n_io, 1);
	}

	/* Prefixes and stamps: parsed here, NO_COLOR applied, stderr's from
	 * stdout's unless given. */
	CHECK_EQ_INT(parse("--stdout-prefix", "o :red", "x"), DOCK_OPTIONS_RUN);
	CHECK_EQ_STR(cfg.stdout_prefix.text, "\033[31;1mo \033[0m");
	CHECK_EQ_STR(cfg.stderr_prefix.text, cfg.stdout_prefix.text);
	CHECK(!cfg.log_timestamps);
	CHECK_EQ_INT(parse("--stderr-prefix", "e ", "--log-timestamps", "x"), DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(cfg.stdout_prefix.len, 0);
	CHECK_EQ_STR(cfg.stderr_prefix.text, "e ");
	CHECK(cfg.log_timestamps);
	{
		char *env[] = { "NO_COLOR=1", "DOCK_STDERR_PREFIX=e:green", "DOCK_LOG_TIMESTAMPS=yes", NULL };

		CHECK_EQ_INT(parse_env(env, "--stdout-prefix", "o:blue", "x", (char *)NULL),
			     DOCK_OPTIONS_RUN);
		CHECK_EQ_STR(cfg.stdout_prefix.text, "o");
		CHECK_EQ_STR(cfg.stderr_prefix.text, "e");
		CHECK(cfg.log_timestamps);
	}
	CHECK_EQ_INT(parse("--stderr-prefix", "x:nope", "x"), DOCK_OPTIONS_USAGE);
	CHECK(strstr(err, "--stderr-prefix") && strstr(err, "nope"));
	CHECK_EQ_INT(parse("--stderr-prefix", "", "x"), DOCK_OPTIONS_USAGE);
	CHECK_EQ_INT(parse("--io", "tcp://h:1", "--stderr-prefix", "e ", "x"), DOCK_OPTIONS_USAGE);
	CHECK(strstr(err, "--stderr-prefix") && strstr(err, "terminal"));
	/* The same prefix twice tells nothing apart: allowed on a terminal. */
	CHECK_EQ_INT(parse("--io", "tcp://h:1", "--stdout-prefix", "p", "--stderr-prefix", "p", "x"),
		     DOCK_OPTIONS_RUN);
	CHECK_EQ_INT(parse("--log-timestamps=1", "x"), DOCK_OPTIONS_USAGE);

	CHECK(dock_options_is_own_env("DOCK_THUG=1"));
	CHECK(!dock_options_is_own_env("DOCKER_HOST=x"));
	CHECK(!dock_options_is_own_env("PATH=/bin"));

	n = dock_options_usage(buf, sizeof(buf));
	CHECK(n < sizeof(buf));
	CHECK(strstr(buf, "--kill-timeout DURATION") != NULL);
	CHECK(strstr(buf, "--rewrite SIG:SIG") != NULL);
	CHECK(strstr(buf, "-h, --help") != NULL);
	CHECK_EQ_INT(dock_options_usage(buf, 10), n);
	CHECK_EQ_INT(strlen(buf), 9);
}

/* The parser clears the configuration without memset (it skips the words
 * that are zero already, so a fresh static one keeps its pages untouched):
 * whatever a previous use left, every byte of it, the result is the same as
 * from a zeroed struct. */
UNIT_SUITE(test_options_reparse)
{
	static struct dock_config fresh;
	static char *av[] = { "dock", "--io", "tcp://h:1", "--rewrite", "TERM:INT", "x", NULL };
	static char *ev[] = { "DOCK_WEB_HOOK_HEADER=A: b", NULL };

	/* The same struct each time: the header points into its own store. */
	memset(&cfg, 0, sizeof(cfg));
	CHECK_EQ_INT(dock_options_parse(&cfg, 6, av, ev, err, sizeof(err)), DOCK_OPTIONS_RUN);
	CHECK_EQ_STR(cfg.web_hook_headers[0], "A: b");
	memcpy(&fresh, &cfg, sizeof(cfg));
	memset(&cfg, 0xa5, sizeof(cfg));
	CHECK_EQ_INT(dock_options_parse(&cfg, 6, av, ev, err, sizeof(err)), DOCK_OPTIONS_RUN);
	CHECK(memcmp(&cfg, &fresh, sizeof(cfg)) == 0);
	/* A few stray bytes, the very last ones included. */
	memset((char *)&cfg + sizeof(cfg) - 3, 1, 3);
	cfg.io[DOCK_MAX_IO - 1].family = 7;
	CHECK_EQ_INT(dock_options_parse(&cfg, 6, av, ev, err, sizeof(err)), DOCK_OPTIONS_RUN);
	CHECK(memcmp(&cfg, &fresh, sizeof(cfg)) == 0);
}
