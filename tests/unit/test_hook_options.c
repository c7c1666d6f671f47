#include "options.h"
#include "unit.h"

/* The hook's URL is parsed once, by the options: the configuration holds
 * the parsed URL the hook then uses as it is. */
UNIT_SUITE(test_hook_options)
{
	static struct dock_config cfg;
	static char *env[] = { NULL };
	static char *https[] = { "dock", "--web-hook", "HTTPS://user:pw@Hooks.example:8443/st/1?t=abc#f", "true",
				 NULL };
	static char *plain[] = { "dock", "--web-hook", "http://[::1]", "true", NULL };
	static char *bad[] = { "dock", "--web-hook", "ftp://x/", "true", NULL };
	static char *envhook[] = { "DOCK_WEB_HOOK=http://10.0.0.1:81/x", NULL };
	static char *none[] = { "dock", "true", NULL };
	char err[512];

	CHECK_EQ_INT(dock_options_parse(&cfg, 4, https, env, err, sizeof(err)), DOCK_OPTIONS_RUN);
	CHECK_EQ_STR(cfg.web_hook, https[2]);
	CHECK_EQ_STR(cfg.web_hook_url.scheme, "https");
	CHECK_EQ_STR(cfg.web_hook_url.userinfo, "user:pw");
	CHECK_EQ_STR(cfg.web_hook_url.host, "Hooks.example");
	CHECK_EQ_STR(cfg.web_hook_url.port, "8443");
	CHECK_EQ_STR(cfg.web_hook_url.path, "/st/1?t=abc");

	memset(&cfg, 0, sizeof(cfg));
	CHECK_EQ_INT(dock_options_parse(&cfg, 4, plain, env, err, sizeof(err)), DOCK_OPTIONS_RUN);
	CHECK_EQ_STR(cfg.web_hook_url.scheme, "http");
	CHECK_EQ_STR(cfg.web_hook_url.host, "::1");
	CHECK_EQ_STR(cfg.web_hook_url.port, "80");
	CHECK_EQ_STR(cfg.web_hook_url.path, "/");

	memset(&cfg, 0, sizeof(cfg));
	CHECK_EQ_INT(dock_options_parse(&cfg, 2, none, envhook, err, sizeof(err)), DOCK_OPTIONS_RUN);
	CHECK_EQ_STR(cfg.web_hook_url.host, "10.0.0.1");
	CHECK_EQ_STR(cfg.web_hook_url.port, "81");
	CHECK_EQ_STR(cfg.web_hook_url.path, "/x");

	memset(&cfg, 0, sizeof(cfg));
	CHECK_EQ_INT(dock_options_parse(&cfg, 4, bad, env, err, sizeof(err)), DOCK_OPTIONS_USAGE);
	CHECK(strncmp(err, "--web-hook: ", 12) == 0);

	/* no hook: nothing parsed */
	memset(&cfg, 0, sizeof(cfg));
	CHECK_EQ_INT(dock_options_parse(&cfg, 2, none, env, err, sizeof(err)), DOCK_OPTIONS_RUN);
	CHECK(cfg.web_hook == NULL);
	CHECK_EQ_STR(cfg.web_hook_url.host, "");
}
