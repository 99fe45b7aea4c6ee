/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Named assertions for the cmocka unit tests: every check says what it
 * checks, so that a failure reads "portpool_alloc after release: got -11,
 * expected 30000" rather than "0xfffffff5 != 0x7530". Include after
 * <cmocka.h>.
 */
#ifndef XRELAY_TEST_CHECK_H
#define XRELAY_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static inline void check_eq_(long long got, long long exp, const char *what,
			     const char *file, int line)
{
	if (got == exp)
		return;
	print_error("%s: got %lld (0x%llx), expected %lld (0x%llx)\n", what,
		    got, (unsigned long long)got, exp, (unsigned long long)exp);
	_fail(file, line);
}

static inline void check_true_(int cond, const char *what, const char *file,
			       int line)
{
	if (cond)
		return;
	print_error("%s: is false\n", what);
	_fail(file, line);
}

static inline void check_str_(const char *got, const char *exp,
			      const char *what, const char *file, int line)
{
	if (got && exp && strcmp(got, exp) == 0)
		return;
	print_error("%s: got \"%s\", expected \"%s\"\n", what,
		    got ? got : "(null)", exp ? exp : "(null)");
	_fail(file, line);
}

/* got contains needle. */
static inline void check_has_(const char *got, const char *needle,
			      const char *what, const char *file, int line)
{
	if (got && strstr(got, needle))
		return;
	print_error("%s: \"%s\" does not contain \"%s\"\n", what,
		    got ? got : "(null)", needle);
	_fail(file, line);
}

static inline void check_mem_(const void *got, const void *exp, size_t len,
			      const char *what, const char *file, int line)
{
	const uint8_t *g = got, *e = exp;

	for (size_t i = 0; i < len; i++) {
		if (g[i] == e[i])
			continue;
		print_error("%s: differs at byte %zu of %zu: got 0x%02x, "
			    "expected 0x%02x\n", what, i, len, g[i], e[i]);
		print_error("  got:     ");
		for (size_t j = 0; j < len; j++)
			print_error(" %02x%s", g[j], j + 1 < len ? "" : "\n");
		print_error("  expected:");
		for (size_t j = 0; j < len; j++)
			print_error(" %02x%s", e[j], j + 1 < len ? "" : "\n");
		_fail(file, line);
	}
}

#define CHECK_EQ(got, exp, what) \
	check_eq_((long long)(got), (long long)(exp), (what), __FILE__, __LINE__)
#define CHECK_TRUE(cond, what) \
	check_true_(!!(cond), (what), __FILE__, __LINE__)
#define CHECK_STR(got, exp, what) \
	check_str_((got), (exp), (what), __FILE__, __LINE__)
#define CHECK_HAS(got, needle, what) \
	check_has_((got), (needle), (what), __FILE__, __LINE__)
#define CHECK_MEM(got, exp, len, what) \
	check_mem_((got), (exp), (len), (what), __FILE__, __LINE__)

#endif
