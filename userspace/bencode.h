/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ng protocol's two encodings into one tree: bencode (i42e, 4:spam,
 * l...e, d...e) and the subset of JSON that carries the same values
 * (objects, arrays, strings, whole numbers; true/false become 1/0, null an
 * empty string). A proxy may send either; the reply goes back in the
 * request's encoding, so the command code sees only the tree.
 *
 * Every node and string of one message lives in one arena, freed at once.
 * The decoder faces the network: it bounds the depth, the number of values
 * and every length, never reads past the buffer, and says what is wrong
 * and at which byte.
 */
#ifndef XRELAY_BENCODE_H
#define XRELAY_BENCODE_H

#include <stddef.h>
#include <stdint.h>

#define BN_MAX_DEPTH  32      /* nested lists/dicts */
#define BN_MAX_VALUES 16384   /* values in one message */

enum bn_type { BN_INT = 1, BN_STR, BN_LIST, BN_DICT };
enum bn_format { BN_BENCODE = 0, BN_JSON };

struct bnode {
	enum bn_type type;
	int64_t num;            /* BN_INT */
	const char *str;        /* BN_STR: NUL-terminated (may hold NULs) */
	size_t len;             /* BN_STR: bytes; BN_LIST, BN_DICT: members */
	const char *key;        /* a dict member's key (NUL-terminated) */
	size_t klen;
	struct bnode *child, *last, *next; /* members, in order */
};

struct bn_arena;

/* An arena that refuses to grow past limit bytes (0: 8 MiB). */
struct bn_arena *bn_arena_new(size_t limit);
void bn_arena_free(struct bn_arena *a);
/* Set once an allocation failed: the tree built since is incomplete. */
int bn_arena_failed(const struct bn_arena *a);

/* The encoding a message starting with this byte uses, or -1. */
int bn_format_of(char first);

/*
 * One value from buf into *out; *used is how many bytes it took (a stream
 * carries messages back to back). Returns 0; -EAGAIN when buf ends inside
 * the value (more may come on a stream; a datagram is truncated); -EINVAL
 * when it is malformed; -E2BIG past a limit; -ENOMEM. err says what and at
 * which byte.
 */
int bn_decode(struct bn_arena *a, enum bn_format f, const char *buf,
	      size_t len, struct bnode **out, size_t *used, char *err,
	      size_t errlen);

/* The tree as text (malloc'd, NUL-terminated, *len bytes without the NUL);
 * NULL when out of memory. bencode dictionaries come out with their keys
 * sorted, as the format requires; JSON keeps the order they were added. */
char *bn_encode(const struct bnode *n, enum bn_format f, size_t *len);

/* Builders. Each returns the new node, or NULL (and marks the arena
 * failed) when out of memory or given a NULL container. */
struct bnode *bn_dict(struct bn_arena *a);
struct bnode *bn_list(struct bn_arena *a);
struct bnode *bn_str(struct bn_arena *a, const char *s, size_t len);
struct bnode *bn_int(struct bn_arena *a, int64_t v);
struct bnode *bn_dict_put(struct bn_arena *a, struct bnode *d,
			  const char *key, struct bnode *v);
struct bnode *bn_dict_put_str(struct bn_arena *a, struct bnode *d,
			      const char *key, const char *s);
struct bnode *bn_dict_put_int(struct bn_arena *a, struct bnode *d,
			      const char *key, int64_t v);
struct bnode *bn_dict_put_dict(struct bn_arena *a, struct bnode *d,
			       const char *key);
struct bnode *bn_dict_put_list(struct bn_arena *a, struct bnode *d,
			       const char *key);
struct bnode *bn_list_add(struct bnode *l, struct bnode *v);
struct bnode *bn_list_add_str(struct bn_arena *a, struct bnode *l,
			      const char *s);

/* The first member of d under exactly this key, or NULL. */
struct bnode *bn_dict_get(const struct bnode *d, const char *key);
const char *bn_type_name(enum bn_type t);

#endif
