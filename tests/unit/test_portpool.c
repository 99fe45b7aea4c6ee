// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The port pool (userspace/portpool.c): even RTP / odd RTCP pairs over a
 * range, handed out in FIFO order, a freed pair quarantined before reuse,
 * O(1) per operation. Times are plain nanosecond numbers: the pool never
 * reads a clock.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "portpool.h"
#include "check.h"

#define MS 1000000ULL
#define Q  (5000 * MS) /* the quarantine of most tests: 5 s */

/* The pool under test; freed by the teardown even when a check fails. */
static struct portpool *pool;
static uint8_t *seen;

static int teardown(void **state)
{
	(void)state;
	portpool_free(pool);
	pool = NULL;
	free(seen);
	seen = NULL;
	return 0;
}

static struct portpool *new_pool(unsigned min, unsigned max, uint64_t q)
{
	portpool_free(pool);
	pool = portpool_new(min, max, q);
	CHECK_TRUE(pool != NULL, "portpool_new of a valid range");
	return pool;
}

/* ---- range and parity ---------------------------------------------------- */

static void test_range_bounds(void **state)
{
	static const struct {
		unsigned min, max, size, first, last;
	} ok[] = {
		{ 30000, 30009, 5, 30000, 30008 }, /* last pair 30008/30009 */
		{ 30000, 30008, 4, 30000, 30006 }, /* 30008 has no RTCP port */
		{ 30001, 30010, 4, 30002, 30008 }, /* odd min rounded up */
		{ 30001, 30011, 5, 30002, 30010 },
		{ 2, 3, 1, 2, 2 },                 /* the lowest pair */
		{ 1, 3, 1, 2, 2 },                 /* 1 rounds up to 2 */
		{ 65534, 65535, 1, 65534, 65534 }, /* the highest pair */
		{ 10000, 65535, 27768, 10000, 65534 },
	};
	static const struct {
		unsigned min, max;
		const char *why;
	} bad[] = {
		{ 0, 100, "min 0" },
		{ 30000, 30000, "one port, no pair" },
		{ 30001, 30002, "min rounds up to 30002: no RTCP port" },
		{ 30010, 30000, "max below min" },
		{ 65534, 65536, "max above 65535" },
		{ 65535, 65535, "min 65535 rounds up past the port space" },
		{ 4294967295u, 4294967295u, "min UINT_MAX" },
	};
	char what[128];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int port, last = -1;

		new_pool(ok[i].min, ok[i].max, 0);
		snprintf(what, sizeof(what), "[%u, %u]: size", ok[i].min,
			 ok[i].max);
		CHECK_EQ(portpool_size(pool), ok[i].size, what);
		snprintf(what, sizeof(what), "[%u, %u]: first pair", ok[i].min,
			 ok[i].max);
		CHECK_EQ(portpool_alloc(pool, 0), ok[i].first, what);
		while ((port = portpool_alloc(pool, 0)) > 0)
			last = port;
		if (ok[i].size == 1)
			last = (int)ok[i].first;
		snprintf(what, sizeof(what), "[%u, %u]: last pair", ok[i].min,
			 ok[i].max);
		CHECK_EQ(last, ok[i].last, what);
		snprintf(what, sizeof(what), "[%u, %u]: RTCP of the last pair "
			 "within max", ok[i].min, ok[i].max);
		CHECK_TRUE((unsigned)last + 1 <= ok[i].max, what);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct portpool *pp = portpool_new(bad[i].min, bad[i].max, 0);

		snprintf(what, sizeof(what), "portpool_new refuses [%u, %u]: %s",
			 bad[i].min, bad[i].max, bad[i].why);
		portpool_free(pp);
		CHECK_TRUE(pp == NULL, what);
	}
	portpool_free(NULL); /* allowed, like free(NULL) */
}

