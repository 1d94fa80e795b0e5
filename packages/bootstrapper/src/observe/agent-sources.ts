import type { CoreMessage } from '@p2p-bootstrap/core'
import type { MessageDetail, MessengerStats, Overlay, OverlayDiscoveryStats, PeerMessenger } from '@p2p-bootstrap/overlay'
import type { Bootstrapper } from '../bootstrapper.js'
import type { BootstrapperError } from '../errors.js'
import type { StateDir } from '../state/state-dir.js'
import type { StatusReport } from '../status-report.js'
import type { HealthReport, Libp2pCounts, ObserveSources } from './sources.js'

/** The file `/healthz` rewrites to prove the state dir still takes writes. */
export const HEALTH_PROBE_FILE = 'healthz.probe'
/** A probe's answer is reused this long, so a busy health checker cannot keep the disk syncing. */
const HEALTH_PROBE_INTERVAL_MS = 10_000
/** A state dir that has not finished one small write by then is as good as refusing it. */
const HEALTH_PROBE_TIMEOUT_MS = 5_000
/** Message kinds counted apart; the decoder only lets known kinds through, this is a backstop. */
const MESSAGE_KINDS_MAX = 32

/** The parts of a running agent the listener reads. */
export interface AgentParts {
  readonly bootstrapper: Pick<Bootstrapper, 'status' | 'stats' | 'addEventListener' | 'removeEventListener'>
  readonly overlay: Overlay
  readonly messenger: PeerMessenger<CoreMessage>
  readonly state: StateDir
}

/** `ObserveSources` of a running bootstrapper: its status, its counters, its state dir. */
export class AgentSources implements ObserveSources {
  private readonly received = new Map<string, number>()
  private fatal: string | undefined
  private probe: { readonly atMs: number, readonly result: Promise<HealthReport> } | undefined

  constructor (private readonly parts: AgentParts) {}

  readonly open = (): void => {
    this.parts.messenger.addEventListener('message', this.onMessage)
    this.parts.bootstrapper.addEventListener('error', this.onError)
  }

  readonly close = (): void => {
    this.parts.messenger.removeEventListener('message', this.onMessage)
    this.parts.bootstrapper.removeEventListener('error', this.onError)
  }

  readonly status = (): StatusReport => this.parts.bootstrapper.status()

  readonly syncStats = (): MessengerStats | null => this.parts.bootstrapper.stats()

  readonly messagesReceived = (): ReadonlyMap<string, number> => this.received

  readonly discoveryStats = (): OverlayDiscoveryStats | null => this.parts.overlay.discoveryStats()

  readonly libp2p = (): Libp2pCounts => {
    const { libp2p } = this.parts.overlay
    const connections = { inbound: 0, outbound: 0 }
    const streams = { inbound: 0, outbound: 0 }
    for (const connection of libp2p.getConnections()) {
      connections[connection.direction]++
      for (const stream of connection.streams) streams[stream.direction]++
    }
    return { connections, streams, peers: libp2p.getPeers().length, pendingDials: libp2p.getDialQueue().length }
  }

  /** Unhealthy after a fatal error, or when a small atomic write to the state dir fails. */
  readonly health = async (): Promise<HealthReport> => {
    if (this.fatal !== undefined) return { ok: false, reason: `the agent stopped: ${this.fatal}` }
    const nowMs = performance.now()
    if (this.probe === undefined || nowMs - this.probe.atMs >= HEALTH_PROBE_INTERVAL_MS) {
      this.probe = { atMs: nowMs, result: this.probeStateDir() }
    }
    return await this.probe.result
  }

  private async probeStateDir (): Promise<HealthReport> {
    const { state } = this.parts
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<HealthReport>((resolve) => {
      timer = setTimeout(() => {
        resolve({ ok: false, reason: `the state dir ${state.path} did not finish a small write within ${HEALTH_PROBE_TIMEOUT_MS} ms: check the disk` })
      }, HEALTH_PROBE_TIMEOUT_MS)
    })
    const written = state.writeFile(HEALTH_PROBE_FILE, `${new Date().toISOString()}\n`).then(
      (): HealthReport => ({ ok: true }),
      (err: unknown): HealthReport => ({ ok: false, reason: `the state dir refuses writes: ${(err as Error).message}` })
    )
    try {
      return await Promise.race([written, late])
    } finally {
      clearTimeout(timer)
    }
  }

  private readonly onMessage = (event: CustomEvent<MessageDetail<CoreMessage>>): void => {
    const { kind } = event.detail.message
    const key = this.received.has(kind) || this.received.size < MESSAGE_KINDS_MAX ? kind : 'other'
    this.received.set(key, (this.received.get(key) ?? 0) + 1)
  }

  private readonly onError = (event: CustomEvent<BootstrapperError>): void => {
    if (event.detail.fatal) this.fatal = event.detail.message
  }
}
