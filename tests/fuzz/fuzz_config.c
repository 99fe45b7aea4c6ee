// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The operator's input (userspace/config.c): a config file, or a command
 * line. An input starting with "--" is a command line, one argument per
 * line (--config, --help and --check-config are left out: they read other
 * files or print the key table); anything else is a config file, read
 * through a memfd. Either way the result is validated, and a config that
 * loads is loaded again on top of itself (what a reload does).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz_util.h"

#define MAX_ARGS 64

static int memfd = -1;
static char memfd_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init();
	memfd = memfd_create("xr-fuzz-config", MFD_CLOEXEC);
	if (memfd < 0) {
		perror("fuzz: memfd_create");
		abort();
	}
	snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
	return 0;
}

static void from_file(const uint8_t *data, size_t size)
{
	struct xr_config c;
	char err[512];

	if (ftruncate(memfd, 0) < 0 ||
	    pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	config_defaults(&c);
	if (config_load_file(&c, memfd_path, err, sizeof(err)) == 0) {
		config_validate(&c, err, sizeof(err));
		config_load_file(&c, memfd_path, err, sizeof(err));
		config_validate(&c, err, sizeof(err));
	}
	config_free(&c);
}

static int refused(const char *arg)
{
	return !strcmp(arg, "-h") || !strncmp(arg, "--config", 8) ||
	       !strncmp(arg, "--help", 6) || !strncmp(arg, "--check", 7);
}

static void from_args(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAX_ARGS + 1], *p;
	struct xr_config c;
	char err[512];
	int argc = 0, exit_now = 0;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = 0;
	argv[argc++] = "xrelayd";
	for (p = buf; p && argc < MAX_ARGS; ) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = 0;
		if (refused(p))
			goto out;
		argv[argc++] = p;
		p = nl ? nl + 1 : NULL;
	}
	argv[argc] = NULL;
	config_defaults(&c);
	config_from_args(&c, argc, argv, &exit_now, err, sizeof(err));
	config_free(&c);
out:
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 2 && data[0] == '-' && data[1] == '-')
		from_args(data, size);
	else
		from_file(data, size);
	return 0;
}
