# xrelay build. Everything generated goes to build/ (vmlinux.h, BPF objects,
# skeletons, objects, binaries); `make V=1` shows the commands.
#
#   make            daemon, tools and the BPF object
#   make test       every test (unit, BPF program, end-to-end); needs root
#   make bench      benchmarks (never fail on a figure)
#   make demo       the demo (needs root)
#   make install    xrelayd, xrelayctl, the example config and the systemd
#                   unit (PREFIX=/usr/local, DESTDIR for staging); uninstall

BUILD    := build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE $(WARN) -Ibpf -Iuserspace -Isip -I$(BUILD)
LDLIBS   := -lbpf -lelf -lz -losipparser2
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer
BPF_CFLAGS := -g -O2 -fno-strict-aliasing -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) \
              -Wno-unused-function -I$(BUILD) -Ibpf

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all test test-build bench demo clean install uninstall

# ---- sources ---------------------------------------------------------------
BPF_SRCS   := bpf/xrelay.bpf.c
BPF_HDRS   := $(wildcard bpf/*.h)
# Every userspace/ and sip/ file is library code except the daemon's main;
# every tests/unit/test_*.c is a unit test binary.
DAEMON_MAIN := userspace/xrelayd.c
LIB_SRCS   := $(filter-out $(DAEMON_MAIN),$(wildcard userspace/*.c sip/*.c))
TOOLS      := xrelay-fp xrelay-media rtpprobe uactl
TOOLS      += xrelayctl
TOOLS      += sipflood
UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
TEST_LIB_SRCS := tests/unit/frames.c tests/unit/b2bua_fixture.c
BENCHES    := bench_prog bench_gen
BENCHES    += sipload
BENCHES    += bench_ng bench_udprelay
BENCHES    += bench_bare

SKELS      := $(BUILD)/xrelay.skel.h
# Linked as archives, so each binary takes only the objects it uses.
LIB_OBJS   := $(BUILD)/libxrelay.a
LIB_SAN    := $(BUILD)/libxrelay-san.a
TEST_LIB_SAN := $(TEST_LIB_SRCS:%.c=$(BUILD)/san/%.o)

all: $(BUILD)/xrelayd $(addprefix $(BUILD)/,$(TOOLS))

# ---- BPF: vmlinux.h -> .bpf.o -> .skel.h -------------------------------------
$(BUILD)/vmlinux.h: vmlinux-gen.sh
	$(call msg,GEN,$@)
	$(Q)./vmlinux-gen.sh $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# The bare prototype that tools/bench_media.sh measures xrelay against: a
# tool's program, so its rule names its source; its map layout is in
# tools/bench_bare.h.
$(BUILD)/bench_bare.bpf.o: tools/bench_bare.bpf.c tools/bench_bare.h $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# ---- userspace objects: plain and sanitized -----------------------------------
$(BUILD)/obj/%.o: %.c $(SKELS) $(BPF_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/san/%.o: %.c $(SKELS) $(BPF_HDRS)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -MMD -MP -c $< -o $@

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

$(BUILD)/libxrelay.a: $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/libxrelay-san.a: $(LIB_SRCS:%.c=$(BUILD)/san/%.o)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# ---- binaries ---------------------------------------------------------------------
$(BUILD)/xrelay-fp: $(BUILD)/obj/tools/xrelay-fp.o $(LIB_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# Needs only the protocol header (ctl_proto.h), no library.
$(BUILD)/xrelayctl: $(BUILD)/obj/tools/xrelayctl.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

$(BUILD)/rtpprobe: $(BUILD)/obj/tools/rtpprobe.o $(BUILD)/obj/userspace/netaddr.o \
                  $(BUILD)/obj/userspace/inet_csum.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

$(BUILD)/uactl: $(BUILD)/obj/tools/uactl.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

$(BUILD)/xrelayd: $(BUILD)/obj/$(DAEMON_MAIN:.c=.o) $(LIB_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/xrelay-media: $(BUILD)/obj/tools/media-driver.o $(LIB_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# The digest computations come from the library (sip/auth.c).
$(BUILD)/sipflood: $(BUILD)/obj/tools/sipflood.o $(LIB_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# Tests link the sanitized objects: the test build runs under ASan/UBSan.
$(BUILD)/test_%: $(BUILD)/san/tests/unit/test_%.o $(TEST_LIB_SAN) $(LIB_SAN)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) $^ $(LDLIBS) -lcmocka -o $@

$(BUILD)/bench_%: $(BUILD)/obj/tools/bench_%.o $(LIB_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -lm -o $@

# Its loader embeds the program (skeleton).
$(BUILD)/obj/tools/bench_bare.o: $(BUILD)/bench_bare.skel.h

$(BUILD)/sipload: $(BUILD)/obj/tools/sipload.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -lbpf -lm -o $@

# ---- fuzzing (clang libFuzzer) ---------------------------------------------------
# tests/fuzz/fuzz_*.c are libFuzzer targets over the library built again
# with clang, coverage and ASan/UBSan (build/fuzz/). `make fuzz` replays
# each target's corpus (tests/fuzz/corpus/<target>/) and fuzzes it for
# FUZZ_TIME seconds (finds go to build/fuzz-corpus/, crashes to
# build/fuzz-crash/); `make fuzz-ci` does the same for FUZZ_CI_TIME
# seconds, as tests/run.sh does.
FUZZ_CC       ?= clang
FUZZ_TIME     ?= 60
FUZZ_CI_TIME  ?= 20
FUZZ_FLAGS    := -fsanitize=fuzzer-no-link,address,undefined \
                 -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_LIB_SRCS := tests/fuzz/fuzz_util.c
FUZZ_TARGETS  := $(filter-out fuzz_util,$(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
.PHONY: fuzz fuzz-build fuzz-ci

$(BUILD)/fuzz/%.o: %.c $(SKELS) $(BPF_HDRS)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(CFLAGS) $(FUZZ_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libxrelay-fuzz.a: $(LIB_SRCS:%.c=$(BUILD)/fuzz/%.o)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz_%: $(BUILD)/fuzz/tests/fuzz/fuzz_%.o \
                 $(FUZZ_LIB_SRCS:%.c=$(BUILD)/fuzz/%.o) $(BUILD)/libxrelay-fuzz.a
	$(call msg,LD,$@)
	$(Q)$(FUZZ_CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined $^ $(LDLIBS) -o $@

fuzz-build: $(addprefix $(BUILD)/,$(FUZZ_TARGETS))

fuzz: fuzz-build
	$(Q)BUILD=$(BUILD) tests/fuzz/run.sh $(FUZZ_TIME) $(FUZZ_TARGETS)

fuzz-ci: fuzz-build
	$(Q)BUILD=$(BUILD) tests/fuzz/run.sh $(FUZZ_CI_TIME) $(FUZZ_TARGETS)

# ---- entry points -----------------------------------------------------------------
# bench_gen is also the RTP flood of tests/e2e/test_flood.sh; the other
# benches are built too, so that the suite catches one that no longer
# compiles (make bench is not part of it).
test-build: all $(addprefix $(BUILD)/,$(UNIT_TESTS) $(BENCHES))

test: test-build
	$(Q)tests/run.sh

bench: all $(addprefix $(BUILD)/,$(BENCHES))
	$(Q)BUILD=$(BUILD) tools/bench.sh

demo: all
	$(Q)tools/demo.sh

clean:
	rm -rf $(BUILD)

# ---- install ----------------------------------------------------------------------
# The daemon into sbin, xrelayctl into bin, the example config, the config
# itself only when there is none yet (it is the operator's from then on),
# and the systemd unit with its paths set to PREFIX and SYSCONFDIR.
# uninstall removes all of it but the config.
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
INSTALL    ?= install
CONFDIR    := $(DESTDIR)$(SYSCONFDIR)/xrelay

install: $(BUILD)/xrelayd $(BUILD)/xrelayctl
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -D -m 0755 $(BUILD)/xrelayd "$(DESTDIR)$(PREFIX)/sbin/xrelayd"
	$(Q)$(INSTALL) -D -m 0755 $(BUILD)/xrelayctl "$(DESTDIR)$(PREFIX)/bin/xrelayctl"
	$(Q)$(INSTALL) -D -m 0644 dist/xrelayd.conf.example \
		"$(CONFDIR)/xrelayd.conf.example"
	$(Q)[ -e "$(CONFDIR)/xrelayd.conf" ] || $(INSTALL) -D -m 0640 \
		dist/xrelayd.conf.example "$(CONFDIR)/xrelayd.conf"
	$(Q)sed -e 's|/usr/local/sbin/|$(PREFIX)/sbin/|g' \
		-e 's|/etc/xrelay/|$(SYSCONFDIR)/xrelay/|g' \
		dist/xrelayd.service >$(BUILD)/xrelayd.service
	$(Q)$(INSTALL) -D -m 0644 $(BUILD)/xrelayd.service \
		"$(DESTDIR)$(UNITDIR)/xrelayd.service"

uninstall:
	$(call msg,UNINST,$(DESTDIR)$(PREFIX))
	$(Q)rm -f "$(DESTDIR)$(PREFIX)/sbin/xrelayd" "$(DESTDIR)$(PREFIX)/bin/xrelayctl" \
		"$(CONFDIR)/xrelayd.conf.example" "$(DESTDIR)$(UNITDIR)/xrelayd.service"
	$(Q)if [ -e "$(CONFDIR)/xrelayd.conf" ]; then \
		echo "kept $(CONFDIR)/xrelayd.conf (your configuration)"; \
	else rmdir "$(CONFDIR)" 2>/dev/null || true; fi
