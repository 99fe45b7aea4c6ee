// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Call detail records (sip/cdr.c): the exact JSON line of a call, string
 * escaping of whatever came off the wire, an unanswered call, appending
 * and reopening for rotation, and whole lines from concurrent writers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "cdr.h"
#include "check.h"

/* 2026-11-24T10:00:00.123456Z in µs */
#define START_US 1795514400123456ULL

static char dir[64];
static char path[128], rotated[128];
static struct cdr_writer *w;
static char *line_buf;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/xrelay-cdr-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/cdr.json", dir);
	snprintf(rotated, sizeof(rotated), "%s/cdr.json.1", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cdr_close(w);
	w = NULL;
	free(line_buf);
	line_buf = NULL;
	unlink(path);
	unlink(rotated);
	rmdir(dir);
	return 0;
}

/* An answered call of 61.789 s, set up in 2.5 s. */
static struct cdr full_cdr(void)
{
	struct cdr c = {
		.call_id_a = "a84b4c76e66710@pc33.example.com",
		.call_id_b = "xr-0001-b",
		.from = "sip:alice@example.com",
		.to = "sip:+442079460000@example.net",
		.start_us = START_US,
		.answer_us = START_US + 2500000,
		.end_us = START_US + 2500000 + 61789999,
		.end_reason = "bye",
		.hangup_by = "callee",
		.final_status = 200,
		.leg = {
			{ 3000, 516000, 2, 344, 0 },
			{ 2990, 514280, 1, 172, 7 },
		},
	};

	return c;
}

static const char *format(const struct cdr *c)
{
	static char buf[4096];
	int n = cdr_format(c, buf, sizeof(buf));

	CHECK_TRUE(n > 0, "cdr_format succeeds");
	CHECK_EQ(n, strlen(buf), "cdr_format returns the length");
	return buf;
}

static void test_full_record(void **state)
{
	struct cdr c = full_cdr();

	(void)state;
	CHECK_STR(format(&c),
		  "{\"call_id_a\":\"a84b4c76e66710@pc33.example.com\","
		  "\"call_id_b\":\"xr-0001-b\","
		  "\"from\":\"sip:alice@example.com\","
		  "\"to\":\"sip:+442079460000@example.net\","
		  "\"start\":\"2026-11-24T10:00:00.123Z\","
		  "\"answer\":\"2026-11-24T10:00:02.623Z\","
		  "\"end\":\"2026-11-24T10:01:04.413Z\","
		  "\"duration_s\":61.789,"
		  "\"setup_ms\":2500,"
		  "\"end_reason\":\"bye\",\"hangup_by\":\"callee\","
		  "\"final_status\":200,"
		  "\"legs\":{"
		  "\"a\":{\"kernel_packets\":3000,\"kernel_bytes\":516000,"
		  "\"user_packets\":2,\"user_bytes\":344,\"drops\":0},"
		  "\"b\":{\"kernel_packets\":2990,\"kernel_bytes\":514280,"
		  "\"user_packets\":1,\"user_bytes\":172,\"drops\":7}}}",
		  "the whole record");
}

