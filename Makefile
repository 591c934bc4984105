# piswarm: everything a fresh Debian 12 machine (as root) needs, from a clean clone.
#   make demo   installs what it needs, builds, runs the demo
#   make test   installs what it needs, builds, runs every test

SWIFT ?= swift
SHELL := /bin/bash
BIN := .build/debug/piswarm

# Debian packages piswarm, its lab and its tests use.
DEBS := openssh-client openssh-server dnsmasq-base docker.io busybox-static iptables iproute2 tini \
        libsqlite3-dev util-linux procps psmisc e2fsprogs kmod pssh hyperfine \
        mtools dosfstools fdisk btrfs-progs xfsprogs rsync xz-utils gzip zstd coreutils bc \
        nfs-ganesha nfs-ganesha-vfs rpcbind libnfs-utils qemu-system-arm cpio binutils shellcheck \
        chromium curl python3

.PHONY: all deps build test unit-test lint demo bench clean format

all: build

deps:
	@scripts/install-deps.sh $(DEBS)

build: deps
	$(SWIFT) build --build-tests

# Swift by swift-format; shell by shellcheck: the scripts that run on nodes (POSIX sh, embedded
# at build time), the rendered ones (their golden files), and the project's own.
lint:
	$(SWIFT) format lint --strict -r Sources Tests Package.swift Plugins
	shellcheck -s sh Sources/PiSwarmCore/Scripts/*.sh Tests/*/Golden/*.sh
	shellcheck scripts/*.sh bench/*.sh .ci/run

format:
	$(SWIFT) format -i -r Sources Tests Package.swift Plugins

test: build lint
	$(SWIFT) test --skip-build

unit-test:
	$(SWIFT) build --build-tests && $(SWIFT) test --skip-build --skip Integration

demo: build
	@scripts/demo.sh $(BIN)

bench: build
	@bench/run.sh

clean:
	rm -rf .build
