/* A small JSON writer over a caller buffer, for the hook's body and the
 * status file. It never allocates: a value that does not fit marks the
 * document as failed, and dock_json_finish then says so, so a truncated
 * document can never be sent or written. */
#ifndef DOCK_JSON_H
#define DOCK_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Nesting deeper than this is a misuse (dock's documents are three deep). */
#define DOCK_JSON_MAX_DEPTH 16

struct dock_json {
	char *buf;
	size_t cap;
	size_t len;
	bool failed;		/* overflow or misuse: finish returns -1 */
	bool after_key;		/* a key was written; its value comes next */
	unsigned depth;
	uint32_t in_object;	/* bit per depth: an object (else an array) */
	uint32_t has_items;	/* bit per depth: a comma precedes the next item */
};

void dock_json_init(struct dock_json *j, char *buf, size_t cap);

void dock_json_begin_object(struct dock_json *j);
void dock_json_end_object(struct dock_json *j);
void dock_json_begin_array(struct dock_json *j);
void dock_json_end_array(struct dock_json *j);

/* Inside an object, every value is preceded by its key. */
void dock_json_key(struct dock_json *j, const char *key);

/* A string value; NULL writes null. Control characters, quotes and
 * backslashes are escaped; bytes that are not valid UTF-8 become U+FFFD, so
 * the document is valid JSON whatever the input (interface names are
 * arbitrary bytes to the kernel). */
void dock_json_string(struct dock_json *j, const char *s);
void dock_json_string_n(struct dock_json *j, const char *s, size_t n);
void dock_json_int(struct dock_json *j, long long v);
void dock_json_bool(struct dock_json *j, bool v);
void dock_json_null(struct dock_json *j);

/* Returns the document's length (NUL-terminated in buf), or -1 when it did
 * not fit, was misused, or has a container left open. */
ssize_t dock_json_finish(struct dock_json *j);

#endif