static void test_unanswered(void **state)
{
	struct cdr c = {
		.call_id_a = "cid-a",
		.from = "sip:a@x",
		.to = "sip:b@y",
		/* over a new year, to the last µs of a second */
		.start_us = 1798761599999999ULL,
		.end_us = 1798761601000000ULL,
		.end_reason = "failed",
		.hangup_by = NULL,
		.final_status = 486,
		.leg = { { UINT64_MAX, 1, 0, 0, 0 } },
	};

	(void)state;
	CHECK_STR(format(&c),
		  "{\"call_id_a\":\"cid-a\",\"call_id_b\":null,"
		  "\"from\":\"sip:a@x\",\"to\":\"sip:b@y\","
		  "\"start\":\"2026-12-31T23:59:59.999Z\","
		  "\"answer\":null,"
		  "\"end\":\"2027-01-01T00:00:01.000Z\","
		  "\"duration_s\":0.000,\"setup_ms\":null,"
		  "\"end_reason\":\"failed\",\"hangup_by\":null,"
		  "\"final_status\":486,"
		  "\"legs\":{"
		  "\"a\":{\"kernel_packets\":18446744073709551615,"
		  "\"kernel_bytes\":1,\"user_packets\":0,\"user_bytes\":0,"
		  "\"drops\":0},"
		  "\"b\":{\"kernel_packets\":0,\"kernel_bytes\":0,"
		  "\"user_packets\":0,\"user_bytes\":0,\"drops\":0}}}",
		  "unanswered call: answer and setup null, duration 0");
	/* A clock stepped back between answer and end. */
	c.answer_us = c.end_us + 5000000;
	CHECK_HAS(format(&c), "\"duration_s\":0.000,",
		  "end before answer: duration 0, never negative");
	c.answer_us = c.end_us - 999;
	CHECK_HAS(format(&c), "\"duration_s\":0.000,",
		  "under a millisecond rounds down");
	c.answer_us = c.end_us - 1000;
	CHECK_HAS(format(&c), "\"duration_s\":0.001,", "one millisecond");
}

static void test_escaping(void **state)
{
	struct cdr c = full_cdr();

	(void)state;
	c.from = "\"Bob \\\"B\\\" Smith\" <sip:bob@x>;tag=1";
	c.to = "line\nbreak\r\ttab\x01\x1f\x7f end";
	c.call_id_b = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x9e";
	c.end_reason = "bad \xff \xc0\xaf \xed\xa0\x80 \xc3";
	CHECK_HAS(format(&c),
		  "\"from\":\"\\\"Bob \\\\\\\"B\\\\\\\" Smith\\\" "
		  "<sip:bob@x>;tag=1\"",
		  "quotes and backslashes escaped");
	CHECK_HAS(format(&c),
		  "\"to\":\"line\\u000abreak\\u000d\\u0009tab\\u0001\\u001f"
		  "\\u007f end\"", "control characters as \\u00XX");
	CHECK_HAS(format(&c),
		  "\"call_id_b\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x9e\"",
		  "valid UTF-8 passes through");
	CHECK_HAS(format(&c),
		  "\"end_reason\":\"bad \\ufffd \\ufffd\\ufffd "
		  "\\ufffd\\ufffd\\ufffd \\ufffd\"",
		  "invalid, overlong, surrogate and cut UTF-8 become U+FFFD");
	c.from = "";
	CHECK_HAS(format(&c), "\"from\":\"\",", "an empty string is \"\"");
	c.from = NULL;
	c.to = NULL;
	CHECK_HAS(format(&c), "\"from\":null,\"to\":null,", "NULL is null");
}

static void test_format_buffer(void **state)
{
	struct cdr c = full_cdr();
	char big[4096], small[64];
	int n;

	(void)state;
	n = cdr_format(&c, big, sizeof(big));
	CHECK_TRUE(n > 64, "record longer than the small buffer");
	CHECK_EQ(cdr_format(&c, small, sizeof(small)), -ENOSPC,
		 "too small a buffer");
	CHECK_EQ(strlen(small), sizeof(small) - 1, "truncated but terminated");
	CHECK_TRUE(strncmp(small, big, sizeof(small) - 1) == 0,
		   "truncated output is a prefix of the record");
	CHECK_EQ(cdr_format(&c, big, (size_t)n + 1), n,
		 "a buffer of exactly length + 1");
	CHECK_EQ(cdr_format(&c, big, (size_t)n), -ENOSPC,
		 "no room for the NUL");
}

/* The whole file, for line checks (freed by the teardown). */
static char *slurp(const char *p)
{
	FILE *f = fopen(p, "re");
	long n;

	CHECK_TRUE(f != NULL, "open the CDR file for reading");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	free(line_buf);
	line_buf = calloc(1, (size_t)n + 1);
	CHECK_EQ(fread(line_buf, 1, (size_t)n, f), n, "read the whole file");
	fclose(f);
	return line_buf;
}

