/* What dock gives back before it settles into waiting. */
#ifndef DOCK_IDLE_H
#define DOCK_IDLE_H

/* Drops dock's own mappings of the code a plain run does not execute (the
 * text past the .text.hot section of src/hot.ld), so that the pages the
 * start-up mapped there stop counting in dock's resident set. Code that
 * runs later faults its pages back in (a minor fault, from the page
 * cache). Returns 0, or -1 with errno set (ENOSYS in a build linked
 * without src/hot.ld, which has nothing to drop; madvise's errno, said
 * with -d, when it is refused). */
int dock_idle_release_cold_text(void);

#endif
