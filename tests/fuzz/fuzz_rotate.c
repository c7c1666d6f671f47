/* The archive names of log rotation: dock_rotate_parse decides which files
 * of the log's directory retention may delete, and the command (or anyone
 * who can write there) chooses those names. Whatever it accepts must be
 * exactly a name dock_rotate_name writes; names must sort as their keys;
 * retention must keep the newest. Needs src/rotate.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rotate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c) ((c) ? (void)0 : (fprintf(stderr, "invariant: %s\n", #c), abort()))

#define MAX_KEYS 64

static void check_parse(const char *base, const char *name)
{
	struct dock_archive_key key;
	enum dock_archive_kind kind;
	char again[600];
	int n;

	if (dock_rotate_parse(base, name, &key, &kind) < 0)
		return;
	ASSERT(key.seq <= DOCK_ROTATE_SEQ_MAX);
	n = dock_rotate_name(again, sizeof(again), base, &key, kind);
	ASSERT(n > 0 && strcmp(again, name) == 0);
}

static uint64_t stamp_of(const uint8_t *b)
{
	/* A plausible stamp: 2000-2099, any valid-looking field. */
	return (2000ULL + b[0] % 100) * 10000000000ULL + (1 + b[1] % 12) * 100000000ULL +
	       (1 + b[2] % 28) * 1000000ULL + (b[3] % 24) * 10000ULL + (b[4] % 60) * 100ULL + b[5] % 60;
}

/* Keys from the bytes, 7 per key; close stamps and equal ones are likely
 * since only a few bits vary. */
static size_t keys_of(const uint8_t *p, size_t len, struct dock_archive_key *keys)
{
	size_t n = 0;

	while (len >= 7 && n < MAX_KEYS) {
		uint8_t b[6] = { p[0] & 3, p[1] & 1, p[2] & 1, p[3] & 1, p[4] & 3, p[5] & 7 };

		keys[n].stamp = stamp_of(b);
		keys[n].seq = p[6] % (DOCK_ROTATE_SEQ_MAX + 2);	/* 100: out of range */
		n++;
		p += 7;
		len -= 7;
	}
	return n;
}

static void check_names_sort(const char *base, const struct dock_archive_key *keys, size_t n)
{
	static const enum dock_archive_kind kinds[] = { DOCK_ARCHIVE_GZ, DOCK_ARCHIVE_PLAIN };
	char a[600], b[600];
	size_t i, k;

	for (k = 0; k < 2; k++) {
		for (i = 0; i + 1 < n; i++) {
			int c = dock_rotate_key_cmp(&keys[i], &keys[i + 1]);
			int na = dock_rotate_name(a, sizeof(a), base, &keys[i], kinds[k]);
			int nb = dock_rotate_name(b, sizeof(b), base, &keys[i + 1], kinds[k]);

			if (na < 0 || nb < 0) {
				ASSERT(keys[i].seq > DOCK_ROTATE_SEQ_MAX || keys[i + 1].seq > DOCK_ROTATE_SEQ_MAX);
				continue;
			}
			ASSERT((c < 0) == (strcmp(a, b) < 0) && (c == 0) == (strcmp(a, b) == 0));
			/* and each name is recognised as what it is */
			check_parse(base, a);
		}
	}
}

static void check_select(struct dock_archive_key *keys, size_t n, size_t keep)
{
	struct dock_archive_key copy[MAX_KEYS];
	size_t m = n, del, i, j;

	memcpy(copy, keys, n * sizeof(*keys));
	del = dock_rotate_select(keys, &m, keep);
	ASSERT(m <= n);
	ASSERT(del == (m > keep ? m - keep : 0));
	for (i = 1; i < m; i++)
		ASSERT(dock_rotate_key_cmp(&keys[i - 1], &keys[i]) < 0);	/* sorted, distinct */
	/* Every input key is still there: nothing lost, nothing made up. */
	for (i = 0; i < n; i++) {
		for (j = 0; j < m && dock_rotate_key_cmp(&copy[i], &keys[j]) != 0; j++)
			;
		ASSERT(j < m);
	}
}

static void check_next_key(const struct dock_archive_key *last, uint64_t now)
{
	struct dock_archive_key next;

	if (!dock_rotate_next_key(last, now, &next)) {
		ASSERT(now == last->stamp && last->seq >= DOCK_ROTATE_SEQ_MAX);
		return;
	}
	ASSERT(next.seq <= DOCK_ROTATE_SEQ_MAX);
	/* Keys only grow, unless the clock went back past what the sequence
	 * can bridge; then the clock names them again. */
	if (last->stamp != 0 && last->seq < DOCK_ROTATE_SEQ_MAX)
		ASSERT(dock_rotate_key_cmp(last, &next) < 0);
	else if (last->stamp != 0 && now >= last->stamp)
		ASSERT(dock_rotate_key_cmp(last, &next) < 0);
}

/* Input: [keep][base length][base bytes][name bytes, up to a NUL][key bytes] */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dock_archive_key keys[MAX_KEYS];
	char base[64], *name;
	size_t blen, rest, nlen, n;
	const uint8_t *p;

	if (size < 2)
		return 0;
	blen = data[1] % sizeof(base);
	if (blen > size - 2)
		blen = size - 2;
	memcpy(base, data + 2, blen);
	base[blen] = '\0';
	p = data + 2 + blen;
	rest = size - 2 - blen;
	nlen = strnlen((const char *)p, rest);
	/* An exact-size copy of the name, so ASan sees any read past it. */
	name = malloc(nlen + 1);
	memcpy(name, p, nlen);
	name[nlen] = '\0';
	check_parse(base, name);
	p += nlen;
	rest -= nlen;
	if (rest > 0) {
		p++;
		rest--;
	}
	n = keys_of(p, rest, keys);
	if (strlen(base) > 0 && strlen(base) == blen)
		check_names_sort(base, keys, n);
	if (n > 0) {
		struct dock_archive_key last = keys[0];

		if (last.seq > DOCK_ROTATE_SEQ_MAX)
			last.seq = DOCK_ROTATE_SEQ_MAX;
		check_next_key(&last, n > 1 ? keys[1].stamp : 0);
		check_next_key(&last, last.stamp);
	}
	check_select(keys, n, data[0] % 8);
	free(name);
	return 0;
}