static void test_write_and_reopen(void **state)
{
	struct cdr c = full_cdr();
	char expect[8192], two[8192], err[256], one[4096];
	struct stat st;

	(void)state;
	umask(022);
	w = cdr_open(path, err, sizeof(err));
	CHECK_TRUE(w != NULL, "cdr_open of a new file");
	CHECK_EQ(stat(path, &st), 0, "the file exists");
	CHECK_EQ(st.st_mode & 0777, 0640, "created with mode 0640");
	CHECK_EQ(cdr_write(w, &c), 0, "first record");
	c.call_id_b = "second";
	CHECK_EQ(cdr_write(w, &c), 0, "second record");
	cdr_format(&c, one, sizeof(one));
	c.call_id_b = "xr-0001-b";
	snprintf(expect, sizeof(expect), "%s\n%s\n", format(&c), one);
	CHECK_STR(slurp(path), expect, "two lines, each ended by a newline");
	memcpy(two, expect, sizeof(two));

	/* logrotate: rename, then reopen. */
	CHECK_EQ(rename(path, rotated), 0, "rotate the file");
	CHECK_EQ(cdr_reopen(w, err, sizeof(err)), 0, "cdr_reopen");
	c.call_id_b = "third";
	CHECK_EQ(cdr_write(w, &c), 0, "record after the reopen");
	snprintf(expect, sizeof(expect), "%s\n", format(&c));
	CHECK_STR(slurp(path), expect, "the new file has only the third");
	CHECK_STR(slurp(rotated), two, "the rotated file kept its two lines");
	cdr_close(w);

	/* Appending to an existing file keeps what is there. */
	w = cdr_open(path, err, sizeof(err));
	CHECK_TRUE(w != NULL, "cdr_open of an existing file");
	CHECK_EQ(cdr_write(w, &c), 0, "append");
	CHECK_EQ(strlen(slurp(path)), 2 * strlen(expect), "appended, not "
		 "truncated");

	/* A failed reopen keeps writing to the old file. A directory in the
	 * file's place fails the open even for root. */
	CHECK_EQ(rename(path, rotated), 0, "rotate again");
	CHECK_EQ(mkdir(path, 0700), 0, "a directory where the file goes");
	CHECK_TRUE(cdr_reopen(w, err, sizeof(err)) < 0,
		   "reopen onto a directory fails");
	CHECK_HAS(err, path, "reopen error names the file");
	CHECK_HAS(err, "Is a directory", "reopen error names the cause");
	CHECK_EQ(cdr_write(w, &c), 0, "still writes to the old file");
	CHECK_EQ(strlen(slurp(rotated)), 3 * strlen(expect),
		 "the old file got it");
	CHECK_EQ(rmdir(path), 0, "remove the directory");
}

static void test_disabled_and_errors(void **state)
{
	struct cdr c = full_cdr();
	struct cdr_writer *d;
	char err[256] = "";

	(void)state;
	d = cdr_open(NULL, err, sizeof(err));
	CHECK_TRUE(d != NULL, "NULL path: a disabled writer, not an error");
	CHECK_EQ(cdr_write(d, &c), 0, "a disabled writer writes nothing");
	CHECK_EQ(cdr_reopen(d, err, sizeof(err)), 0, "reopen of disabled");
	cdr_close(d);
	d = cdr_open("", err, sizeof(err));
	CHECK_TRUE(d != NULL, "empty path: disabled");
	cdr_close(d);
	CHECK_EQ(cdr_write(NULL, &c), 0, "no writer at all");

	CHECK_TRUE(cdr_open("/nonexistent-xrelay/cdr.json", err,
			    sizeof(err)) == NULL, "a missing directory");
	CHECK_HAS(err, "/nonexistent-xrelay/cdr.json", "error names the file");
	CHECK_HAS(err, "No such file", "error names the cause");
	CHECK_HAS(err, "directory exists", "error says how to fix it");
}