/* Every pair exactly once, all even, in the range; then -ENOSPC. */
static void test_all_pairs_once(void **state)
{
	const unsigned min = 20001, max = 20999; /* 20002..20998: 499 pairs */
	unsigned n;
	int port;

	(void)state;
	new_pool(min, max, Q);
	n = portpool_size(pool);
	CHECK_EQ(n, 499, "size of [20001, 20999]");
	seen = calloc(65536, 1);
	CHECK_TRUE(seen != NULL, "calloc");
	for (unsigned i = 0; i < n; i++) {
		port = portpool_alloc(pool, 1000);
		CHECK_TRUE(port > 0, "alloc succeeds while pairs are free");
		CHECK_EQ(port & 1, 0, "allocated RTP port is even");
		CHECK_TRUE(port >= 20002 && port + 1 <= (int)max,
			   "allocated pair lies within the range");
		CHECK_EQ(seen[port], 0, "no pair is handed out twice");
		seen[port] = 1;
		CHECK_TRUE(portpool_in_use(pool, (unsigned)port),
			   "portpool_in_use of an allocated pair");
		CHECK_EQ(portpool_used(pool), i + 1, "used counts allocations");
	}
	CHECK_EQ(portpool_alloc(pool, 1000), -ENOSPC, "alloc when all used");
	CHECK_EQ(portpool_alloc(pool, 1000 + 100 * Q), -ENOSPC,
		 "alloc when all used, much later");
	CHECK_EQ(portpool_used(pool), n, "used == size when full");
	CHECK_EQ(portpool_size(pool), n, "size unchanged when full");
}

/* ---- quarantine ---------------------------------------------------------- */

static void test_quarantine(void **state)
{
	const uint64_t t0 = 1000 * MS;
	int a, b;

	(void)state;
	new_pool(40000, 40003, Q); /* two pairs: 40000, 40002 */
	a = portpool_alloc(pool, t0);
	b = portpool_alloc(pool, t0);
	CHECK_EQ(a, 40000, "first pair");
	CHECK_EQ(b, 40002, "second pair");
	CHECK_EQ(portpool_release(pool, (unsigned)a, t0 + MS), 0,
		 "release of the first pair");
	CHECK_EQ(portpool_in_use(pool, (unsigned)a), 0,
		 "a released pair is not in use");
	CHECK_EQ(portpool_used(pool), 1, "used after one release");
	/* Only a quarantined pair is free: -EAGAIN, not -ENOSPC. */
	CHECK_EQ(portpool_alloc(pool, t0 + MS), -EAGAIN,
		 "alloc right after the release");
	CHECK_EQ(portpool_alloc(pool, t0 + MS + Q - 1), -EAGAIN,
		 "alloc 1 ns before the quarantine ends");
	CHECK_EQ(portpool_alloc(pool, t0 + MS + Q), a,
		 "alloc when the quarantine has just ended reuses the pair");
	CHECK_EQ(portpool_used(pool), 2, "used after the reuse");
	/* A failed alloc changes nothing. */
	CHECK_EQ(portpool_alloc(pool, t0 + 10 * Q), -ENOSPC,
		 "alloc with every pair in use");
}

/* A never-used pair goes before a quarantined one; no quarantine = FIFO. */
static void test_quarantine_fresh_first(void **state)
{
	(void)state;
	new_pool(40000, 40005, Q); /* 40000, 40002, 40004 */
	CHECK_EQ(portpool_alloc(pool, 0), 40000, "first pair");
	CHECK_EQ(portpool_release(pool, 40000, 10), 0, "release at t=10");
	CHECK_EQ(portpool_alloc(pool, 20), 40002,
		 "fresh pair handed out while 40000 is quarantined");
	CHECK_EQ(portpool_alloc(pool, 30), 40004, "last fresh pair");
	CHECK_EQ(portpool_alloc(pool, 40), -EAGAIN,
		 "only the quarantined pair is left");

	new_pool(40000, 40005, 0);
	CHECK_EQ(portpool_alloc(pool, 0), 40000, "no quarantine: first pair");
	CHECK_EQ(portpool_release(pool, 40000, 5), 0, "release");
	CHECK_EQ(portpool_alloc(pool, 5), 40002,
		 "no quarantine: a released pair still waits its FIFO turn");
	CHECK_EQ(portpool_alloc(pool, 5), 40004, "no quarantine: next fresh");
	CHECK_EQ(portpool_alloc(pool, 5), 40000,
		 "no quarantine: the released pair at once when it is the head");
}

