/**
 * The core node contract as the simulator drives it, from `@p2p-bootstrap/core`
 * (`core/src/node/contract.ts`, `core/src/types.ts`, `core/src/profiles.ts`).
 */
export type {
  Role, NodeFacts, ClusterShape, PlanSecrets, Plan, TimingProfile, WireMessage, Envelope, PersistRecord,
  PersistBatch, Phase, CoreEvent, Ready, CoreNodeInit, MemberStatus, NodeStatus, NodeInspection, CoreNode
} from '@p2p-bootstrap/core'
export { simProfile } from '@p2p-bootstrap/core'

import type { CoreNode, CoreNodeInit } from '@p2p-bootstrap/core'

/** Makes one node; the simulator calls it at every start and restart. */
export type NodeFactory = (init: CoreNodeInit) => CoreNode
