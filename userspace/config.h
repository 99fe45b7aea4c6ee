/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xrelayd's configuration: one table of keys drives the config file parser,
 * the command-line flags (--key value or --key=value; '-' and '_' are the
 * same), --help and the README's table. File syntax: "key = value" per
 * line, '#' comments, blank lines; repeatable keys (listen, iface, route,
 * pass_header, ng_allow) may appear many times. A bad line names file, line and
 * problem; a bad flag names the flag.
 */
#ifndef XRELAY_CONFIG_H
#define XRELAY_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "media.h"

#define CFG_MAX_LISTEN 8
#define CFG_MAX_ROUTES 256
#define CFG_MAX_PASS 32
#define CFG_MAX_NG_ALLOW 64

struct cfg_listen {               /* "udp:0.0.0.0:5060", "tcp:[::1]:5070" */
	int proto;                /* 0 = UDP, 1 = TCP (enum sip_proto) */
	struct sockaddr_storage addr;
};

struct xr_config {
	/* SIP */
	struct cfg_listen listen[CFG_MAX_LISTEN];
	int nlisten;
	char domain[128];             /* our domain and digest realm */
	char users_file[256];         /* "": no authentication */
	char *routes[CFG_MAX_ROUTES]; /* route specs, see sip/route.h */
	int nroutes;
	char *pass_headers[CFG_MAX_PASS]; /* header names copied A<->B;
					     "X-*" matches a prefix */
	int npass;
	uint32_t max_calls;           /* 0: no limit */
	uint32_t max_call_rate;       /* new calls per second; 0: no limit */
	uint32_t retry_after_s;       /* Retry-After on 503 */
	uint32_t media_timeout_ms;    /* idle media ends the call; 0: never */
	uint32_t session_expires_s;   /* RFC 4028; 0: no session timer */
	uint32_t min_se_s;
	uint32_t reg_min_expires_s, reg_max_expires_s;
	uint32_t max_forwards;        /* put on B-leg requests */
	char cdr_file[256];           /* "": no CDRs */
	char hep_collector[128];      /* HEPv3 capture "ADDR:PORT"; "": off */
	uint32_t hep_capture_id;
	char hep_auth_key[128];       /* "": none */
	/* media engine */
	struct media_cfg media;
	char pin_dir[256];
	char state_dir[256];
	/* operations */
	char ctl_socket[256];
	char metrics_listen[128];     /* "ADDR:PORT"; "": off */
	char ng_listen[128];          /* "udp:ADDR:PORT,..."; "": off */
	char *ng_allow[CFG_MAX_NG_ALLOW]; /* ng clients; none: loopback */
	int nng_allow;
	int log_level;                /* enum log_level */
	uint32_t kernel_share_warn;   /* percent; 0: no warning */
	int stop_ends_calls;          /* SIGTERM: BYE every call (else keep) */
	/* where the last value came from, for messages: "xrelayd.conf:12" */
	char source[64];
	/* One bit per repeatable key whose list still comes from an earlier
	 * layer (the defaults; the file once the flags are read): the next
	 * value replaces that list instead of adding to it. */
	unsigned lists_inherited;
};

/* Defaults for every key (c is overwritten, not freed). media.pin_dir and
 * media.state_dir point into c itself: do not copy a struct xr_config. */
void config_defaults(struct xr_config *c);
/* Release what config_* allocated (route and header strings). */
void config_free(struct xr_config *c);

/* Parse a file into c (on top of what is there). -1 with err
 * "path:line: problem (fix)". */
int config_load_file(struct xr_config *c, const char *path, char *err,
		     size_t errlen);
/* Set one key from a string; where is "path:line" or "--flag". */
int config_set(struct xr_config *c, const char *key, const char *value,
	       const char *where, char *err, size_t errlen);
/*
 * The command line, on top of config_defaults(): "--config PATH" is read
 * first, then every other flag overrides it (a repeatable key given as a
 * flag replaces the file's list, then adds to it); the result is checked
 * with config_validate(). Also --help (prints the table, *exit_now = 1),
 * --check-config (validate and *exit_now = 1 after printing "ok").
 * Returns 0 or -1 with err.
 */
int config_from_args(struct xr_config *c, int argc, char **argv,
		     int *exit_now, char *err, size_t errlen);
/* Checks across keys (port range inside limits, at least one listen, ...). */
int config_validate(const struct xr_config *c, char *err, size_t errlen);

/* Print the key table: name, default, help (for --help and the README). */
void config_print_help(FILE *out);
/* The same table in Markdown (key | default | description), for the README. */
void config_print_markdown(FILE *out);

#endif