/* Released pairs come back in the order they were released. */
static void test_fifo_order(void **state)
{
	static const unsigned order[] = { 50006, 50000, 50008, 50002, 50004 };
	uint64_t t = 100 * MS;

	(void)state;
	new_pool(50000, 50009, Q); /* five pairs */
	for (int i = 0; i < 5; i++)
		CHECK_EQ(portpool_alloc(pool, t), 50000 + 2 * i,
			 "initial allocation in ascending order");
	for (int i = 0; i < 5; i++)
		CHECK_EQ(portpool_release(pool, order[i], t + (uint64_t)i * MS),
			 0, "release in a scrambled order");
	CHECK_EQ(portpool_alloc(pool, t + Q - 1), -EAGAIN,
		 "the oldest release is still quarantined");
	/* Once the quarantine of the oldest is over, only it is free. */
	CHECK_EQ(portpool_alloc(pool, t + Q), (int)order[0],
		 "first released, first reused");
	CHECK_EQ(portpool_alloc(pool, t + Q), -EAGAIN,
		 "second released is still quarantined 1 ms less");
	for (int i = 1; i < 5; i++)
		CHECK_EQ(portpool_alloc(pool, t + Q + 10 * MS), (int)order[i],
			 "the rest in release order");
	CHECK_EQ(portpool_alloc(pool, t + 10 * Q), -ENOSPC, "all in use again");
}

/* ---- bad releases and take ----------------------------------------------- */

static void test_release_invalid(void **state)
{
	(void)state;
	new_pool(30000, 30009, 0); /* 30000..30008 */
	CHECK_EQ(portpool_release(pool, 30000, 1), -EINVAL,
		 "release of a pair never allocated");
	CHECK_EQ(portpool_alloc(pool, 1), 30000, "alloc");
	CHECK_EQ(portpool_release(pool, 30001, 1), -EINVAL,
		 "release of the odd (RTCP) port");
	CHECK_EQ(portpool_release(pool, 29998, 1), -EINVAL,
		 "release below the range");
	CHECK_EQ(portpool_release(pool, 30010, 1), -EINVAL,
		 "release of the first pair past the range");
	CHECK_EQ(portpool_release(pool, 65534, 1), -EINVAL,
		 "release far past the range");
	CHECK_EQ(portpool_release(pool, 0, 1), -EINVAL, "release of port 0");
	CHECK_EQ(portpool_used(pool), 1, "failed releases change nothing");
	CHECK_EQ(portpool_release(pool, 30000, 1), 0, "release");
	CHECK_EQ(portpool_release(pool, 30000, 2), -EINVAL, "double release");
	CHECK_EQ(portpool_used(pool), 0, "used after release");
	CHECK_EQ(portpool_in_use(pool, 30001), 0, "in_use of an odd port");
	CHECK_EQ(portpool_in_use(pool, 40000), 0, "in_use out of range");
}

