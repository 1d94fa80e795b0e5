#!/bin/sh
# Installs p2p-bootstrap from a release folder, in the manner of k3s' install.sh: the executable for
# this machine's architecture, the systemd unit, the start gate of k3s' units and a config template,
# then enables and starts the unit unless told not to. The start gate (a drop-in for k3s.service and
# k3s-agent.service whose ExecCondition= needs the agent's consent under /run) is in place from the
# first boot on, so a k3s unit enabled in the image (its install script run without
# INSTALL_K3S_SKIP_ENABLE=true) waits for the agent instead of starting a cluster of its own; the
# agent writes the same files again before its first start of k3s. Run it from the folder `npm run build:release` wrote (it holds
# p2p-bootstrap-linux-x64, p2p-bootstrap-linux-arm64, SHA256SUMS, p2p-bootstrap.service and
# config.yaml.example), as root:
#
#   sudo ./install.sh
#   sudo INSTALL_P2PB_SKIP_ENABLE=true INSTALL_P2PB_SKIP_START=true ./install.sh   # an image build
#
# Environment (each optional):
#   INSTALL_P2PB_SKIP_ENABLE=true   do not enable the unit (an image enables it, or a later step)
#   INSTALL_P2PB_SKIP_START=true    do not start the unit now (always true when ENABLE is skipped
#                                   and the config still holds the token placeholder)
#   INSTALL_P2PB_BIN_DIR            where the executable goes (default /usr/local/bin)
#   INSTALL_P2PB_SYSTEMD_DIR        where the unit goes (default /etc/systemd/system)
#   INSTALL_P2PB_CONFIG_DIR         where config.yaml goes (default /etc/p2p-bootstrap); an existing
#                                   config.yaml is never replaced (it holds the token)
#   INSTALL_P2PB_ARCH               x64 or arm64 (default: from uname -m)
set -eu

SOURCE_DIR=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
BIN_DIR=${INSTALL_P2PB_BIN_DIR:-/usr/local/bin}
SYSTEMD_DIR=${INSTALL_P2PB_SYSTEMD_DIR:-/etc/systemd/system}
CONFIG_DIR=${INSTALL_P2PB_CONFIG_DIR:-/etc/p2p-bootstrap}
SKIP_ENABLE=${INSTALL_P2PB_SKIP_ENABLE:-false}
SKIP_START=${INSTALL_P2PB_SKIP_START:-false}
TOKEN_PLACEHOLDER=REPLACE-WITH-YOUR-TOKEN

info () { echo "[INFO]  $*"; }
fatal () { echo "[ERROR] $*" >&2; exit 1; }

is_true () {
  case "$1" in
    true) return 0 ;;
    false | '') return 1 ;;
    *) fatal "expected true or false, got '$1'" ;;
  esac
}

arch () {
  if [ -n "${INSTALL_P2PB_ARCH:-}" ]; then
    echo "$INSTALL_P2PB_ARCH"
    return
  fi
  case "$(uname -m)" in
    x86_64 | amd64) echo x64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) fatal "no release for this machine's architecture $(uname -m): p2p-bootstrap is built for x86_64 and aarch64" ;;
  esac
}

verify () {
  name=$1
  [ -f "$SOURCE_DIR/SHA256SUMS" ] || fatal "$SOURCE_DIR/SHA256SUMS is missing: copy the whole release folder"
  expected=$(awk -v name="$name" '$2 == name { print $1 }' "$SOURCE_DIR/SHA256SUMS")
  [ -n "$expected" ] || fatal "SHA256SUMS lists no $name"
  actual=$(sha256sum "$SOURCE_DIR/$name" | awk '{ print $1 }')
  [ "$expected" = "$actual" ] || fatal "$name does not match its SHA-256 sum in SHA256SUMS: the download is damaged or was changed; fetch the release again"
}

install_binary () {
  name=p2p-bootstrap-linux-$(arch)
  [ -f "$SOURCE_DIR/$name" ] || fatal "$SOURCE_DIR/$name is missing: copy the whole release folder"
  verify "$name"
  mkdir -p "$BIN_DIR"
  # Beside the target, then renamed: a running agent keeps its old file until it restarts.
  cp "$SOURCE_DIR/$name" "$BIN_DIR/.p2p-bootstrap.new"
  chmod 0755 "$BIN_DIR/.p2p-bootstrap.new"
  mv -f "$BIN_DIR/.p2p-bootstrap.new" "$BIN_DIR/p2p-bootstrap"
  info "installed $BIN_DIR/p2p-bootstrap ($("$BIN_DIR/p2p-bootstrap" --version))"
}