static void test_long_record(void **state)
{
	struct cdr c = full_cdr();
	char *from = malloc(10001), err[256];
	char *text;

	(void)state;
	memset(from, 'x', 10000);
	from[10000] = 0;
	c.from = from;
	w = cdr_open(path, err, sizeof(err));
	CHECK_TRUE(w != NULL, "cdr_open");
	CHECK_EQ(cdr_write(w, &c), 0, "a 10 kB record");
	text = slurp(path);
	free(from);
	CHECK_TRUE(strlen(text) > 10000, "all of it written");
	CHECK_EQ(text[strlen(text) - 1], '\n', "ended by a newline");
	CHECK_HAS(text, "\"legs\":{", "the end of the record is there");
	CHECK_EQ(strchr(text, '\n') - text, strlen(text) - 1, "one line");
}

/*
 * Four processes, each with its own writer on the same file, write 200
 * records of ~3 kB (more than PIPE_BUF, so atomicity is not the pipe
 * kind) at once. Every line must come out whole.
 */
#define WRITERS 4
#define RECORDS 200

static void child_record(int child, int i, char *from, struct cdr *c,
			 char *cid)
{
	*c = full_cdr();
	memset(from, 'A' + child, 3000);
	from[3000] = 0;
	sprintf(cid, "child-%d-%d", child, i);
	c->from = from;
	c->call_id_a = cid;
}

static void test_no_interleaving(void **state)
{
	char from[3001], cid[32], err[256], expect[4096];
	pid_t pid[WRITERS];
	struct cdr c;
	char *text, *line, *save;
	int seen[WRITERS][RECORDS] = { { 0 } }, lines = 0;

	(void)state;
	for (int k = 0; k < WRITERS; k++) {
		pid[k] = fork();
		CHECK_TRUE(pid[k] >= 0, "fork");
		if (pid[k] == 0) {
			struct cdr_writer *cw = cdr_open(path, err,
							 sizeof(err));
			int bad = !cw;

			for (int i = 0; cw && i < RECORDS; i++) {
				child_record(k, i, from, &c, cid);
				bad |= cdr_write(cw, &c) != 0;
			}
			cdr_close(cw);
			_exit(bad);
		}
	}
	for (int k = 0; k < WRITERS; k++) {
		int st;

		CHECK_EQ(waitpid(pid[k], &st, 0), pid[k], "waitpid");
		CHECK_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			   "the writer process wrote all its records");
	}
	text = slurp(path);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		int k, i;

		if (sscanf(line, "{\"call_id_a\":\"child-%d-%d\"", &k,
			   &i) != 2 || k < 0 || k >= WRITERS || i < 0 ||
		    i >= RECORDS)
			fail_msg("line %d does not start a record: %.60s",
				 lines + 1, line);
		child_record(k, i, from, &c, cid);
		cdr_format(&c, expect, sizeof(expect));
		if (strcmp(line, expect) != 0)
			fail_msg("line %d (child %d, record %d) is not whole",
				 lines + 1, k, i);
		seen[k][i]++;
		lines++;
	}
	CHECK_EQ(lines, WRITERS * RECORDS, "every record is one line");
	for (int k = 0; k < WRITERS; k++)
		for (int i = 0; i < RECORDS; i++)
			if (seen[k][i] != 1)
				fail_msg("child %d record %d seen %d times", k,
					 i, seen[k][i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_record),
		cmocka_unit_test(test_unanswered),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_format_buffer),
		cmocka_unit_test_setup_teardown(test_write_and_reopen, setup,
						teardown),
		cmocka_unit_test(test_disabled_and_errors),
		cmocka_unit_test_setup_teardown(test_long_record, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_interleaving, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("test_cdr", tests, NULL, NULL);
}
