import type { ClusterShape } from '../types.js'
import type { WireShape } from './messages.js'

/**
 * Shape agreement where it matters: prepare and accept carry the proposer's shape, and an
 * acceptor with another one refuses to promise or vote. Quorums of one epoch intersect only if
 * every voter counts them the same way (S1, S2), so a node configured otherwise (a typo in one
 * machine's `expect`) takes no part until the configs agree.
 */

/** The shape as it travels: absent fields left out, never `undefined` (canonical CBOR). */
export function wireShape (shape: ClusterShape): WireShape {
  return {
    ...(shape.expect !== undefined && { expect: shape.expect }),
    controlPlanes: shape.controlPlanes,
    ...(shape.vip !== undefined && { vip: shape.vip }),
    ...(shape.name !== undefined && { name: shape.name })
  }
}

/** "expect 5, 3 control planes, vip 10.0.0.100, name mill" (or "no expect" in best-effort mode). */
export function describeShape (shape: ClusterShape | WireShape): string {
  return [
    shape.expect === undefined ? 'no expect' : `expect ${shape.expect}`,
    `${shape.controlPlanes} control plane${shape.controlPlanes === 1 ? '' : 's'}`,
    shape.vip === undefined ? 'no vip' : `vip ${shape.vip}`,
    shape.name === undefined ? 'no name' : `name ${shape.name}`
  ].join(', ')
}

/** Null when both shapes agree on every field; else a sentence with both, in words. */
export function shapeDisagreement (ours: ClusterShape, proposers: WireShape): string | null {
  const same = ours.expect === proposers.expect && ours.controlPlanes === proposers.controlPlanes &&
    ours.vip === proposers.vip && ours.name === proposers.name
  if (same) return null
  return `the proposer's cluster shape is ${describeShape(proposers)}, this node's is ${describeShape(ours)}: ` +
    'it takes no part until both configs agree (check the token and each config)'
}
