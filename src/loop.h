/* The one event loop: epoll for fds, absolute monotonic deadlines for
 * timers. With no timer armed it sleeps until an fd is ready, so an idle dock
 * never wakes up. */
#ifndef DOCK_LOOP_H
#define DOCK_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct dock_watcher;
typedef void (*dock_watcher_fn)(struct dock_watcher *w, uint32_t events);

struct dock_watcher {
	int fd;
	dock_watcher_fn cb;
	void *data;
};

struct dock_timer;
typedef void (*dock_timer_fn)(struct dock_timer *t);

struct dock_timer {
	int64_t at_ms;		/* absolute, on dock_now_ms()'s clock */
	dock_timer_fn cb;
	void *data;
	bool armed;
	struct dock_timer *next;
};

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t dock_now_ms(void);

int dock_loop_init(void);
int dock_loop_add(struct dock_watcher *w, uint32_t events);
int dock_loop_mod(struct dock_watcher *w, uint32_t events);
void dock_loop_del(struct dock_watcher *w);

/* True when w is the loop's only watcher and no timer is armed: then the
 * caller may wait on w's source directly, saving the epoll step. */
bool dock_loop_only(const struct dock_watcher *w);

void dock_timer_arm(struct dock_timer *t, int64_t at_ms);
void dock_timer_cancel(struct dock_timer *t);

/* Waits for the next fd event or deadline and runs what is due. */
void dock_loop_run_once(void);

/* The same, waiting no later than deadline_ms (-1: no bound). */
void dock_loop_run_once_until(int64_t deadline_ms);

#endif
