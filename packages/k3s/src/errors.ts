import { P2pBootstrapError } from '@p2p-bootstrap/core'

/**
 * Codes of errors raised while rendering k3s and kube-vip output. Every one is raised before any
 * output exists, so a caller never holds half of a node's files.
 */
export type RenderErrorCode =
  | 'K3S_BAD_PLAN' // the plan is not one the renderer can act on (no such node, init not a control plane)
  | 'K3S_EVEN_CONTROL_PLANES' // an even control-plane count loses the etcd majority on a split
  | 'K3S_NODE_IP_UNKNOWN' // a node of the plan published no node-ip
  | 'K3S_BAD_ADDRESS' // an address or CIDR that does not parse
  | 'K3S_BAD_NODE_IP' // this node's node-ip is loopback, link-local, multicast or unspecified
  | 'K3S_NETWORK_UNKNOWN' // the node's interface or subnet was not given
  | 'K3S_VIP_OUTSIDE_SUBNET' // the VIP is not a host address of the interface's subnet
  | 'K3S_VIP_IS_NODE_IP' // the VIP is some node's node-ip
  | 'K3S_SECRET_MISSING' // a token the role needs was not given
  | 'K3S_SECRET_MISPLACED' // the server token was given to a worker
  | 'K3S_BAD_TOKEN' // a token that is not a cluster token
  | 'K3S_BAD_CA_HASH' // a CA hash that is not a hex SHA-256
  | 'K3S_JOIN_ADDRESS_MISSING' // a joining node has no Ready server (or answering VIP) to join
  | 'K3S_BAD_JOIN_ADDRESS' // the join address is this node itself, or the VIP for a server
  | 'K3S_BAD_SETTING' // a cluster-wide setting (CIDR, DNS, domain, backend, image, interface) is wrong
  | 'K3S_UNKNOWN_KEY' // a user key that is no flag of the pinned k3s version
  | 'K3S_RESERVED_KEY' // a user key that p2p-bootstrap sets itself
  | 'K3S_CRITICAL_OVERRIDE' // a node-local key that must be identical on every server
  | 'K3S_CONFLICTING_KEY' // two sources set one single-valued key to different values
  | 'K3S_BAD_VALUE' // a user value of the wrong type or out of range for its flag
  | 'K3S_BAD_ARG' // a Kairos `k3s.args` entry that cannot be mapped to a config key
  | 'K3S_NODE_NAME_COLLISION' // two nodes of the plan would register under one node name

/** Input that cannot be rendered into a working k3s node; the message names the node, the key and the fix. */
export class RenderError extends P2pBootstrapError<RenderErrorCode> {}
