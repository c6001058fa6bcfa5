#!/usr/bin/env bats
# The Debian packages `make deb` builds (make check-bats builds them first):
# what each holds, and that systemd accepts both units as shipped.
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

setup_file() {
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export DEBS=${BUILD:-$TOP/build}/deb
}

setup() {
	ls "$DEBS"/hintd_*.deb "$DEBS"/hint-agent_*.deb "$DEBS"/pagehint-dkms_*.deb > /dev/null 2>&1 ||
		skip "skipped: no packages in $DEBS (run make deb)"
}

# The files a package holds, one path a line without the leading ".".
contents() { dpkg-deb -c "$DEBS/$1"_*.deb | awk '{ print substr($6, 2) }'; }

@test "hintd holds the daemon, hintctl, the unit, the bus policy, the interface and the man pages" {
	run contents hintd
	for f in /usr/sbin/hintd /usr/bin/hintctl /lib/systemd/system/hintd.service \
		/usr/share/dbus-1/system.d/org.hintd1.conf /usr/share/dbus-1/interfaces/org.hintd1.xml \
		/usr/share/polkit-1/actions/org.hintd1.policy \
		/etc/hintd/hintd.conf /usr/share/man/man8/hintd.8.gz /usr/share/man/man5/hintd.conf.5.gz \
		/usr/share/man/man1/hintctl.1.gz /usr/share/hintd/grafana-hintd.json; do
		assert_line "$f"
	done
	refute_line --partial hint-agent
}

@test "hintd.conf is a conffile and the unit runs /usr/sbin/hintd" {
	run dpkg-deb --info "$DEBS"/hintd_*.deb conffiles
	assert_success
	assert_output "/etc/hintd/hintd.conf"
	run sh -c "dpkg-deb --fsys-tarfile $DEBS/hintd_*.deb | tar -xO ./lib/systemd/system/hintd.service"
	assert_line "ExecStart=/usr/sbin/hintd"
}

@test "hint-agent holds the agent, its unit, the udev rule that starts it and its man page" {
	run contents hint-agent
	for f in /usr/sbin/hint-agent /lib/systemd/system/hint-agent.service \
		/lib/udev/rules.d/60-hint-agent.rules /usr/share/man/man8/hint-agent.8.gz; do
		assert_line "$f"
	done
	run dpkg-deb --field "$DEBS"/hint-agent_*.deb Depends Recommends
	assert_output --partial "libjansson4"
	assert_output --partial "Recommends: pagehint-dkms"
}

@test "pagehint-dkms holds the module source and a dkms.conf of its version" {
	run contents pagehint-dkms
	for f in pagehint.c pagehint_uapi.h Kbuild dkms.conf; do
		assert_line --regexp "^/usr/src/pagehint-[0-9.]+/$f\$"
	done
	run sh -c "dpkg-deb --fsys-tarfile $DEBS/pagehint-dkms_*.deb | tar -xO --wildcards './usr/src/pagehint-*/dkms.conf'"
	assert_line 'PACKAGE_NAME="pagehint"'
	assert_line --regexp '^PACKAGE_VERSION="[0-9.]+"$'
	refute_output --partial '#MODULE_VERSION#'
	run dpkg-deb --field "$DEBS"/pagehint-dkms_*.deb Depends
	assert_output --partial dkms
}

@test "systemd-analyze verify accepts both units as installed" {
	# A root holding the packages and the system's own units (the targets
	# they hang off), so every path is checked where the packages put it.
	root=$BATS_TEST_TMPDIR/root
	mkdir -p "$root/bin"
	for d in "$DEBS"/hintd_*.deb "$DEBS"/hint-agent_*.deb; do
		dpkg-deb -x "$d" "$root"
	done
	cp -an /lib/systemd/system/. "$root/lib/systemd/system/"
	cp /bin/kill "$root/bin/"
	run systemd-analyze verify --man=no --root="$root" \
		"$root/lib/systemd/system/hintd.service" "$root/lib/systemd/system/hint-agent.service"
	assert_success
	assert_output ""
}

@test "the agent's unit starts with its port, loads pagehint first and restarts on failure" {
	run sh -c "dpkg-deb --fsys-tarfile $DEBS/hint-agent_*.deb | tar -xO ./lib/systemd/system/hint-agent.service ./lib/udev/rules.d/60-hint-agent.rules"
	assert_line 'BindsTo=dev-virtio\x2dports-org.hintd.agent.0.device'
	assert_line 'ExecStartPre=-+/sbin/modprobe -q pagehint'
	assert_line 'Restart=on-failure'
	assert_line --partial 'ENV{SYSTEMD_WANTS}+="hint-agent.service"'
}