install_unit () {
  mkdir -p "$SYSTEMD_DIR"
  sed -e "s|/usr/local/bin/p2p-bootstrap|$BIN_DIR/p2p-bootstrap|g" \
      -e "s|/etc/p2p-bootstrap/config.yaml|$CONFIG_DIR/config.yaml|g" \
      "$SOURCE_DIR/p2p-bootstrap.service" > "$SYSTEMD_DIR/p2p-bootstrap.service"
  chmod 0644 "$SYSTEMD_DIR/p2p-bootstrap.service"
  info "installed $SYSTEMD_DIR/p2p-bootstrap.service"
}

# The same bytes as gateDropIn() in packages/bootstrapper/src/apply/start-gate.ts (a test compares them).
install_gate () {
  for unit in k3s k3s-agent; do
    mkdir -p "$SYSTEMD_DIR/$unit.service.d"
    cat > "$SYSTEMD_DIR/$unit.service.d/50-p2p-bootstrap-gate.conf" <<GATE
# Written by p2p-bootstrap: this unit starts only when the p2p-bootstrap agent consents, once
# per boot (/run is emptied at boot), after it confirmed this node's role in the latest plan.
# An enable by hand or by k3s' install script does not start it at boot. Remove this file only
# together with p2p-bootstrap.
[Service]
ExecCondition=/bin/sh -c 'test -e /run/p2p-bootstrap/k3s-consent/$unit'
GATE
    chmod 0644 "$SYSTEMD_DIR/$unit.service.d/50-p2p-bootstrap-gate.conf"
  done
  info "installed the start gate of k3s.service and k3s-agent.service ($SYSTEMD_DIR/<unit>.service.d/50-p2p-bootstrap-gate.conf)"
}

install_config () {
  mkdir -p "$CONFIG_DIR"
  chmod 0700 "$CONFIG_DIR"
  if [ -e "$CONFIG_DIR/config.yaml" ]; then
    info "kept $CONFIG_DIR/config.yaml (it exists)"
  else
    (umask 077 && cp "$SOURCE_DIR/config.yaml.example" "$CONFIG_DIR/config.yaml")
    info "wrote $CONFIG_DIR/config.yaml from the template: paste your token in place of $TOKEN_PLACEHOLDER"
  fi
}

needs_token () {
  grep -q "$TOKEN_PLACEHOLDER" "$CONFIG_DIR/config.yaml"
}

systemd_steps () {
  if is_true "$SKIP_ENABLE" && is_true "$SKIP_START"; then
    info "not enabling or starting p2p-bootstrap (INSTALL_P2PB_SKIP_ENABLE, INSTALL_P2PB_SKIP_START)"
    return
  fi
  command -v systemctl > /dev/null 2>&1 || fatal "systemctl not found: set INSTALL_P2PB_SKIP_ENABLE=true and INSTALL_P2PB_SKIP_START=true, and start the agent your own way"
  systemctl daemon-reload
  if is_true "$SKIP_ENABLE"; then
    info "not enabling p2p-bootstrap (INSTALL_P2PB_SKIP_ENABLE)"
  else
    systemctl enable p2p-bootstrap.service
    info "enabled p2p-bootstrap"
  fi
  if is_true "$SKIP_START"; then
    info "not starting p2p-bootstrap (INSTALL_P2PB_SKIP_START)"
  elif needs_token; then
    info "not starting p2p-bootstrap: $CONFIG_DIR/config.yaml has no token yet; paste it, check with '$BIN_DIR/p2p-bootstrap config check', then 'systemctl start p2p-bootstrap'"
  else
    "$BIN_DIR/p2p-bootstrap" config check "$CONFIG_DIR/config.yaml" > /dev/null || fatal "$CONFIG_DIR/config.yaml is not valid (see above): fix it, then 'systemctl start p2p-bootstrap'"
    systemctl restart p2p-bootstrap.service
    info "started p2p-bootstrap: 'p2p-bootstrap status' and 'journalctl -u p2p-bootstrap -f' show its progress"
  fi
}

is_true "$SKIP_ENABLE" || true
is_true "$SKIP_START" || true
install_binary
install_unit
install_gate
install_config
systemd_steps
