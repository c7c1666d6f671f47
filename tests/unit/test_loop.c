/* The loop's timers and deadlines, and its fd watchers, on the real clock.
 *
 * Only what cannot be flaky is asserted exactly: a timer never fires before
 * its deadline, a cancelled one never fires, a re-armed one fires once.
 * How late something may be is a bound with room (LATE_MS), because the
 * machine may be loaded. The loop keeps its state in statics, so every suite
 * runs isolated; an alarm turns a loop that never returns into a failure
 * rather than a hung run. */
#include <fcntl.h>
#include <unistd.h>

#include "loop.h"
#include "unit.h"

#define LATE_MS 5000		/* the most a deadline may be overshot */
#define HANG_S 30		/* a suite still running then has hung */

struct fired {
	int n;
	int64_t when[16];	/* dock_now_ms() in each call */
	int64_t at[16];		/* the deadline it was armed for */
	struct dock_timer *other;
};

static void on_timer(struct dock_timer *t)
{
	struct fired *f = t->data;

	if (f->n < 16) {
		f->when[f->n] = dock_now_ms();
		f->at[f->n] = t->at_ms;
	}
	f->n++;
}

static void timer_init(struct dock_timer *t, struct fired *f, dock_timer_fn cb)
{
	memset(t, 0, sizeof(*t));
	memset(f, 0, sizeof(*f));
	t->cb = cb;
	t->data = f;
}

/* Runs the loop until *done is non-zero or LATE_MS past deadline. */
static void run_until_set(const int *done, int64_t deadline)
{
	while (*done == 0 && dock_now_ms() < deadline + LATE_MS)
		dock_loop_run_once_until(deadline + LATE_MS);
}

/* Counts the turns an always-ready fd wakes the loop for. */
static void busy(struct dock_watcher *w, uint32_t events)
{
	(void)events;
	(*(int *)w->data)++;
}

static void start(void)
{
	alarm(HANG_S);
	CHECK_EQ_INT(dock_loop_init(), 0);
}

