# deb.mk - make deb: the Debian package (debian/) built from a clean copy of
# the tree by dpkg-buildpackage, checked by lintian (tools/build-deb.sh);
# leaves ./memtrace_VERSION_ARCH.deb: `apt install ./memtrace_*.deb`.
.PHONY: deb deps-deb
deps-deb:
	$(Q)tools/install-deps.sh build deb

deb: deps-deb
	$(Q)tools/build-deb.sh .
