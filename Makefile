# hintd — build, test, install.
#   make            hintd, hintctl, hint-agent (static) and pagehint.ko
#   make check      unit tests (plain and ASan/UBSan), bats tests, real-VM tests
#   make demo       real guests under hintd, watched with hintctl top
#   make install    PREFIX=/usr/local DESTDIR=  (install-host, install-guest, install-dkms)
#   make deb        Debian packages hintd, hint-agent, pagehint-dkms in build/deb/
# Sources are found by directory: common/*.c is linked into every program,
# tests/unit/test-*.c is one test program each.

PREFIX     ?= /usr/local
DESTDIR    ?=
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
MANDIR     ?= $(PREFIX)/share/man
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DBUSPOLICYDIR ?= $(SYSCONFDIR)/dbus-1/system.d
DBUSIFACEDIR  ?= $(PREFIX)/share/dbus-1/interfaces
# polkitd reads actions from /usr/share only, whatever PREFIX is.
POLKITACTIONDIR ?= /usr/share/polkit-1/actions
UDEVRULESDIR  ?= $(PREFIX)/lib/udev/rules.d
DKMSSRCDIR    ?= $(PREFIX)/src
VERSION       ?= 0.1
BUILD      ?= build

CC        ?= cc
CFLAGS    ?= -O2 -g
WARNINGS   = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter
CPPFLAGS  += -D_GNU_SOURCE -Icommon -Ikernel -Idaemon -Icli -Ibench/baselines -Itests/unit
ALL_CFLAGS = -std=gnu11 $(WARNINGS) $(CFLAGS)
SANITIZE   = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# The guest kernel: the newest Debian kernel installed in /boot.
GUEST_KVER ?= $(shell ls /boot/vmlinuz-*-amd64 2>/dev/null | sed 's|.*/vmlinuz-||' | sort -V | tail -n 1)

pc = $(shell pkg-config --$(1) $(2) 2>/dev/null)
DAEMON_PKGS = libsystemd jansson libvirt libvirt-qemu libcgroup libxml-2.0 libmicrohttpd
CLI_PKGS    = libsystemd jansson ncursesw

