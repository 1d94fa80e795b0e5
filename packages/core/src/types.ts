import type { NodeId } from './identity.js'

/**
 * Shared vocabulary of the core. Module-specific types live with their module; what two or more
 * modules (or the adapters) must agree on lives here.
 */

/** A role in a committed plan. */
export type Role = 'control-plane' | 'worker'

/** What a node says about itself, published in the ledger under `node/<id>/facts`. */
export interface NodeFacts {
  /** Free-form labels from config (`--label k=v`); `p2p-bootstrap.io/control-plane=true` prefers control plane. */
  readonly labels: Readonly<Record<string, string>>
  /** Total memory in MiB, if known: larger nodes are preferred for control plane. */
  readonly memoryMb?: number
  /** Logical CPUs, if known. */
  readonly cpus?: number
  /** A manual role request from config; honoured where it breaks no safety property. */
  readonly requestedRole?: Role
  /** The address k3s will use as `node-ip` (never the VIP). */
  readonly nodeIp?: string
  /** A host name to derive a unique `node-name` from. */
  readonly hostname?: string
  /**
   * Where the node's agent listens (libp2p multiaddrs ending in its peer id): a node that knows
   * one member reaches the rest through the addresses published here.
   */
  readonly addresses?: readonly string[]
}

/**
 * The cluster's shape, from the token and local config. Every node must hold the same shape: a
 * mismatch is detected (its hash travels with membership) and reported, never silently used.
 */
export interface ClusterShape {
  /** Nodes expected at first boot; with it, a majority of `expect` is the bootstrap quorum (S1). */
  readonly expect?: number
  /** Control-plane nodes wanted: odd (1, 3, 5, 7). */
  readonly controlPlanes: number
  /** The kube-vip virtual IP, if any. */
  readonly vip?: string
  /** A human name for the cluster. */
  readonly name?: string
}

/**
 * Secrets of a plan, never in clear: hashes (to check S3 without revealing anything: the secrets
 * are 256-bit random, so their SHA-256 discloses nothing) and sealed copies.
 */
export interface PlanSecrets {
  /** hex SHA-256 of the k3s server token; constant for the life of the cluster (S3). */
  readonly serverTokenHash: string
  /** hex SHA-256 of the k3s agent token; constant for the life of the cluster (S3). */
  readonly agentTokenHash: string
  /** The server token sealed to each control-plane node's key (X25519 from its Ed25519 id). */
  readonly serverTokenSealed: Readonly<Record<NodeId, Uint8Array>>
  /** The agent token sealed with the token-derived ledger sealing key: readable by members only. */
  readonly agentTokenSealed: Uint8Array
}

/**
 * The part of a cluster shape that decides how a plan is committed, as it stood when the plan was
 * proposed. It travels inside the plan (so every vote signs it) and a plan is checked against it,
 * never against today's config (S8): a node whose config was edited keeps its committed plan.
 */
export interface DecidedShape {
  /** The `expect` of the proposer: the epoch-1 quorum is a majority of it. Absent: best effort. */
  readonly expect?: number
  /** Control planes wanted at the time (odd). */
  readonly controlPlanes: number
}

/** The committed decision of one epoch: who initialises, who is control plane, who is worker. */
export interface Plan {
  /** Public cluster id derived from the network token (safe to log). */
  readonly clusterId: string
  /** 1 for the bootstrap decision; each later change of roles is the next epoch. */
  readonly epoch: number
  readonly name?: string
  /** The node that runs `cluster-init`; fixed at epoch 1 and carried unchanged after (S1). */
  readonly init: NodeId
  /** Control-plane nodes in join order; `controlPlanes[0]` is `init` at epoch 1. */
  readonly controlPlanes: readonly NodeId[]
  /** Workers known when the plan was made; later arrivals are workers unless a new epoch says otherwise. */
  readonly workers: readonly NodeId[]
  readonly vip?: string
  /** The shape the plan was decided under; with `name` and `vip` above, the whole shape (S8). */
  readonly decidedUnder: DecidedShape
  /**
   * Former control planes that a later epoch removed while they were dead (replaced by a live
   * worker). One that comes back is a worker whose stale server (etcd) data must go first.
   */
  readonly replaced?: readonly NodeId[]
  /** Nodes that handed over their role and left (`leave`): no role; the plan never counts them again. */
  readonly retired?: readonly NodeId[]
  /**
   * The control plane that runs `cluster-init` in place of a replaced initialiser, named by the
   * epoch that replaced it before any server had reported Ready: the cluster never formed, so it
   * is started anew. Safe (S1: one cluster) only because the replaced node's k3s never starts again
   * (the agent's start gate); carried unchanged by later epochs. See planner/join-graph.ts.
   */
  readonly reinit?: NodeId
  readonly secrets: PlanSecrets
  /** Human-readable reasons for choices that a user may not expect (a refused role request, …). */
  readonly notes: readonly string[]
}
