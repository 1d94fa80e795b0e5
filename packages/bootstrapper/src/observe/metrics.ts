import { memoryUsage, cpuUsage } from 'node:process'
import { Counter, Gauge, Registry } from 'prom-client'
import type { DropReason, MessengerStats, OverlayDiscoveryStats } from '@p2p-bootstrap/overlay'
import { AGENT_PHASES } from '../published-status.js'
import type { MemberReport, StatusReport } from '../status-report.js'
import type { Libp2pCounts, ObserveSources } from './sources.js'

const MEMBER_STATES: readonly MemberReport['state'][] = ['self', 'alive', 'suspect', 'dead', 'left']
const ROLES = ['control-plane', 'worker'] as const
const DROP_REASONS: readonly DropReason[] = ['queueFull', 'noRoute', 'unreachable', 'oversized', 'streamError', 'stopped', 'badPeer', 'tooManyPeers']
const DIRECTIONS = ['inbound', 'outbound'] as const

/** Everything one scrape reads, taken once so that the series of one scrape agree. */
interface Snapshot {
  readonly status: StatusReport
  readonly sync: MessengerStats | null
  readonly received: ReadonlyMap<string, number>
  readonly discovery: OverlayDiscoveryStats | null
  readonly libp2p: Libp2pCounts | null
}

/**
 * A counter whose total is kept elsewhere (the messenger's, mDNS'): each scrape resets it (see
 * `counter`) and adds the total read then, since prom-client counters can only go up.
 */
function mirror<L extends string> (counter: Counter<L>, value: number, labels?: Partial<Record<L, string>>): void {
  if (labels === undefined) counter.inc(value)
  else counter.inc(labels, value)
}

/**
 * The Prometheus metrics of one agent, in a registry of its own (never prom-client's global one:
 * several agents may share a process, and an embedding application may have its own metrics).
 * Values are read from `ObserveSources` at scrape time; nothing here runs between scrapes.
 */
export class ObserveMetrics {
  readonly registry = new Registry()
  private readonly updates: Array<(snapshot: Snapshot) => void> = []

  constructor (private readonly sources: ObserveSources) {
    this.defineAgent()
    this.defineSync()
    this.defineDiscovery(sources.discoveryStats())
    this.defineLibp2p()
    this.defineProcess()
  }

  get contentType (): string {
    return this.registry.contentType
  }

  /** The exposition text, every value read now. */
  async scrape (): Promise<string> {
    const { sources } = this
    const snapshot: Snapshot = {
      status: sources.status(),
      sync: sources.syncStats(),
      received: sources.messagesReceived(),
      discovery: sources.discoveryStats(),
      libp2p: sources.libp2p()
    }
    for (const update of this.updates) update(snapshot)
    return await this.registry.metrics()
  }

  private gauge<L extends string> (name: string, help: string, labelNames: readonly L[], update: (gauge: Gauge<L>, snapshot: Snapshot) => void): void {
    const gauge = new Gauge<L>({ name, help, labelNames, registers: [this.registry] })
    this.updates.push((snapshot) => {
      gauge.reset()
      update(gauge, snapshot)
    })
  }

  private counter<L extends string> (name: string, help: string, labelNames: readonly L[], update: (counter: Counter<L>, snapshot: Snapshot) => void): void {
    const counter = new Counter<L>({ name, help, labelNames, registers: [this.registry] })
    this.updates.push((snapshot) => {
      counter.reset()
      update(counter, snapshot)
    })
  }

