# SPDX-License-Identifier: GPL-2.0-or-later
# portwarden — plain GNU make, pkg-config for the libraries.

# The version lives in VERSION only: --version, debian/changelog (checked
# by debian/rules) and the Ansible collection's galaxy.yml read it.
VERSION    := $(shell cat VERSION)

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share/portwarden
EXAMPLEDIR ?= $(DATADIR)/policies
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR    ?=

BUILD   ?= build
CC      ?= cc
PKGS    := yaml-0.1 libnftnl libmnl
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))

CFLAGS  ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	   -D_GNU_SOURCE -Iinclude $(PKG_CFLAGS) -MMD -MP
LDLIBS  += $(PKG_LIBS) -lresolv
SAN     ?=
ifneq ($(SAN),)
override CFLAGS += -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
override LDFLAGS += -fsanitize=$(SAN)
endif

ifeq ($(V),1)
Q :=
quiet = @:
else
Q := @
quiet = @printf '  %-6s %s\n'
endif

LIB_SRC  := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

all: $(BUILD)/portwarden

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(quiet) CC $<
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/main.o: override CPPFLAGS += -DPORTWARDEN_VERSION='"$(VERSION)"'
$(BUILD)/obj/main.o: VERSION

$(BUILD)/libportwarden.a: $(LIB_OBJ)
	$(quiet) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/portwarden: $(BUILD)/obj/main.o $(BUILD)/libportwarden.a
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libportwarden.a
	@mkdir -p $(@D)
	$(quiet) CC $<
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libportwarden.a $(LDLIBS) -lcmocka

unit: $(UNIT_BIN)

# libFuzzer harnesses (clang only), one per untrusted input: the policy
# front end (fuzz_policy), the rollback record reader (fuzz_state), the
# daemon's nftables events and last-change note (fuzz_nft_events), its
# DNS answers (fuzz_dns: nfqueue.c, dns_msg.c), its learned-address
# file (fuzz_learned) and the hostname code's resolv.conf and names
# (fuzz_hostnames); NFLOG records for monitor (fuzz_nflog); learn's
# monitor events (fuzz_mon_event). The library is compiled once for all
# of them (-fsanitize=fuzzer-no-link), each harness links against those
# objects.
FUZZ_CC ?= clang
FUZZ_CFLAGS = -g -O1 -std=gnu11 -D_GNU_SOURCE -Iinclude $(PKG_CFLAGS) \
	      -fsanitize=address,undefined -MMD -MP
FUZZ_OBJ := $(LIB_SRC:src/%.c=$(BUILD)/fuzzobj/%.o)
FUZZ_BIN := $(patsubst fuzz/%.c,$(BUILD)/%,$(wildcard fuzz/fuzz_*.c))

$(BUILD)/fuzzobj/%.o: src/%.c
	@mkdir -p $(@D)
	$(quiet) FUZZCC $<
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(BUILD)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_OBJ)
	@mkdir -p $(@D)
	$(quiet) FUZZ $@
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LDLIBS)

fuzz: $(FUZZ_BIN)

# Debian packages for building, testing and the demo (root installs them).
deps:
	$(Q)contrib/install-deps.sh

# The whole suite: unit, golden, integration (root, namespaces), fuzz smoke.
# Installs its own dependencies first, so it works on a fresh machine.
check: deps
	$(Q)$(MAKE) --no-print-directory all unit
	$(Q)BUILD=$(BUILD) tests/run.sh

# The same suite under ASan+UBSan in its own build directory. The random
# differential suites run fewer seeds here: they already ran in full in
# `make check`, and the sanitizers look for memory errors, which every
# seed's code paths show early; the fuzz suite is left out, its harnesses
# are ASan+UBSan builds already and ran in `make check` (keeps CI within
# its time budget).
ASAN_SIZES = DIFF_SEEDS="$$(seq 1 15)" CONN_SEEDS="$$(seq 1 10)" STAGE_SEEDS="$$(seq 1 5)" APPLY_RANDOM_N=10 PW_FAULT_KILLS=30 PW_EXCLUDE=fuzz \
	COMPARE_PAIRS=10 COMPARE_PACKETS=15 TESTS_SEEDS="$$(seq 1 3)" SMALL_STEPS=12 BIG_STEPS=2 FOLD_STEPS=10
check-asan:
	$(Q)$(ASAN_SIZES) $(MAKE) --no-print-directory BUILD=build-asan SAN=address,undefined CFLAGS="-O1 -g" check

# Regenerate golden files after an intended change (review the diff!).
golden-update: all
	$(Q)BUILD=$(BUILD) tests/golden.sh --update

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)contrib/demo.sh $(BUILD)/portwarden

bench: all
	$(Q)bench/run.sh $(BUILD)/portwarden

# The units and man pages name /usr/local paths (the default PREFIX);
# installing rewrites them to where the files really go.
INSTALL_SUBST = sed -e 's|/usr/local/sbin/portwarden|$(BINDIR)/portwarden|g' \
		    -e 's|/usr/local/share/portwarden/policies|$(EXAMPLEDIR)|g' \
		    -e 's|/usr/local/share/portwarden|$(DATADIR)|g' \
		    -e '/^\.TH /s|"portwarden [^"]*"|"portwarden $(VERSION)"|'
install: all
	install -D -m 0755 $(BUILD)/portwarden $(DESTDIR)$(BINDIR)/portwarden
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(EXAMPLEDIR)
	$(INSTALL_SUBST) doc/portwarden.8 > $(DESTDIR)$(MANDIR)/man8/portwarden.8
	$(INSTALL_SUBST) doc/portwarden.yaml.5 > $(DESTDIR)$(MANDIR)/man5/portwarden.yaml.5
	chmod 0644 $(DESTDIR)$(MANDIR)/man8/portwarden.8 $(DESTDIR)$(MANDIR)/man5/portwarden.yaml.5
	install -D -m 0644 contrib/schema/portwarden.schema.json \
		$(DESTDIR)$(DATADIR)/portwarden.schema.json
	install -D -m 0644 contrib/bash-completion/portwarden \
		$(DESTDIR)$(BASHCOMPDIR)/portwarden
	for u in contrib/systemd/*.service contrib/systemd/*.timer; do \
		$(INSTALL_SUBST) $$u > $(DESTDIR)$(SYSTEMDDIR)/$${u##*/} && \
		chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/$${u##*/} || exit 1; \
	done
	$(if $(wildcard policies/*.yaml),install -m 0644 $(wildcard policies/*.yaml) $(DESTDIR)$(EXAMPLEDIR)/)

clean:
	rm -rf build build-*

.PHONY: deps all unit fuzz check check-asan golden-update demo bench install clean
.SECONDARY:

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/tests/*.d $(BUILD)/fuzzobj/*.d $(BUILD)/fuzz_*.d)
