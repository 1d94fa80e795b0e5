import type { MessengerStats, OverlayDiscoveryStats } from '@p2p-bootstrap/overlay'
import type { StatusReport } from '../status-report.js'

/** The agent's answer to `/healthz`: fine, or the reason it is not. */
export type HealthReport = { readonly ok: true } | { readonly ok: false, readonly reason: string }

/** Open libp2p connections and streams, counted by direction at scrape time. */
export interface Libp2pCounts {
  readonly connections: { readonly inbound: number, readonly outbound: number }
  readonly streams: { readonly inbound: number, readonly outbound: number }
  /** Peers with at least one open connection. */
  readonly peers: number
  /** Dials waiting in libp2p's queue. */
  readonly pendingDials: number
}

/**
 * What the metrics, the health check and the status page read, each at request time. The agent's
 * implementation is `AgentSources`; a test can hand in its own.
 */
export interface ObserveSources {
  /** This node's `StatusReport` (what `p2p-bootstrap status` shows). */
  readonly status: () => StatusReport
  /** The sync protocol's counters, or null before the messenger exists. */
  readonly syncStats: () => MessengerStats | null
  /** Core messages received since the listener started, by `kind` (`paxos/accept`, `swim/ping`, …). */
  readonly messagesReceived: () => ReadonlyMap<string, number>
  /** mDNS and DHT rendezvous counters (each undefined when that discovery is off). */
  readonly discoveryStats: () => OverlayDiscoveryStats | null
  readonly libp2p: () => Libp2pCounts | null
  readonly health: () => Promise<HealthReport>
  /** Called once when the listener starts (subscribe to events) and once when it stops. */
  readonly open?: () => void
  readonly close?: () => void
}
