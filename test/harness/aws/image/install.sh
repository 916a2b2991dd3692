#!/bin/sh
# Runs once inside the bootstrapped Debian root while the "AMI" image is made.
set -eu
from=/ciab-image-files
install -m 0644 "$from/99-ciab-harness.cfg" /etc/cloud/cloud.cfg.d/99-ciab-harness.cfg
install -m 0755 "$from/systemctl" /usr/local/bin/systemctl
install -m 0755 "$from/journalctl" /usr/local/bin/journalctl
install -m 0755 "$from/ciab-init" /usr/local/sbin/ciab-init
# pam_loginuid needs CAP_AUDIT_CONTROL, which a container lacks; as "required" it would end every SSH session.
sed -i 's/^session\s\+required\s\+pam_loginuid.so/session optional pam_loginuid.so/' /etc/pam.d/sshd
# Host keys from the bootstrap are removed so that each instance makes its own, as a real AMI leaves them out.
rm -f /etc/ssh/ssh_host_*
mkdir -p /etc/systemd/system/multi-user.target.wants /var/log/ciab-units
# Makes `cloud-init` run from a clean slate at an instance's first boot.
rm -rf /var/lib/cloud/* /var/log/cloud-init*.log
