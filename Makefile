# piswarm: everything a fresh Debian 12 machine (as root) needs, from a clean clone.
#   make demo   installs what it needs, builds, runs the demo
#   make test   installs what it needs, builds, runs every test
#   make e2e    boots a real OS (Debian 12 arm64, Pi OS's shape) diskless from piswarm's roots:
#               builds its image once (scripts/realos-image.sh, cached), then minutes under TCG
#   make deb    builds piswarm_VERSION_ARCH.deb in .build/deb (release, static Swift runtime)
#   make deb-test  installs that package in a fresh Debian 12 root (mmdebstrap) and checks it

SWIFT ?= swift
SHELL := /bin/bash
BIN := .build/debug/piswarm

# Debian packages piswarm, its lab and its tests use.
DEBS := openssh-client openssh-server dnsmasq-base docker.io busybox-static iptables nftables iproute2 tini \
        libsqlite3-dev util-linux procps psmisc e2fsprogs kmod pssh hyperfine \
        mtools dosfstools fdisk tftpd-hpa btrfs-progs xfsprogs rsync xz-utils gzip zstd coreutils bc \
        nfs-ganesha nfs-ganesha-vfs rpcbind libnfs-utils qemu-system-arm cpio binutils shellcheck \
        docker-registry openssl curl snmp snmpd python3 mmdebstrap qemu-user-static chromium bmap-tools

.PHONY: all deps build test unit-test e2e lint demo bench clean format deb deb-test

all: build

deps:
	@scripts/install-deps.sh $(DEBS)

build: deps
	$(SWIFT) build --build-tests

# Swift by swift-format; shell by shellcheck: the scripts that run on nodes (POSIX sh, embedded
# at build time), the rendered ones (their golden files), and the project's own.
lint:
	$(SWIFT) format lint --strict -r Sources Tests Package.swift Plugins
	shellcheck -s sh Sources/PiSwarmCore/Scripts/*.sh Tests/*/Golden/*.sh Tests/*/Fixtures/*.sh
	shellcheck scripts/*.sh bench/*.sh .ci/run

format:
	$(SWIFT) format -i -r Sources Tests Package.swift Plugins

test: build lint
	$(SWIFT) test --skip-build
	$(MAKE) deb-test

# The .deb: release binary, man pages, completions, docs, systemd unit (scripts/make-deb.sh).
deb: deps
	SWIFT=$(SWIFT) scripts/make-deb.sh .build/deb

# Installs the .deb in a fresh Debian 12 root and checks it there (scripts/deb-test.sh).
deb-test: deb
	scripts/deb-test.sh .build/deb/piswarm_$$(cat VERSION)_$$(dpkg --print-architecture).deb

# The QEMU suites one after another: run at once (Swift Testing runs suites in parallel) they
# put up to 8 TCG VMs on the machine's cores, and a starved VM misses the swarm's heartbeats.
E2E_SUITES = RealOSBootTests CardBootTests CardCaptureTests NetbootCardCaptureTests JourneyTests UpgradeEndToEndTests
e2e: build
	@failed=""; for suite in $(E2E_SUITES); do \
	  echo "== $$suite"; \
	  PISWARM_E2E=1 $(SWIFT) test --skip-build --filter "\\.$$suite/" || failed="$$failed $$suite"; \
	done; \
	if [ -n "$$failed" ]; then echo "make e2e: failed:$$failed"; exit 1; fi

unit-test:
	$(SWIFT) build --build-tests && $(SWIFT) test --skip-build --skip Integration

demo: build
	@scripts/demo.sh $(BIN)

bench: build
	@bench/run.sh

clean:
	rm -rf .build