  private defineAgent (): void {
    // One series per agent, so names cost no cardinality here; per-member series carry none.
    this.gauge('p2pb_node_info', 'This node: its id, cluster id, host name, k3s node name and cluster name as labels; always 1.',
      ['node_id', 'cluster_id', 'hostname', 'node_name', 'cluster_name'], (gauge, { status }) => {
        // A name can arrive later (the cluster name with the plan): drop the old series first.
        gauge.reset()
        gauge.set({
          node_id: status.nodeId,
          cluster_id: status.clusterId,
          hostname: status.hostname ?? '',
          node_name: status.nodeName ?? '',
          cluster_name: status.clusterName ?? ''
        }, 1)
      })
    this.gauge('p2pb_members', 'Members this node knows, by SWIM state (this node itself is state "self").', ['state'], (gauge, { status }) => {
      for (const state of MEMBER_STATES) gauge.set({ state }, status.members.filter(member => member.state === state).length)
    })
    this.gauge('p2pb_expected_nodes', 'Nodes expected at first boot (the token\'s or the options\' expect); 0 when not set.', [], (gauge, { status }) => {
      gauge.set(status.expect ?? 0)
    })
    this.gauge('p2pb_plan_epoch', 'Epoch of the latest committed plan; 0 before any.', [], (gauge, { status }) => {
      gauge.set(status.plan?.epoch ?? 0)
    })
    this.gauge('p2pb_plan_nodes', 'Nodes the latest committed plan lists, by role.', ['role'], (gauge, { status }) => {
      gauge.set({ role: 'control-plane' }, status.plan?.controlPlanes.length ?? 0)
      gauge.set({ role: 'worker' }, status.plan?.workers.length ?? 0)
    })
    this.gauge('p2pb_plan_former_nodes', 'Nodes the latest plan no longer counts: retired (they left) and replaced (dead control planes a worker replaced).', ['reason'], (gauge, { status }) => {
      gauge.set({ reason: 'retired' }, status.plan?.retired?.length ?? 0)
      gauge.set({ reason: 'replaced' }, status.plan?.replaced?.length ?? 0)
    })
    this.gauge('p2pb_leaving', '1 while this node asked to leave and no committed epoch has retired it yet.', [], (gauge, { status }) => {
      gauge.set(status.leaving === true && (status.retiredAtEpoch ?? null) === null ? 1 : 0)
    })
    this.gauge('p2pb_local_health', 'Lifeguard local health, 0 (healthy) to 7: this node stretches its probe interval and timeout (score + 1) times because it seems slow itself.', [], (gauge, { status }) => {
      gauge.set(status.localHealth ?? 0)
    })
    this.gauge('p2pb_failover_delay_seconds', 'How long a control plane stays dead before a committed epoch replaces it with a live worker.', [], (gauge, { status }) => {
      gauge.set((status.failoverDelayMs ?? 0) / 1000)
    })
    this.gauge('p2pb_config_drift', 'Settings in this node\'s config that differ from the shape the committed plan was decided under (S8: the plan stays; see status).', [], (gauge, { status }) => {
      gauge.set(status.configDrift?.length ?? 0)
    })
    this.gauge('p2pb_phase', 'This node\'s phase: 1 for the current one, 0 for the others.', ['phase'], (gauge, { status }) => {
      for (const phase of AGENT_PHASES) gauge.set({ phase }, phase === status.phase ? 1 : 0)
    })
    this.gauge('p2pb_role', 'This node\'s role in the latest plan: 1 for it, 0 for the other (both 0 before a plan).', ['role'], (gauge, { status }) => {
      for (const role of ROLES) gauge.set({ role }, role === status.role ? 1 : 0)
    })
    this.gauge('p2pb_initialiser', '1 when this node is the one that runs cluster-init in the latest plan.', [], (gauge, { status }) => {
      gauge.set(status.part?.init === true ? 1 : 0)
    })
    this.gauge('p2pb_ledger_entries', 'Entries this node\'s ledger holds, tombstones included.', [], (gauge, { status }) => {
      gauge.set(status.ledgerEntries)
    })
    this.gauge('p2pb_ledger_bytes', 'Encoded bytes of the entries this node\'s ledger holds.', [], (gauge, { status }) => {
      gauge.set(status.ledgerBytes)
    })
    this.gauge('p2pb_start_time_seconds', 'When this agent started, in Unix seconds.', [], (gauge, { status }) => {
      gauge.set(status.startedAtMs / 1000)
    })
  }

  private defineSync (): void {
    const syncCounter = (name: string, help: string, read: (stats: MessengerStats) => number): void => {
      this.counter(name, help, [], (counter, { sync }) => { mirror(counter, sync === null ? 0 : read(sync)) })
    }
    syncCounter('p2pb_sync_received_frames_total', 'Sync protocol frames received and decoded.', stats => stats.framesIn)
    syncCounter('p2pb_sync_sent_frames_total', 'Sync protocol frames handed to an outbound stream.', stats => stats.framesOut)
    syncCounter('p2pb_sync_received_bytes_total', 'Bytes received on sync protocol streams, length prefixes included.', stats => stats.bytesIn)
    syncCounter('p2pb_sync_sent_bytes_total', 'Bytes sent on sync protocol streams, length prefixes included.', stats => stats.bytesOut)
    syncCounter('p2pb_sync_rejected_frames_total', 'Received frames refused (oversized, malformed, undecodable); each closed its stream.', stats => stats.framesRejected)
    syncCounter('p2pb_sync_stream_errors_total', 'Sync streams that failed (reset, write timeout, connection lost).', stats => stats.streamErrors)
    syncCounter('p2pb_sync_idle_streams_closed_total', 'Inbound sync streams closed for delivering nothing in time.', stats => stats.streamsIdleClosed)
    syncCounter('p2pb_sync_dial_failures_total', 'Dials made to send a frame that failed.', stats => stats.dialFailures)
    this.counter('p2pb_sync_dropped_frames_total', 'Frames meant to be sent that never left, by reason.', ['reason'], (counter, { sync }) => {
      for (const reason of DROP_REASONS) mirror(counter, sync?.framesDroppedBy[reason] ?? 0, { reason })
    })
    this.counter('p2pb_sync_streams_opened_total', 'Sync streams opened (outbound) and accepted (inbound).', ['direction'], (counter, { sync }) => {
      mirror(counter, sync?.streamsAccepted ?? 0, { direction: 'inbound' })
      mirror(counter, sync?.streamsOpened ?? 0, { direction: 'outbound' })
    })
    this.counter('p2pb_received_messages_total', 'Core messages received since the listener started, by kind (swim/* membership, ledger/* sync, paxos/* consensus).', ['kind'], (counter, { received }) => {
      for (const [kind, count] of received) mirror(counter, count, { kind })
    })
  }

