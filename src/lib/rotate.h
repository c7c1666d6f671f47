/* Names of rotated log archives, and which ones retention deletes. Pure:
 * these functions read only their arguments, so they are unit-tested and
 * fuzzable alone; the file system work lives in logfile.c. */
#ifndef DOCK_ROTATE_H
#define DOCK_ROTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Rotations within one second get a two-digit sequence number; past this
 * the rotation waits for the next second. */
#define DOCK_ROTATE_SEQ_MAX 99

/* What identifies one archive: the local time of its rotation as the
 * decimal number YYYYmmddHHMMSS, and a sequence number (0 for the first
 * rotation in that second). Ordering keys orders archive names. */
struct dock_archive_key {
	uint64_t stamp;
	unsigned seq;
};

/* The names one archive goes by during its life, for a live file BASE:
 *   RAW    .BASE_STAMP[_NN].raw   the rotated content, awaiting compression
 *   TMP    BASE_STAMP[_NN].gz.tmp the archive being written
 *   GZ     BASE_STAMP[_NN].gz     the finished archive
 *   PLAIN  BASE_STAMP[_NN]        content kept uncompressed (compression
 *                                 failed, fell behind, or was cut short)
 * The sequence suffix "_NN" starts with '_', which sorts after the '.' of
 * ".gz", so BASE_20240101120000.gz < BASE_20240101120000_01.gz <
 * BASE_20240101120001.gz in any byte-wise listing, as in time. */
enum dock_archive_kind {
	DOCK_ARCHIVE_GZ,
	DOCK_ARCHIVE_PLAIN,
	DOCK_ARCHIVE_RAW,
	DOCK_ARCHIVE_TMP,
};

/* YYYYmmddHHMMSS of a broken-down time, as a number. */
uint64_t dock_rotate_stamp(const struct tm *tm);

/* Writes the name (without directory) of an archive of base into buf.
 * Returns its length, or -1 when it does not fit or key is out of range. */
int dock_rotate_name(char *buf, size_t len, const char *base, const struct dock_archive_key *key,
		     enum dock_archive_kind kind);

/* Returns 0 and fills key and kind when name is one of base's archive names
 * (any kind), -1 otherwise: another file's archives, and anything that is
 * not exactly one of the forms above, are never taken for ours. */
int dock_rotate_parse(const char *base, const char *name, struct dock_archive_key *key,
		      enum dock_archive_kind *kind);

/* <0, 0, >0 as a sorts before, with, after b. */
int dock_rotate_key_cmp(const struct dock_archive_key *a, const struct dock_archive_key *b);

/* The key of a rotation at now_stamp after the one with key last (stamp 0:
 * none yet). Keys only grow: in the same second the sequence goes up, and
 * when the clock went back the last stamp is reused with a higher sequence
 * so names still sort in rotation order. Returns false when the sequence is
 * exhausted for that stamp (then wait for the next second). */
bool dock_rotate_next_key(const struct dock_archive_key *last, uint64_t now_stamp,
			  struct dock_archive_key *out);

/* Sorts keys oldest first and drops duplicates (an archive seen under two
 * names), updating *n. Returns how many of the first keys are beyond the
 * newest keep, and so are to be deleted. */
size_t dock_rotate_select(struct dock_archive_key *keys, size_t *n, size_t keep);

#endif
