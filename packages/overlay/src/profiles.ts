/**
 * Timing and size profiles of the overlay. `lanProfile()` sets every field; the others start from
 * it and override only what differs, so no profile can forget a new field. Each field says what
 * raising or lowering it buys and costs.
 */
export interface OverlayProfile {
  /**
   * First wait between mDNS queries, and the wait whenever the node has no connection. A node
   * announces itself and queries at start, so this only bounds re-discovery after a loss. Lower
   * finds lost peers sooner; every node answers every query by multicast, so traffic grows with
   * the number of nodes times the query rate.
   */
  readonly mdnsIntervalInitialMs: number
  /**
   * Longest wait between mDNS queries. While the node has connections the wait doubles after each
   * query up to this. Higher keeps a settled LAN quiet; a node that joins still announces itself at
   * once, so this only slows finding peers that came back without announcing (rare).
   */
  readonly mdnsIntervalMaxMs: number
  /**
   * How often the DHT rendezvous provides the current slot's key and looks up its providers; it
   * also runs at once when the routing table gets its first peer. Lower finds nodes on other
   * subnets sooner at the cost of a DHT query per node per interval.
   */
  readonly rendezvousIntervalMs: number
  /** Budget of one rendezvous round (provide, then two lookups); a slow DHT is given up on. */
  readonly rendezvousTimeoutMs: number
  /**
   * How often the reconcile loop re-dials static peers and tops up connections to known peers.
   * Lower heals partitions sooner at the cost of more dial attempts to peers that are down.
   */
  readonly reconcileIntervalMs: number
  /** First wait before re-dialling a peer that failed; doubled on each failure up to the maximum. */
  readonly redialBackoffInitialMs: number
  /**
   * Longest wait between re-dials of a failing peer. Higher wastes less on dead peers; lower makes
   * a returning peer reconnect sooner (it can also dial us, so this rarely matters for both).
   */
  readonly redialBackoffMaxMs: number
  /** Whole budget of one dial (all of a peer's addresses). Lower frees dial slots sooner. */
  readonly dialTimeoutMs: number
  /**
   * Budget of one address. A dial to a node with another token may hang until this fires instead
   * of failing at once (garbage after the pnet layer), so keep it short on a LAN; too short fails
   * real handshakes on a slow link.
   */
  readonly addressDialTimeoutMs: number
  /** The pnet nonce exchange must finish within this; it is the first bytes on a connection. */
  readonly pnetHandshakeTimeoutMs: number
  /** An inbound connection must finish pnet, noise and yamux within this, or it is dropped. */
  readonly inboundUpgradeTimeoutMs: number
  /**
   * Hard cap on open connections; libp2p prunes above it. Each connection costs 0.5–1.5 MB and a
   * handshake costs 30–40 ms of event loop, and a node never needs a full mesh.
   */
  readonly maxConnections: number
  /**
   * Connections the reconcile loop aims for by dialling known peers. Below `maxConnections`, so
   * inbound dials from peers that need us still fit. Higher spreads the ledger faster; lower is
   * cheaper. Static peers are dialled regardless.
   */
  readonly targetConnections: number
  /** Inbound connections allowed to be mid-handshake at once; excess is refused, not queued. */
  readonly maxIncomingPendingConnections: number
  /**
   * Inbound connections per second accepted from one IP. Many nodes behind one address (NAT,
   * a test host) need more; a low value blunts a connection flood from one host.
   */
  readonly inboundConnectionsPerHostPerSecond: number
  /** Dials of discovered peers running at once; the rest wait for the reconcile loop. */
  readonly discoveryDialConcurrency: number
  /** How often each connection is pinged to notice a dead peer; lower detects sooner, costs traffic. */
  readonly connectionPingIntervalMs: number
  /**
   * Accept connections from loopback even above the connection and rate limits. Only processes on
   * this host can use loopback, and single-host runs put every node there.
   */
  readonly allowLoopback: boolean
}

export type OverlayProfileName = 'lan' | 'wan' | 'test'

export const lanProfile = (): OverlayProfile => ({
  mdnsIntervalInitialMs: 5_000, // a node announces itself at start; this is only for re-discovery
  mdnsIntervalMaxMs: 60_000, // a settled LAN hears one query a minute (others' queries suppress ours)
  rendezvousIntervalMs: 30_000, // other subnets are found within a minute, at one DHT query a node
  rendezvousTimeoutMs: 10_000, // a LAN DHT answers in ~0.1 s; this only bounds a sick one
  reconcileIntervalMs: 2_000, // heals within seconds (L3) without a busy loop
  redialBackoffInitialMs: 1_000,
  redialBackoffMaxMs: 30_000, // a dead static peer costs one dial every 30 s
  dialTimeoutMs: 5_000,
  addressDialTimeoutMs: 2_000, // a LAN handshake takes milliseconds; fail a wrong-token dial fast
  // The nonce exchange is the first thing a starting node does on a connection: a slow machine
  // forming a fleet stalls for a second and more, and a bound of 1 s refused real peers under load.
  pnetHandshakeTimeoutMs: 3_000,
  inboundUpgradeTimeoutMs: 5_000,
  maxConnections: 16, // a few random peers plus the control plane, not a full mesh
  targetConnections: 8,
  maxIncomingPendingConnections: 10,
  inboundConnectionsPerHostPerSecond: 5,
  discoveryDialConcurrency: 4, // a burst of mDNS answers must not stall the event loop
  connectionPingIntervalMs: 10_000,
  allowLoopback: true
})

export const wanProfile = (): OverlayProfile => ({
  ...lanProfile(),
  mdnsIntervalInitialMs: 10_000, // mDNS rarely helps across subnets; keep the LAN quiet
  mdnsIntervalMaxMs: 120_000,
  rendezvousIntervalMs: 60_000, // the DHT is how WAN nodes meet, but round trips are long
  rendezvousTimeoutMs: 30_000,
  reconcileIntervalMs: 5_000,
  redialBackoffMaxMs: 60_000,
  dialTimeoutMs: 15_000, // round trips of hundreds of ms, several addresses per peer
  addressDialTimeoutMs: 6_000,
  pnetHandshakeTimeoutMs: 3_000,
  inboundUpgradeTimeoutMs: 10_000
})

export const testProfile = (): OverlayProfile => ({
  ...lanProfile(),
  mdnsIntervalInitialMs: 1_000, // re-discovery within a test's patience; few nodes, so cheap
  mdnsIntervalMaxMs: 8_000,
  rendezvousIntervalMs: 2_000,
  rendezvousTimeoutMs: 1_500,
  reconcileIntervalMs: 200,
  redialBackoffInitialMs: 100,
  redialBackoffMaxMs: 1_000,
  dialTimeoutMs: 3_000,
  addressDialTimeoutMs: 1_500,
  inboundConnectionsPerHostPerSecond: 100 // every test node shares 127.0.0.1
})

export function profileByName (name: OverlayProfileName): OverlayProfile {
  switch (name) {
    case 'lan': return lanProfile()
    case 'wan': return wanProfile()
    case 'test': return testProfile()
  }
}