UNIT_SUITE_ISOLATED(test_loop_timer_deadline)
{
	struct dock_timer t;
	struct fired f;
	int64_t at;

	start();
	timer_init(&t, &f, on_timer);
	at = dock_now_ms() + 50;
	dock_timer_arm(&t, at);
	CHECK(t.armed);
	/* With no fd at all, the timer alone bounds the wait. */
	run_until_set(&f.n, at);
	CHECK_EQ_INT(f.n, 1);
	CHECK(f.when[0] >= at);
	CHECK(f.when[0] < at + LATE_MS);
	CHECK(!t.armed);	/* one-shot: disarmed before its callback runs */

	/* Nothing fires again. */
	dock_loop_run_once_until(dock_now_ms() + 30);
	CHECK_EQ_INT(f.n, 1);

	/* A deadline already passed fires on the next turn, without waiting. */
	at = dock_now_ms() - 1000;
	dock_timer_arm(&t, at);
	dock_loop_run_once_until(dock_now_ms() + LATE_MS);
	CHECK_EQ_INT(f.n, 2);

	/* The loop woken again and again by an fd (a pipe always writable)
	 * still fires the timer no earlier than its deadline. */
	{
		struct dock_watcher w = { .cb = busy };
		int p[2], turns = 0;

		CHECK_EQ_INT(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
		w.fd = p[1];
		w.data = &turns;
		CHECK_EQ_INT(dock_loop_add(&w, EPOLLOUT), 0);
		at = dock_now_ms() + 60;
		dock_timer_arm(&t, at);
		while (f.n < 3 && dock_now_ms() < at + LATE_MS)
			dock_loop_run_once_until(at + LATE_MS);
		CHECK_EQ_INT(f.n, 3);
		CHECK(f.when[2] >= at);
		CHECK(turns > 1);
		dock_loop_del(&w);
		close(p[0]);
		close(p[1]);
	}
}

UNIT_SUITE_ISOLATED(test_loop_timer_rearm_cancel)
{
	struct dock_timer a, b;
	struct fired fa, fb;
	int64_t now, at;

	start();
	timer_init(&a, &fa, on_timer);
	timer_init(&b, &fb, on_timer);

	/* Re-arming an armed timer moves its deadline; it fires once, at the
	 * later one. */
	now = dock_now_ms();
	dock_timer_arm(&a, now + 20);
	dock_timer_arm(&a, now + 20);
	at = now + 120;
	dock_timer_arm(&a, at);
	/* Cancelled: never fires, even when its deadline came first. */
	dock_timer_arm(&b, now + 10);
	dock_timer_cancel(&b);
	CHECK(!b.armed);
	dock_timer_cancel(&b);	/* twice is harmless */
	run_until_set(&fa.n, at);
	CHECK_EQ_INT(fa.n, 1);
	CHECK(fa.when[0] >= at);
	CHECK_EQ_INT(fa.at[0], at);
	dock_loop_run_once_until(dock_now_ms() + 50);
	CHECK_EQ_INT(fa.n, 1);
	CHECK_EQ_INT(fb.n, 0);

	/* Re-arming an earlier deadline moves it forward, too. */
	now = dock_now_ms();
	dock_timer_arm(&a, now + 60000);
	at = now + 30;
	dock_timer_arm(&a, at);
	while (fa.n < 2 && dock_now_ms() < at + LATE_MS)
		dock_loop_run_once_until(at + LATE_MS);
	CHECK_EQ_INT(fa.n, 2);
	CHECK(fa.when[1] >= at);
	CHECK(fa.when[1] < now + 60000);
}

/* A timer that re-arms itself from its callback, three times. */
static void periodic(struct dock_timer *t)
{
	struct fired *f = t->data;

	on_timer(t);
	if (f->n < 4)
		dock_timer_arm(t, t->at_ms + 25);
}

/* Cancels the other timer: of two due together, exactly one fires. */
static void cancel_other(struct dock_timer *t)
{
	struct fired *f = t->data;

	on_timer(t);
	dock_timer_cancel(f->other);
}

/* Arms the other timer already due: it fires in the same turn. */
static void arm_other(struct dock_timer *t)
{
	struct fired *f = t->data;

	on_timer(t);
	dock_timer_arm(f->other, dock_now_ms() - 1);
}

UNIT_SUITE_ISOLATED(test_loop_timer_callbacks)
{
	struct dock_timer a, b;
	struct fired fa, fb;
	int64_t at;
	int i;

	start();
	timer_init(&a, &fa, periodic);
	at = dock_now_ms() + 10;
	dock_timer_arm(&a, at);
	while (fa.n < 4 && dock_now_ms() < at + 75 + LATE_MS)
		dock_loop_run_once_until(at + 75 + LATE_MS);
	CHECK_EQ_INT(fa.n, 4);
	for (i = 0; i < 4; i++) {
		CHECK_EQ_INT(fa.at[i], at + 25 * i);
		CHECK(fa.when[i] >= fa.at[i]);
	}
	CHECK(!a.armed);

	timer_init(&a, &fa, cancel_other);
	timer_init(&b, &fb, cancel_other);
	fa.other = &b;
	fb.other = &a;
	at = dock_now_ms() - 1;
	dock_timer_arm(&a, at);
	dock_timer_arm(&b, at);
	dock_loop_run_once_until(dock_now_ms() + LATE_MS);
	CHECK_EQ_INT(fa.n + fb.n, 1);
	CHECK(!a.armed && !b.armed);

	timer_init(&a, &fa, arm_other);
	timer_init(&b, &fb, on_timer);
	fa.other = &b;
	dock_timer_arm(&a, dock_now_ms() - 1);
	dock_loop_run_once_until(dock_now_ms() + LATE_MS);
	CHECK_EQ_INT(fa.n, 1);
	CHECK_EQ_INT(fb.n, 1);
}

UNIT_SUITE_ISOLATED(test_loop_run_once_until)
{
	struct dock_timer far;
	struct fired ff;
	int64_t t0, deadline;

	start();
	/* Nothing to wait for but the bound: the call returns by it. */
	t0 = dock_now_ms();
	deadline = t0 + 40;
	dock_loop_run_once_until(deadline);
	CHECK(dock_now_ms() < deadline + LATE_MS);

	/* A timer ten days away does not stretch the bound, and does not fire. */
	timer_init(&far, &ff, on_timer);
	dock_timer_arm(&far, dock_now_ms() + 10LL * 86400 * 1000);
	t0 = dock_now_ms();
	dock_loop_run_once_until(t0 + 40);
	CHECK(dock_now_ms() < t0 + 40 + LATE_MS);
	CHECK_EQ_INT(ff.n, 0);
	CHECK(far.armed);
	dock_timer_cancel(&far);
}

struct seen_fd {
	int n;
	uint32_t events;
};

static void on_fd(struct dock_watcher *w, uint32_t events)
{
	struct seen_fd *s = w->data;
	char buf[16];

	s->n++;
	s->events = events;
	if (events & EPOLLIN)
		(void)read(w->fd, buf, sizeof(buf));
}

UNIT_SUITE_ISOLATED(test_loop_watchers)
{
	struct seen_fd sr = { 0 }, sw = { 0 };
	struct dock_watcher r, wr;
	struct dock_timer t;
	struct fired f;
	int p[2];

	start();
	CHECK_EQ_INT(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	r.fd = p[0];
	r.cb = on_fd;
	r.data = &sr;
	wr.fd = p[1];
	wr.cb = on_fd;
	wr.data = &sw;

	CHECK_EQ_INT(dock_loop_add(&r, EPOLLIN), 0);
	/* The only watcher and no timer: its owner may wait on it directly. */
	CHECK(dock_loop_only(&r));
	CHECK(!dock_loop_only(&wr));
	timer_init(&t, &f, on_timer);
	dock_timer_arm(&t, dock_now_ms() + 60000);
	CHECK(!dock_loop_only(&r));
	dock_timer_cancel(&t);
	CHECK(dock_loop_only(&r));

	/* Readable: the callback gets the watcher (and its data) and EPOLLIN. */
	CHECK_EQ_INT(write(p[1], "x", 1), 1);
	dock_loop_run_once_until(dock_now_ms() + LATE_MS);
	CHECK_EQ_INT(sr.n, 1);
	CHECK(sr.events & EPOLLIN);

	/* An fd event and a due timer in the same turn: both run. */
	CHECK_EQ_INT(write(p[1], "y", 1), 1);
	dock_timer_arm(&t, dock_now_ms() - 1);
	dock_loop_run_once_until(dock_now_ms() + LATE_MS);
	CHECK_EQ_INT(sr.n, 2);
	CHECK_EQ_INT(f.n, 1);

	/* A second watcher, then modified to the event that is ready. */
	CHECK_EQ_INT(dock_loop_add(&wr, EPOLLIN), 0);
	CHECK(!dock_loop_only(&r));
	CHECK_EQ_INT(dock_loop_mod(&wr, EPOLLOUT), 0);
	dock_loop_run_once_until(dock_now_ms() + LATE_MS);
	CHECK_EQ_INT(sw.n, 1);
	CHECK(sw.events & EPOLLOUT);
	/* The last one added, then deleted: one watcher is left, but it is
	 * not the deleted one. */
	dock_loop_del(&wr);
	CHECK(!dock_loop_only(&wr));
	CHECK_EQ_INT(dock_loop_add(&wr, EPOLLOUT), 0);

	/* Deleted watchers are never called again. */
	dock_loop_del(&wr);
	dock_loop_del(&r);
	CHECK(!dock_loop_only(&r));
	CHECK_EQ_INT(write(p[1], "z", 1), 1);
	dock_loop_run_once_until(dock_now_ms() + 30);
	CHECK_EQ_INT(sr.n, 2);
	CHECK_EQ_INT(sw.n, 1);
	/* Adding an fd already watched fails, and nothing is counted twice. */
	CHECK_EQ_INT(dock_loop_add(&r, EPOLLIN), 0);
	CHECK_EQ_INT(dock_loop_add(&r, EPOLLIN), -1);
	CHECK(dock_loop_only(&r));
	close(p[0]);
	close(p[1]);
}
