import type { Server } from 'node:http'
import type { Socket } from 'node:net'

/**
 * Keeps a local HTTP listener (the status socket, the metrics listener) answering its owner while
 * other clients hold connections open. A plain `maxConnections` refuses the newest connection, so
 * 32 idle ones made every real request fail with ECONNRESET, and a client renewing them kept
 * `/healthz` unreachable. Here the newest connection is always taken: at a bound, the oldest idle
 * connection (no request in progress) is closed to make room, first among the new client's own,
 * then among all; only when every connection is busy is the new one refused. A connection idle for
 * `idleTimeoutMs` is closed. Busy connections are bounded by each server's request timeouts.
 */

export interface ConnectionGuardOptions {
  /** Connections open at once. */
  readonly connectionsMax: number
  /** Connections open at once from one client address (a unix socket counts as one client). */
  readonly connectionsPerClientMax: number
  /** An idle connection (no request in progress) is closed after this long. */
  readonly idleTimeoutMs: number
}

export interface ConnectionGuardStats {
  /** Idle connections closed to make room for a newer one. */
  evicted: number
  /** New connections refused because every open one was busy. */
  refused: number
  /** Idle connections closed by the idle timeout. */
  idleClosed: number
}

interface Tracked {
  readonly client: string
  busy: boolean
}

export class ConnectionGuard {
  readonly stats: ConnectionGuardStats = { evicted: 0, refused: 0, idleClosed: 0 }
  /** Every open connection, in the order it last became idle (oldest first) or opened. */
  readonly #open = new Map<Socket, Tracked>()

  constructor (server: Server, private readonly options: ConnectionGuardOptions) {
    server.on('connection', (socket: Socket) => { this.#admit(socket) })
    server.on('request', (req, res) => {
      const socket = req.socket
      const tracked = this.#open.get(socket)
      if (tracked === undefined) return
      tracked.busy = true
      res.on('close', () => {
        if (socket.destroyed || !this.#open.has(socket)) return
        // Idle again: it moves to the back of the eviction order, and its idle clock restarts.
        this.#open.delete(socket)
        tracked.busy = false
        this.#open.set(socket, tracked)
        socket.setTimeout(this.options.idleTimeoutMs)
      })
    })
  }

  /** Connections open now. */
  get size (): number {
    return this.#open.size
  }

  #admit (socket: Socket): void {
    const client = socket.remoteAddress ?? 'local'
    const fromClient = [...this.#open.values()].filter(tracked => tracked.client === client).length
    if (fromClient >= this.options.connectionsPerClientMax && !this.#evictOldestIdle(client)) {
      this.#refuse(socket)
      return
    }
    if (this.#open.size >= this.options.connectionsMax && !this.#evictOldestIdle(null)) {
      this.#refuse(socket)
      return
    }
    this.#open.set(socket, { client, busy: false })
    socket.setTimeout(this.options.idleTimeoutMs)
    socket.on('timeout', () => {
      const tracked = this.#open.get(socket)
      // A busy connection is the request timeouts' business (a `leave` stream may be quiet a while).
      if (tracked === undefined || tracked.busy) return
      this.stats.idleClosed++
      socket.destroy()
    })
    socket.on('close', () => { this.#open.delete(socket) })
  }

  /** Closes the oldest idle connection (of `client`, or of anyone when null); false if none is idle. */
  #evictOldestIdle (client: string | null): boolean {
    for (const [socket, tracked] of this.#open) {
      if (tracked.busy || (client !== null && tracked.client !== client)) continue
      this.#open.delete(socket)
      this.stats.evicted++
      socket.destroy()
      return true
    }
    return false
  }

  #refuse (socket: Socket): void {
    this.stats.refused++
    socket.destroy()
  }
}