/* Adopting pairs after a restart. */
static void test_take(void **state)
{
	(void)state;
	new_pool(30000, 30009, Q); /* 30000..30008 */
	CHECK_EQ(portpool_take(pool, 30004), 0, "take of a free pair");
	CHECK_TRUE(portpool_in_use(pool, 30004), "a taken pair is in use");
	CHECK_EQ(portpool_used(pool), 1, "take counts as used");
	CHECK_EQ(portpool_take(pool, 30004), -EBUSY, "take of a used pair");
	CHECK_EQ(portpool_take(pool, 30005), -EINVAL, "take of an odd port");
	CHECK_EQ(portpool_take(pool, 30010), -EINVAL, "take past the range");
	CHECK_EQ(portpool_take(pool, 29998), -EINVAL, "take below the range");
	CHECK_EQ(portpool_take(pool, 30000), 0, "take of the FIFO head");
	CHECK_EQ(portpool_take(pool, 30008), 0, "take of the FIFO tail");
	/* alloc skips what was taken (head, middle and tail). */
	CHECK_EQ(portpool_alloc(pool, 1), 30002, "alloc after takes");
	CHECK_EQ(portpool_alloc(pool, 1), 30006, "alloc after takes (2)");
	CHECK_EQ(portpool_alloc(pool, 1), -ENOSPC, "all used after takes");
	CHECK_EQ(portpool_alloc(pool, 1), -ENOSPC, "still all used");
	CHECK_EQ(portpool_used(pool), 5, "used == size");
	/* A taken pair is released like an allocated one. */
	CHECK_EQ(portpool_release(pool, 30004, 100), 0, "release a taken pair");
	CHECK_EQ(portpool_alloc(pool, 100 + Q), 30004,
		 "a released taken pair is reused after its quarantine");
	/* A quarantined pair can be adopted at once (its call is the
	 * previous daemon's, alive in the kernel). */
	CHECK_EQ(portpool_release(pool, 30002, 200), 0, "release");
	CHECK_EQ(portpool_take(pool, 30002), 0, "take of a quarantined pair");
	CHECK_EQ(portpool_alloc(pool, 200 + 10 * Q), -ENOSPC,
		 "the taken pair left the FIFO");
}

/* ---- churn and O(1) ------------------------------------------------------ */

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/*
 * Random alloc/release over a small pool with time going forward: a pair
 * is never handed out twice, nor before its quarantine is over, and the
 * counters always agree with a shadow copy.
 */