COMMON_SRC = $(wildcard common/*.c)
DAEMON_SRC = $(filter-out daemon/main.c,$(wildcard daemon/*.c))
CLI_SRC    = $(filter-out cli/main.c,$(wildcard cli/*.c))
AGENT_SRC  = $(wildcard guest-agent/*.c)
LAB_SRC    = $(wildcard tests/lab/guest/*.c)
PEER_SRC   = $(wildcard tests/lab/host/*.c)
UNIT_SRC   = $(wildcard tests/unit/test-*.c)
HEADERS    = $(wildcard common/*.h daemon/*.h cli/*.h guest-agent/*.h kernel/*.h bench/baselines/*.h tests/unit/*.h)

PROGRAMS   = $(if $(wildcard daemon/main.c),$(BUILD)/hintd) \
             $(if $(wildcard cli/main.c),$(BUILD)/hintctl) \
             $(if $(AGENT_SRC),$(BUILD)/hint-agent)
LAB_PROGS  = $(patsubst tests/lab/guest/%.c,$(BUILD)/lab/%,$(LAB_SRC)) \
             $(patsubst tests/lab/host/%.c,$(BUILD)/lab/host/%,$(PEER_SRC))
MODULE     = $(if $(wildcard kernel/pagehint.c),$(BUILD)/pagehint.ko)
# The benchmarks' baseline balloon controllers: bench/baselines/NAME.c (main
# and libvirt) with NAME-policy.c (the pure policy, unit-tested).
BASELINES     = mom pve
BASELINE_PURE = $(patsubst %,bench/baselines/%-policy.c,$(BASELINES))
BASELINE_BINS = $(patsubst %,$(BUILD)/bench/%,$(BASELINES))
UNIT_BINS  = $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
ASAN_BINS  = $(patsubst tests/unit/%.c,$(BUILD)/asan/%,$(UNIT_SRC))

.PHONY: install-host install-guest install-dkms deb debian-image debian-pgsql-image
.PHONY: all deps check check-lint check-unit check-asan check-bats check-vm check-fuzz check-bench demo bench fuzz \
        install clean lab-down lab-image
all: $(PROGRAMS) $(LAB_PROGS) $(MODULE) $(BASELINE_BINS)

# Objects are intermediate files make would delete; keep them for quick rebuilds.
.SECONDARY:

deps:
	@scripts/deps

# Programs on the host: dynamically linked against the Debian libraries.
$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(call pc,cflags,$(DAEMON_PKGS) ncursesw) -c -o $@ $<

$(BUILD)/asan/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(SANITIZE) $(call pc,cflags,$(DAEMON_PKGS) ncursesw) -c -o $@ $<

obj  = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
aobj = $(patsubst %.c,$(BUILD)/asan/obj/%.o,$(1))

$(BUILD)/hintd: $(call obj,daemon/main.c $(DAEMON_SRC) $(COMMON_SRC))
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(call pc,libs,$(DAEMON_PKGS)) -lm

$(BUILD)/hintctl: $(call obj,cli/main.c $(CLI_SRC) $(COMMON_SRC))
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(call pc,libs,$(CLI_PKGS)) -lm

# Programs for the guest: static, so they run from a busybox initramfs (the
# Debian package links hint-agent dynamically: AGENT_LDFLAGS=).
AGENT_LDFLAGS ?= -static
$(BUILD)/hint-agent: $(AGENT_SRC) $(COMMON_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) $(AGENT_LDFLAGS) -o $@ $(AGENT_SRC) $(COMMON_SRC) -ljansson -lm

$(BUILD)/lab/%: tests/lab/guest/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -static -o $@ $<

# Host-side lab tools (test peers): dynamically linked with common/.
$(BUILD)/lab/host/%: $(call obj,tests/lab/host/%.c $(COMMON_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(call pc,libs,jansson) -lm

# The guest kernel module, built out of tree against the guest kernel's headers.
$(BUILD)/pagehint.ko: kernel/pagehint.c kernel/pagehint_uapi.h kernel/Kbuild
	@test -n "$(GUEST_KVER)" || { echo "no guest kernel in /boot: run make deps" >&2; exit 1; }
	$(MAKE) -C /lib/modules/$(GUEST_KVER)/build M=$(CURDIR)/kernel modules
	@mkdir -p $(BUILD) && cp kernel/pagehint.ko $@

# Fuzzing with libFuzzer (clang): each tests/fuzz/fuzz-NAME.c is a target,
# linked with everything the daemon has but main.c. `make fuzz` runs each for
# FUZZ_SECONDS; `make check` runs each for a short smoke period.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 3
FUZZ_CFLAGS   = -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter \
                -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SRC      = $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_BINS     = $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
fobj = $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(1))

$(BUILD)/fuzz/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(call pc,cflags,$(DAEMON_PKGS)) -c -o $@ $<

$(BUILD)/fuzz/%: $(call fobj,tests/fuzz/%.c $(DAEMON_SRC) $(COMMON_SRC))
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(call pc,libs,$(DAEMON_PKGS)) -lm

fuzz: $(FUZZ_BINS)
	@tests/run-fuzz $(FUZZ_SECONDS) $(FUZZ_BINS)

check-fuzz: $(FUZZ_BINS)
	@tests/run-fuzz $(FUZZ_SMOKE_SECONDS) $(FUZZ_BINS)

# The lab's guest image: the Debian kernel, an initramfs with the lab programs,
# hint-agent and pagehint.ko, and a data disk for page cache.
LAB_IMAGE = $(BUILD)/lab/vmlinuz $(BUILD)/lab/initrd.img $(BUILD)/lab/data.img
lab-image: $(LAB_IMAGE)

$(BUILD)/lab/vmlinuz:
	@test -n "$(GUEST_KVER)" || { echo "no guest kernel in /boot: run make deps" >&2; exit 1; }
	@mkdir -p $(dir $@)
	cp /boot/vmlinuz-$(GUEST_KVER) $@

GUEST_PROGS = $(patsubst tests/lab/guest/%.c,$(BUILD)/lab/%,$(LAB_SRC)) \
              $(if $(AGENT_SRC),$(BUILD)/hint-agent)
$(BUILD)/lab/initrd.img: tests/lab/init tests/lab/mkinitrd $(GUEST_PROGS) $(MODULE)
	tests/lab/mkinitrd $(GUEST_KVER) $@ $(BUILD)

$(BUILD)/lab/data.img: tests/lab/mkdata
	tests/lab/mkdata $@

# The lab's Debian 12 guest (lab start --distro debian): a root disk with
# systemd and the guest packages installed by apt inside it, its kernel and
# initrd; tests/lab/mkdebian rebuilds it only when the packages change.
GUEST_DEBS = $(BUILD)/deb/hint-agent_$(VERSION)_amd64.deb $(BUILD)/deb/pagehint-dkms_$(VERSION)_all.deb
debian-image: deb $(LAB_PROGS) $(BUILD)/lab/data.img
	@tests/lab/mkdebian $(BUILD)/lab/debian $(BUILD) $(GUEST_DEBS)
# The same guest with PostgreSQL, for the benchmarks (its base is shared).
debian-pgsql-image: deb $(LAB_PROGS) $(BUILD)/lab/data.img
	@MKDEBIAN_EXTRA=postgresql MKDEBIAN_BASE_DIR=$(BUILD)/lab/debian \
		tests/lab/mkdebian $(BUILD)/lab/debian-pgsql $(BUILD) $(GUEST_DEBS)

# Unit tests: each test-*.c is a program linked with everything but main.c.
# The guest agent's pure parts are unit-tested too.
AGENT_PURE = guest-agent/reclaim-choice.c
UNIT_LINK = $(DAEMON_SRC) $(CLI_SRC) $(COMMON_SRC) $(AGENT_PURE) $(BASELINE_PURE)
$(BUILD)/unit/%: $(call obj,tests/unit/%.c $(UNIT_LINK))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(call pc,libs,$(DAEMON_PKGS) ncursesw) -lm

$(BUILD)/asan/%: $(call aobj,tests/unit/%.c $(UNIT_LINK))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SANITIZE) -o $@ $^ $(call pc,libs,$(DAEMON_PKGS) ncursesw) -lm


# Benchmarks: each bench/*.c is a program linked with the daemon's objects.
BENCH_BINS = $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
$(BUILD)/bench/%: $(call obj,bench/%.c $(DAEMON_SRC) $(COMMON_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(call pc,libs,$(DAEMON_PKGS)) -lm

$(BUILD)/bench/mom $(BUILD)/bench/pve: $(BUILD)/bench/%: \
		$(call obj,bench/baselines/%.c bench/baselines/%-policy.c bench/baselines/balloon-io.c common/parse.c)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(call pc,libs,libvirt) -lm

bench: all lab-image debian-image debian-pgsql-image $(BENCH_BINS)
	BUILD=$(CURDIR)/$(BUILD) bench/run all

# A quick run of the benchmarks that need no guests (the others are skipped).
check-bench: all $(BENCH_BINS)
	@BENCH_SMOKE=1 BUILD=$(CURDIR)/$(BUILD) bench/run


# Builds in parallel (the Debian guest image, mostly downloads and unpacking,
# alongside the compilers), runs the suites without guests two at a time
# (each one's output kept together), then the real-guest files one by one.
check: deps
	$(MAKE) -j$(shell nproc) all lab-image debian-image $(UNIT_BINS) $(ASAN_BINS) $(FUZZ_BINS) $(BENCH_BINS)
	$(MAKE) -j2 --output-sync=target check-lint check-unit check-asan check-fuzz check-bats check-bench
	$(MAKE) check-vm

# Static analysis: cppcheck over every C file of the project; the few reports
# it cannot get right are listed, with why, in tests/cppcheck.supp. Then the
# shape docs/architecture.md promises (tests/check-structure).
check-lint:
	cppcheck -q -j 2 --error-exitcode=1 --enable=warning,performance,portability --std=c11 \
		-D_GNU_SOURCE -Icommon -Idaemon -Icli -Ikernel --suppressions-list=tests/cppcheck.supp \
		daemon common cli guest-agent tests/lab/guest tests/lab/host bench tests/unit tests/fuzz
	@tests/check-structure

check-unit: $(UNIT_BINS)
	@tests/run-unit $(UNIT_BINS)

check-asan: $(ASAN_BINS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		tests/run-unit $(ASAN_BINS)

# Four files at a time: they mostly wait on their own hintd and bus.
check-bats: all deb
	@BUILD=$(CURDIR)/$(BUILD) prove -j4 --exec bats tests/bats/*.bats

# Real guests: one test file at a time, one VM suite per machine (the lock),
# and the lab is torn down whatever happens.
check-vm: all lab-image debian-image
	@BUILD=$(CURDIR)/$(BUILD) flock /tmp/hintd-vm.lock prove -v --timer --exec bats tests/vm/*.bats; \
		rc=$$?; BUILD=$(CURDIR)/$(BUILD) tests/lab/lab down; exit $$rc

demo: deps
	$(MAKE) all lab-image
	BUILD=$(CURDIR)/$(BUILD) GUEST_KVER=$(GUEST_KVER) tests/lab/demo

# Stops whatever a lab left running (guests, libvirtd, dbus-daemon), by recorded PID.
lab-down:
	@tests/lab/lab down

install: all install-host install-guest install-dkms

# The host: hintd, hintctl, their man pages, config, unit, D-Bus policy and interface.
install-host: $(BUILD)/hintd $(BUILD)/hintctl
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0755 $(BUILD)/hintd $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(BUILD)/hintctl $(DESTDIR)$(BINDIR)/
	install -m 0644 man/hintctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/hintd.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/hintd.8 $(DESTDIR)$(MANDIR)/man8/
	install -D -m 0644 etc/hintd.conf $(DESTDIR)$(SYSCONFDIR)/hintd/hintd.conf
	sed 's|/usr/local/sbin/hintd|$(SBINDIR)/hintd|' etc/systemd/hintd.service \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/hintd.service
	install -D -m 0644 etc/dbus-1/system.d/org.hintd1.conf $(DESTDIR)$(DBUSPOLICYDIR)/org.hintd1.conf
	install -D -m 0644 docs/org.hintd1.xml $(DESTDIR)$(DBUSIFACEDIR)/org.hintd1.xml
	install -D -m 0644 etc/polkit-1/actions/org.hintd1.policy \
		$(DESTDIR)$(POLKITACTIONDIR)/org.hintd1.policy
	install -D -m 0644 contrib/grafana-hintd.json $(DESTDIR)$(PREFIX)/share/hintd/grafana-hintd.json

# The guest: hint-agent, its man page, its unit and the udev rule that starts it.
install-guest: $(BUILD)/hint-agent
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0755 $(BUILD)/hint-agent $(DESTDIR)$(SBINDIR)/
	install -m 0644 man/hint-agent.8 $(DESTDIR)$(MANDIR)/man8/
	sed 's|/usr/sbin/hint-agent|$(SBINDIR)/hint-agent|' etc/systemd/hint-agent.service \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/hint-agent.service
	install -D -m 0644 etc/udev/60-hint-agent.rules $(DESTDIR)$(UDEVRULESDIR)/60-hint-agent.rules
	install -D -m 0644 etc/udev/61-hint-agent-memory.rules $(DESTDIR)$(UDEVRULESDIR)/61-hint-agent-memory.rules

# The guest module's source for DKMS, which builds it for each guest kernel.
install-dkms:
	install -d $(DESTDIR)$(DKMSSRCDIR)/pagehint-$(VERSION)
	install -m 0644 kernel/pagehint.c kernel/pagehint_uapi.h kernel/Kbuild \
		$(DESTDIR)$(DKMSSRCDIR)/pagehint-$(VERSION)/
	sed 's|#MODULE_VERSION#|$(VERSION)|' kernel/dkms.conf > $(DESTDIR)$(DKMSSRCDIR)/pagehint-$(VERSION)/dkms.conf

# Debian packages (debian/): hintd, hint-agent and pagehint-dkms, in $(BUILD)/deb/.
deb:
	@scripts/mkdeb $(BUILD)/deb

clean:
	rm -rf $(BUILD)
	$(if $(wildcard kernel/Kbuild),-$(MAKE) -C /lib/modules/$(GUEST_KVER)/build M=$(CURDIR)/kernel clean 2>/dev/null)
