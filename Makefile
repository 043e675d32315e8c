# Paddock -- build, install, test.
#   make / make build      release build of the whole workspace
#   make install           install agents, tools and man pages (DESTDIR / PREFIX aware; developers)
#   make uninstall
#   make deb               Debian packages in target/debian (debhelper; what operators install)
#   make install-deb       make deb, then apt-get install them (root)
#   make setup             install test dependencies (tests/setup.sh, root, Debian 12)
#   make test              setup + packages built and installed + cargo test + system tests
#   make demo              setup + packages built and installed + tests/demo.sh (KEEP=1 leaves it up)
#   make bench             run every tests/bench/*.sh
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
MAN7DIR    ?= $(PREFIX)/share/man/man7
MAN8DIR    ?= $(PREFIX)/share/man/man8
CARGO      ?= cargo
export PATH := $(HOME)/.cargo/bin:$(PATH)
# The workspace version: what every binary's --version and the packages say.
VERSION    := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)

RELEASE      := target/release
# One folder per agent under agents/: fence_* are fence agents (installed in SBINDIR), the
# others OCF agents named by their folder; an OCF agent's src/bin/*.rs are helpers it runs.
FENCE_AGENTS := $(notdir $(wildcard agents/fence_*))
OCF_AGENTS   := $(filter-out $(FENCE_AGENTS),$(notdir $(wildcard agents/*)))
OCF_PROVIDER := paddock
HELPERS      := $(basename $(notdir $(foreach a,$(OCF_AGENTS),$(wildcard agents/$(a)/src/bin/*.rs))))
# The operator's tool (cli/): /usr/sbin/paddock, a man page per subcommand, completions.
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DEB_DIR      := target/debian

.PHONY: all build install uninstall setup test demo bench deb install-deb

all: build

build:
	$(CARGO) build --release --workspace

install: build
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(OCFDIR) $(DESTDIR)$(LIBEXECDIR) \
	    $(DESTDIR)$(MAN7DIR) $(DESTDIR)$(MAN8DIR)
	@set -e; for a in $(FENCE_AGENTS); do \
	    echo "install $$a -> $(DESTDIR)$(SBINDIR)/$$a, $(DESTDIR)$(MAN8DIR)/$$a.8"; \
	    install -m 0755 $(RELEASE)/$$a $(DESTDIR)$(SBINDIR)/$$a; \
	    $(RELEASE)/$$a -o manpage >$(RELEASE)/$$a.8; \
	    install -m 0644 $(RELEASE)/$$a.8 $(DESTDIR)$(MAN8DIR)/$$a.8; \
	done
	@set -e; for a in $(OCF_AGENTS); do \
	    page=ocf_$(OCF_PROVIDER)_$$a.7; \
	    echo "install $$a -> $(DESTDIR)$(OCFDIR)/$$a, $(DESTDIR)$(MAN7DIR)/$$page"; \
	    install -m 0755 $(RELEASE)/$$a $(DESTDIR)$(OCFDIR)/$$a; \
	    $(RELEASE)/$$a manpage >$(RELEASE)/$$page; \
	    install -m 0644 $(RELEASE)/$$page $(DESTDIR)$(MAN7DIR)/$$page; \
	done
	@set -e; for h in $(HELPERS); do \
	    echo "install $$h -> $(DESTDIR)$(LIBEXECDIR)/$$h"; \
	    install -m 0755 $(RELEASE)/$$h $(DESTDIR)$(LIBEXECDIR)/$$h; \
	done
	@echo "install paddock -> $(DESTDIR)$(SBINDIR)/paddock, paddock-alert, man pages, bash completion"
	install -m 0755 $(RELEASE)/paddock $(DESTDIR)$(SBINDIR)/paddock
	install -m 0755 $(RELEASE)/paddock-alert $(DESTDIR)$(LIBEXECDIR)/paddock-alert
	rm -rf $(RELEASE)/paddock-man && $(RELEASE)/paddock manpages $(RELEASE)/paddock-man
	install -m 0644 $(RELEASE)/paddock-man/*.8 $(DESTDIR)$(MAN8DIR)/
	install -d $(DESTDIR)$(BASHCOMPDIR)
	$(RELEASE)/paddock completions bash >$(RELEASE)/paddock.bash
	install -m 0644 $(RELEASE)/paddock.bash $(DESTDIR)$(BASHCOMPDIR)/paddock

uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(FENCE_AGENTS) paddock)
	rm -f $(addsuffix .8,$(addprefix $(DESTDIR)$(MAN8DIR)/,$(FENCE_AGENTS) paddock \
	    paddock-capacity paddock-history paddock-report paddock-maintenance))
	rm -f $(DESTDIR)$(BASHCOMPDIR)/paddock $(DESTDIR)$(LIBEXECDIR)/paddock-alert
	rm -f $(addprefix $(DESTDIR)$(OCFDIR)/,$(OCF_AGENTS))
	rm -f $(addsuffix .7,$(addprefix $(DESTDIR)$(MAN7DIR)/ocf_$(OCF_PROVIDER)_,$(OCF_AGENTS)))
	rm -f $(addprefix $(DESTDIR)$(LIBEXECDIR)/,$(HELPERS))
	-rmdir $(DESTDIR)$(OCFDIR) $(DESTDIR)$(LIBEXECDIR) 2>/dev/null

# Binary packages only (no source package): debhelper runs the build and `make install` into
# debian/tmp, splits it by debian/*.install, and writes the .deb files to $(DEB_DIR).
deb:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)
	debian/rules binary DEB_DIR=$(CURDIR)/$(DEB_DIR)
	@ls -1 $(DEB_DIR)/*.deb

# The packages installed as an operator would (apt-get pulls their Depends); root.
install-deb: deb
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --reinstall --allow-downgrades \
	    $(addprefix ./,$(wildcard $(DEB_DIR)/*.deb)) </dev/null
	@# A rebuild of one version keeps the changelog's date as the pages' mtime: man-db would
	@# go on showing its formatted copies of the previous build's pages.
	rm -f /var/cache/man/cat7/ocf_paddock_*.7.gz /var/cache/man/cat8/fence_paddock_*.8.gz \
	    /var/cache/man/cat8/paddock*.8.gz

setup:
	tests/setup.sh

# Every test stage runs even if an earlier one failed; tests/run-all.sh prints
# a summary and, as its last line, "N passed, N failed".
test:
	tests/run-all.sh

demo: setup install-deb
	tests/demo.sh

bench:
	@rc=0; for b in tests/bench/*.sh; do \
	    [ -e "$$b" ] || continue; echo "== $$b"; "$$b" || rc=1; \
	done; exit $$rc