static void test_churn_invariants(void **state)
{
	enum { NPAIRS = 64 };
	uint64_t released_at[NPAIRS], now = 1, rng = 42;
	int used[NPAIRS] = { 0 };
	unsigned nused = 0, nfree_ready;

	(void)state;
	memset(released_at, 0, sizeof(released_at));
	new_pool(10000, 10000 + 2 * NPAIRS - 1, 50 * MS);
	for (int step = 0; step < 200000; step++) {
		now += lcg(&rng) % (2 * MS);
		if (lcg(&rng) % 2) {
			int port = portpool_alloc(pool, now);

			nfree_ready = 0;
			for (int i = 0; i < NPAIRS; i++)
				if (!used[i] && (!released_at[i] ||
				    now - released_at[i] >= 50 * MS))
					nfree_ready++;
			if (port < 0) {
				CHECK_TRUE(port == -ENOSPC || port == -EAGAIN,
					   "alloc fails with ENOSPC or EAGAIN");
				CHECK_TRUE(port == -EAGAIN || nused == NPAIRS,
					   "ENOSPC only when every pair is used");
				/* The head is the oldest: EAGAIN means no free
				 * pair is out of quarantine. */
				CHECK_EQ(nfree_ready, 0,
					 "EAGAIN only when every free pair is "
					 "quarantined");
				continue;
			}
			int i = (port - 10000) / 2;

			CHECK_TRUE(port >= 10000 && !(port & 1) && i < NPAIRS,
				   "allocated port even and in range");
			CHECK_EQ(used[i], 0, "never handed out twice");
			CHECK_TRUE(!released_at[i] ||
				   now - released_at[i] >= 50 * MS,
				   "never handed out within its quarantine");
			used[i] = 1;
			nused++;
		} else if (nused) {
			int i = (int)(lcg(&rng) % NPAIRS);

			while (!used[i])
				i = (i + 1) % NPAIRS;
			CHECK_EQ(portpool_release(pool, 10000 + 2u * (unsigned)i,
						  now), 0, "release of a used pair");
			used[i] = 0;
			released_at[i] = now;
			nused--;
		}
		CHECK_EQ(portpool_used(pool), nused, "used matches the shadow");
	}
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * 30,000 pairs (ports 4000-63999): allocate all and release all, 4 rounds
 * (240,000 operations). O(1) operations take a few ms even under ASan; a
 * scan of the pool per operation would take seconds. The bound is loose
 * enough never to flake on a loaded machine.
 */
static void test_o1_at_30000_pairs(void **state)
{
	const unsigned npairs = 30000, rounds = 4;
	const uint64_t bound_ns = 500 * MS;
	uint64_t t0, elapsed, now = 1;

	(void)state;
	new_pool(4000, 4000 + 2 * npairs - 1, 0);
	CHECK_EQ(portpool_size(pool), npairs, "size of [4000, 63999]");
	t0 = mono_ns();
	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned i = 0; i < npairs; i++)
			if (portpool_alloc(pool, now) < 0)
				fail_msg("round %u: alloc %u of %u failed", r, i,
					 npairs);
		CHECK_EQ(portpool_alloc(pool, now), -ENOSPC,
			 "full after allocating every pair");
		/* Release in an order unlike the allocation order. */
		for (unsigned i = 0; i < npairs; i++) {
			unsigned k = (i * 7919u) % npairs; /* 7919 is prime */

			if (portpool_release(pool, 4000 + 2 * k, ++now) != 0)
				fail_msg("round %u: release of %u failed", r,
					 4000 + 2 * k);
		}
		CHECK_EQ(portpool_used(pool), 0, "empty after releasing all");
	}
	elapsed = mono_ns() - t0;
	print_message("# %u alloc+release of 30,000 pairs in %.1f ms\n",
		      rounds * npairs * 2, (double)elapsed / 1e6);
	if (elapsed > bound_ns)
		fail_msg("%u operations took %.1f ms, over the %.0f ms bound: "
			 "not O(1)?", rounds * npairs * 2, (double)elapsed / 1e6,
			 (double)bound_ns / 1e6);
}

/* -EAGAIN is O(1) too: a full quarantine does not make alloc scan. */
static void test_o1_eagain(void **state)
{
	const unsigned npairs = 30000;
	uint64_t t0, elapsed;

	(void)state;
	new_pool(4000, 4000 + 2 * npairs - 1, 1000000 * MS);
	for (unsigned i = 0; i < npairs; i++)
		if (portpool_alloc(pool, 1) < 0)
			fail_msg("alloc %u failed", i);
	for (unsigned i = 0; i < npairs; i++)
		if (portpool_release(pool, 4000 + 2 * i, 2) != 0)
			fail_msg("release %u failed", i);
	t0 = mono_ns();
	for (unsigned i = 0; i < 100000; i++)
		if (portpool_alloc(pool, 3) != -EAGAIN)
			fail_msg("alloc %u during the quarantine did not return "
				 "EAGAIN", i);
	elapsed = mono_ns() - t0;
	if (elapsed > 200 * MS)
		fail_msg("100,000 EAGAIN allocs took %.1f ms: not O(1)?",
			 (double)elapsed / 1e6);
}

#define T(f) cmocka_unit_test_teardown(f, teardown)

int main(void)
{
	static const struct CMUnitTest tests[] = {
		T(test_range_bounds),
		T(test_all_pairs_once),
		T(test_quarantine),
		T(test_quarantine_fresh_first),
		T(test_fifo_order),
		T(test_release_invalid),
		T(test_take),
		T(test_churn_invariants),
		T(test_o1_at_30000_pairs),
		T(test_o1_eagain),
	};

	return cmocka_run_group_tests_name("test_portpool", tests, NULL, NULL);
}
