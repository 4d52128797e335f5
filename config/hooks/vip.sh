#!/bin/sh
# pg-sentinel hook: a virtual IP address that follows the primary (docs/operations.md, "Hooks").
#
# In /etc/pg-sentinel/config.yml of every node:
#   hooks:
#     onRoleChange: sh /usr/share/doc/pg-sentinel/examples/hooks/vip.sh 10.0.0.100/24 eth0
#
# The sentinel appends the action, the role and the cluster (as Patroni does for its callbacks)
# and sets PGSENTINEL_ROLE, PGSENTINEL_NODE...: the address is added on the node that becomes the
# primary and removed from every node that is anything else (replica, demoted, stopped).
# Adding and removing an address needs CAP_NET_ADMIN (and announcing it CAP_NET_RAW): see the
# systemd unit's AmbientCapabilities line in docs/operations.md.
#
# A virtual IP is a convenience for clients, never a fence: a primary cut off from its peers
# keeps the address until its sentinel fences it (a self-fence runs this hook with "stopped").
set -eu
vip=$1
dev=$2
role=${PGSENTINEL_ROLE:-${4:-}}
address=${vip%/*}

case "$role" in
  primary)
    ip addr replace "$vip" dev "$dev"
    # gratuitous ARP, so the neighbours stop sending to the old owner's MAC address (iputils-arping)
    if command -v arping >/dev/null 2>&1; then
      (arping -q -U -c 3 -I "$dev" "$address" >/dev/null 2>&1 &)
    fi
    echo "$address added on $dev"
    ;;
  *)
    if ip addr del "$vip" dev "$dev" 2>/dev/null; then
      echo "$address removed from $dev ($role)"
    fi
    ;;
esac