  /** mDNS and rendezvous series exist only when that discovery runs (known once the overlay started). */
  private defineDiscovery (stats: OverlayDiscoveryStats | null): void {
    if (stats?.mdns !== undefined) {
      const mdns = this.discoveryCounters('mdns')
      mdns('p2pb_mdns_queries_sent_total', 'mDNS queries sent.', s => s.queriesSent)
      mdns('p2pb_mdns_queries_suppressed_total', 'mDNS queries skipped because another node asked first.', s => s.queriesSuppressed)
      mdns('p2pb_mdns_answers_sent_total', 'mDNS answers sent, the start-up announcement included.', s => s.answersSent)
      mdns('p2pb_mdns_queries_coalesced_total', 'mDNS queries served by an answer already sent or scheduled.', s => s.queriesCoalesced)
      mdns('p2pb_mdns_peers_found_total', 'Peers mDNS handed to libp2p.', s => s.peersFound)
      mdns('p2pb_mdns_malformed_packets_total', 'mDNS packets about our service that broke a rule or a bound.', s => s.packetsMalformed)
      mdns('p2pb_mdns_foreign_packets_total', 'mDNS packets about other services or other tokens.', s => s.packetsForeign)
    }
    if (stats?.rendezvous !== undefined) {
      const rendezvous = this.discoveryCounters('rendezvous')
      rendezvous('p2pb_rendezvous_rounds_total', 'DHT rendezvous rounds run.', s => s.rounds)
      rendezvous('p2pb_rendezvous_rounds_without_peers_total', 'DHT rendezvous rounds skipped for an empty routing table.', s => s.roundsWithoutPeers)
      rendezvous('p2pb_rendezvous_provides_total', 'DHT rendezvous provide calls.', s => s.provides)
      rendezvous('p2pb_rendezvous_provide_failures_total', 'DHT rendezvous provide calls that failed.', s => s.provideFailures)
      rendezvous('p2pb_rendezvous_lookups_total', 'DHT rendezvous provider lookups.', s => s.lookups)
      rendezvous('p2pb_rendezvous_lookup_failures_total', 'DHT rendezvous provider lookups that failed.', s => s.lookupFailures)
      rendezvous('p2pb_rendezvous_providers_found_total', 'Other nodes the DHT rendezvous found, once per round.', s => s.providersFound)
    }
  }

  /** A definer of counters mirroring one discovery's stats (0 while that discovery reports none). */
  private discoveryCounters<K extends 'mdns' | 'rendezvous'> (kind: K): (name: string, help: string, read: (stats: NonNullable<OverlayDiscoveryStats[K]>) => number) => void {
    return (name, help, read) => {
      this.counter(name, help, [], (counter, { discovery }) => {
        const stats = discovery?.[kind]
        mirror(counter, stats === undefined || stats === null ? 0 : read(stats as NonNullable<OverlayDiscoveryStats[K]>))
      })
    }
  }


  private defineLibp2p (): void {
    this.gauge('p2pb_libp2p_connections', 'Open libp2p connections of the overlay, by direction.', ['direction'], (gauge, { libp2p }) => {
      for (const direction of DIRECTIONS) gauge.set({ direction }, libp2p?.connections[direction] ?? 0)
    })
    this.gauge('p2pb_libp2p_streams', 'Open libp2p streams over all connections (every protocol), by direction.', ['direction'], (gauge, { libp2p }) => {
      for (const direction of DIRECTIONS) gauge.set({ direction }, libp2p?.streams[direction] ?? 0)
    })
    this.gauge('p2pb_libp2p_peers', 'Peers with at least one open connection.', [], (gauge, { libp2p }) => {
      gauge.set(libp2p?.peers ?? 0)
    })
    this.gauge('p2pb_libp2p_pending_dials', 'Dials waiting in libp2p\'s dial queue.', [], (gauge, { libp2p }) => {
      gauge.set(libp2p?.pendingDials ?? 0)
    })
  }

  /** The two process series every exporter has, without prom-client's default collectors (their GC observers outlive a stopped agent). */
  private defineProcess (): void {
    this.gauge('process_resident_memory_bytes', 'Resident memory of this process, in bytes (shared by every agent in it).', [], (gauge) => {
      gauge.set(memoryUsage.rss())
    })
    this.counter('process_cpu_seconds_total', 'User and system CPU time of this process, in seconds (shared by every agent in it).', [], (counter) => {
      const { user, system } = cpuUsage()
      mirror(counter, (user + system) / 1e6)
    })
  }
}
