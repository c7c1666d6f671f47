#include "loop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int epfd = -1;
static struct dock_timer *timers;
static int nwatchers;
static const struct dock_watcher *last_added;

int64_t dock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int dock_loop_init(void)
{
	/* A second init (the unit tests make one per suite) starts afresh
	 * instead of leaking the first epoll fd. */
	if (epfd >= 0)
		close(epfd);
	timers = NULL;
	nwatchers = 0;
	last_added = NULL;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	return epfd < 0 ? -1 : 0;
}

int dock_loop_add(struct dock_watcher *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (epoll_ctl(epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0)
		return -1;
	nwatchers++;
	last_added = w;
	return 0;
}

int dock_loop_mod(struct dock_watcher *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(epfd, EPOLL_CTL_MOD, w->fd, &ev);
}

void dock_loop_del(struct dock_watcher *w)
{
	if (epoll_ctl(epfd, EPOLL_CTL_DEL, w->fd, NULL) == 0)
		nwatchers--;
	/* Which watcher is left is not tracked: until the next add,
	 * dock_loop_only() answers no, which only costs the cheaper wait. */
	if (last_added == w)
		last_added = NULL;
}

bool dock_loop_only(const struct dock_watcher *w)
{
	return timers == NULL && nwatchers == 1 && last_added == w;
}

void dock_timer_arm(struct dock_timer *t, int64_t at_ms)
{
	if (!t->armed) {
		t->next = timers;
		timers = t;
		t->armed = true;
	}
	t->at_ms = at_ms;
}

void dock_timer_cancel(struct dock_timer *t)
{
	struct dock_timer **pp;

	if (!t->armed)
		return;
	for (pp = &timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->armed = false;
	t->next = NULL;
}

/* Fires every timer whose deadline has passed. A callback may arm or cancel
 * any timer, so the scan restarts after each one. */
static void run_due_timers(void)
{
	struct dock_timer *t;
	int64_t now = dock_now_ms();

again:
	for (t = timers; t; t = t->next) {
		if (t->at_ms <= now) {
			dock_timer_cancel(t);
			t->cb(t);
			goto again;
		}
	}
}

void dock_loop_run_once(void)
{
	dock_loop_run_once_until(-1);
}

void dock_loop_run_once_until(int64_t deadline_ms)
{
	struct epoll_event evs[16];
	struct dock_timer *t;
	int64_t earliest = deadline_ms, now;
	int timeout = -1, n, i;

	for (t = timers; t; t = t->next)
		if (earliest < 0 || t->at_ms < earliest)
			earliest = t->at_ms;
	if (earliest >= 0) {
		now = dock_now_ms();
		timeout = earliest <= now ? 0 : (int)(earliest - now > 86400000 ? 86400000 : earliest - now);
	}
	n = epoll_wait(epfd, evs, sizeof(evs) / sizeof(evs[0]), timeout);
	if (n < 0 && errno != EINTR)
		dock_warn("epoll_wait");
	for (i = 0; i < n; i++) {
		struct dock_watcher *w = evs[i].data.ptr;

		w->cb(w, evs[i].events);
	}
	run_due_timers();
}
