# install.mk - make install / make uninstall (GNU conventions: PREFIX, DESTDIR).
#   sbin/memtrace, man8/memtrace.8, bash completion, README and docs/*.md in
#   share/doc/memtrace, the Grafana dashboard and Prometheus alert rules in
#   share/memtrace (the fleet's in share/memtrace/fleet), and the agent's
#   systemd unit when tools/ has one, its ExecStart pointed at SBINDIR.
# Builds the binary and the man page first if needed (no package check).
PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
DOCDIR      ?= $(DATADIR)/doc/memtrace
PKGDATADIR  ?= $(DATADIR)/memtrace
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
UNITDIR     ?= $(PREFIX)/lib/systemd/system
INSTALL     ?= install

INSTALL_DOCS := README.md $(wildcard docs/*.md)
INSTALL_DATA := $(wildcard tools/grafana-*.json tools/prometheus-*.yml)
INSTALL_FLEET := $(wildcard tools/fleet/*.json tools/fleet/*.yml tools/fleet/*.yaml)
AGENT_UNIT   := $(wildcard tools/memtrace-agent.service)

.PHONY: install uninstall

install: $(OUT)/memtrace $(MAN_PAGE)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(PKGDATADIR) $(DESTDIR)$(BASHCOMPDIR)
	$(Q)$(INSTALL) -m 755 $(OUT)/memtrace $(DESTDIR)$(SBINDIR)/memtrace
	$(Q)$(INSTALL) -m 644 $(MAN_PAGE) $(DESTDIR)$(MANDIR)/man8/memtrace.8
	$(Q)$(INSTALL) -m 644 tools/memtrace-completion.bash $(DESTDIR)$(BASHCOMPDIR)/memtrace
	$(Q)$(INSTALL) -m 644 $(INSTALL_DOCS) $(DESTDIR)$(DOCDIR)
	$(Q)$(INSTALL) -m 644 $(INSTALL_DATA) $(DESTDIR)$(PKGDATADIR)
ifneq ($(INSTALL_FLEET),)
	$(Q)$(INSTALL) -d $(DESTDIR)$(PKGDATADIR)/fleet
	$(Q)$(INSTALL) -m 644 $(INSTALL_FLEET) $(DESTDIR)$(PKGDATADIR)/fleet
endif
ifneq ($(AGENT_UNIT),)
	$(Q)$(INSTALL) -d $(DESTDIR)$(UNITDIR)
	$(Q)sed 's|^ExecStart=[^ ]*/memtrace |ExecStart=$(SBINDIR)/memtrace |' $(AGENT_UNIT) \
		> $(DESTDIR)$(UNITDIR)/memtrace-agent.service
	$(Q)chmod 644 $(DESTDIR)$(UNITDIR)/memtrace-agent.service
endif

uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/memtrace $(DESTDIR)$(MANDIR)/man8/memtrace.8 \
		$(DESTDIR)$(BASHCOMPDIR)/memtrace $(DESTDIR)$(UNITDIR)/memtrace-agent.service \
		$(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(INSTALL_DOCS))) \
		$(addprefix $(DESTDIR)$(PKGDATADIR)/,$(notdir $(INSTALL_DATA))) \
		$(addprefix $(DESTDIR)$(PKGDATADIR)/fleet/,$(notdir $(INSTALL_FLEET)))
	$(Q)rmdir $(DESTDIR)$(DOCDIR) $(DESTDIR)$(PKGDATADIR)/fleet 2>/dev/null || true
	$(Q)rmdir $(DESTDIR)$(PKGDATADIR) 2>/dev/null || true
