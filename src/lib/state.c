#include "state.h"

#include <stdio.h>
#include <time.h>

#include "signame.h"

const char *dock_state_name(enum dock_state s)
{
	switch (s) {
	case DOCK_STATE_STARTING: return "starting";
	case DOCK_STATE_RUNNING: return "running";
	case DOCK_STATE_STOPPED: return "stopped";
	case DOCK_STATE_CRASHED: return "crashed";
	}
	return "unknown";
}

bool dock_state_is_final(enum dock_state s)
{
	return s == DOCK_STATE_STOPPED || s == DOCK_STATE_CRASHED;
}

int dock_state_json_fields(struct dock_json *j, const struct dock_status *st)
{
	bool final = dock_state_is_final(st->state);
	char when[48], sig[32];
	int64_t secs = st->since_ms / 1000, ms = st->since_ms % 1000;
	time_t t;
	struct tm tm;
	size_t n;

	if (ms < 0) {		/* before 1970: floor, so the fraction stays positive */
		ms += 1000;
		secs--;
	}
	t = (time_t)secs;
	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0 || n + 6 > sizeof(when))
		return -1;
	snprintf(when + n, sizeof(when) - n, ".%03dZ", (int)ms);

	dock_json_key(j, "status");
	dock_json_string(j, dock_state_name(st->state));
	dock_json_key(j, "pid");
	if (st->pid > 0)
		dock_json_int(j, st->pid);
	else
		dock_json_null(j);
	dock_json_key(j, "exit_code");
	if (final)
		dock_json_int(j, st->exit_code);
	else
		dock_json_null(j);
	dock_json_key(j, "signal");
	dock_json_string(j, final && st->signal > 0 ? dock_signame_name(st->signal, sig, sizeof(sig)) : NULL);
	dock_json_key(j, "time");
	dock_json_string(j, when);
	return 0;
}
