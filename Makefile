# Paddock -- build, install, test.
#   make / make build      release build of the whole workspace
#   make install           install agents (DESTDIR / PREFIX aware)
#   make uninstall
#   make setup             install test dependencies (tests/setup.sh, root, Debian 12)
#   make test              setup + build + install + cargo test + system tests
#   make demo              setup + build + install + tests/demo.sh (KEEP=1 leaves the cluster up)
#   make bench             run every bench/*.sh and tests/bench/*.sh
#
# Pacemaker looks for fence agents in /usr/sbin and for OCF agents under
# /usr/lib/ocf/resource.d, so the defaults are what a running cluster needs.

SHELL      := /bin/bash
PREFIX     ?= /usr
SBINDIR    ?= $(PREFIX)/sbin
OCFDIR     ?= $(PREFIX)/lib/ocf/resource.d/paddock
# Helpers the agents run, not agents themselves (the vm front end execs vm-libvirt from here).
LIBEXECDIR ?= $(PREFIX)/libexec/paddock
export PADDOCK_LIBEXECDIR := $(LIBEXECDIR)
MAN8DIR    ?= $(PREFIX)/share/man/man8
CARGO      ?= cargo
export PATH := $(HOME)/.cargo/bin:$(PATH)

RELEASE      := target/release
FENCE_AGENTS := fence_paddock_ipmi fence_paddock_redfish
OCF_AGENTS   := vm procwatch
HELPERS      := vm-libvirt

.PHONY: all build install uninstall setup test demo bench

all: build

build:
	$(CARGO) build --release --workspace

install: build
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(OCFDIR) $(DESTDIR)$(MAN8DIR) $(DESTDIR)$(LIBEXECDIR)
	@for a in $(FENCE_AGENTS); do \
	    echo "install $(RELEASE)/$$a -> $(DESTDIR)$(SBINDIR)/$$a"; \
	    install -m 0755 $(RELEASE)/$$a $(DESTDIR)$(SBINDIR)/$$a || exit 1; \
	    if $(RELEASE)/$$a -o manpage >$(RELEASE)/$$a.8 2>/dev/null && head -c 2 $(RELEASE)/$$a.8 | grep -q '^\.'; then \
	        echo "install man page -> $(DESTDIR)$(MAN8DIR)/$$a.8"; \
	        install -m 0644 $(RELEASE)/$$a.8 $(DESTDIR)$(MAN8DIR)/$$a.8 || exit 1; \
	    fi; \
	done
	@for a in $(OCF_AGENTS); do \
	    echo "install $(RELEASE)/$$a -> $(DESTDIR)$(OCFDIR)/$$a"; \
	    install -m 0755 $(RELEASE)/$$a $(DESTDIR)$(OCFDIR)/$$a || exit 1; \
	done
	@for h in $(HELPERS); do \
	    echo "install $(RELEASE)/$$h -> $(DESTDIR)$(LIBEXECDIR)/$$h"; \
	    install -m 0755 $(RELEASE)/$$h $(DESTDIR)$(LIBEXECDIR)/$$h || exit 1; \
	done

uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(FENCE_AGENTS))
	rm -f $(addsuffix .8,$(addprefix $(DESTDIR)$(MAN8DIR)/,$(FENCE_AGENTS)))
	rm -f $(addprefix $(DESTDIR)$(OCFDIR)/,$(OCF_AGENTS))
	rm -f $(addprefix $(DESTDIR)$(LIBEXECDIR)/,$(HELPERS))
	-rmdir $(DESTDIR)$(OCFDIR) $(DESTDIR)$(LIBEXECDIR) 2>/dev/null

setup:
	tests/setup.sh

# Every test stage runs even if an earlier one failed; tests/run-all.sh prints
# a summary and, as its last line, "N passed, N failed".
test:
	tests/run-all.sh

demo: setup install
	tests/demo.sh

bench:
	@rc=0; for b in bench/*.sh tests/bench/*.sh; do \
	    [ -e "$$b" ] || continue; echo "== $$b"; "$$b" || rc=1; \
	done; exit $$rc
