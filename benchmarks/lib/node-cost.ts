// What a node process costs, read from the kernel rather than from the node itself: CPU time and
// resident memory from /proc/<pid>, TCP bytes sent per process from `ss` (socket counters, with the
// owning pid), all bytes on the loopback interface from /proc/net/dev, and a node's own Prometheus
// counters from its metrics listener. Linux only.
import { execFile, execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { request } from 'node:http'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every common kernel). */
export const CLOCK_TICKS_PER_SECOND = ((): number => {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    return Number.isInteger(ticks) && ticks > 0 ? ticks : 100
  } catch {
    return 100
  }
})()

/** User plus system CPU seconds a process has used, or null once it is gone. */
export async function cpuSeconds (pid: number): Promise<number | null> {
  let text: string
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / CLOCK_TICKS_PER_SECOND : null
}

/** Resident set size (VmRSS) in bytes, or null once the process is gone. */
export async function rssBytes (pid: number): Promise<number | null> {
  let text: string
  try {
    text = await readFile(`/proc/${pid}/status`, 'utf8')
  } catch {
    return null
  }
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(text)
  return match?.[1] === undefined ? null : Number(match[1]) * 1024
}

/** One TCP socket's send counters, with the process that owns it. */
export interface TcpSocket {
  readonly pid: number
  readonly bytesSent: number
  readonly segmentsOut: number
}

/** Every connected TCP socket of this network namespace, keyed by `local>peer`. */
export async function tcpSockets (): Promise<Map<string, TcpSocket>> {
  const { stdout } = await run('ss', ['-tinpH', 'state', 'connected'], { maxBuffer: 64 * 1024 * 1024 })
  const sockets = new Map<string, TcpSocket>()
  const lines = stdout.split('\n')
  for (let index = 0; index < lines.length; index++) {
    const head = lines[index] ?? ''
    if (head.trim() === '' || /^\s/.test(head)) continue
    // With -i, the counters follow on the next, indented line.
    const info = lines[index + 1] ?? ''
    const columns = head.trim().split(/\s+/)
    // A state filter of several states (`connected`) adds a State column before Recv-Q.
    const offset = /^\d+$/.test(columns[0] ?? '') ? 0 : 1
    const pid = /pid=(\d+)/.exec(head)?.[1]
    const local = columns[offset + 2]
    const peer = columns[offset + 3]
    if (pid === undefined || local === undefined || peer === undefined) continue
    sockets.set(`${local}>${peer}`, {
      pid: Number(pid),
      bytesSent: Number(/\bbytes_sent:(\d+)/.exec(info)?.[1] ?? 0),
      segmentsOut: Number(/\bsegs_out:(\d+)/.exec(info)?.[1] ?? 0)
    })
  }
  return sockets
}

/** TCP sent between two snapshots, per process. */
export interface TcpSent {
  readonly bytes: number
  readonly segments: number
}

/**
 * What each process sent between two snapshots: the growth of sockets present in both, plus all
 * of sockets opened in between. Sockets closed in between are lost (their last bytes unseen), so
 * `closed` counts them: zero means the figure is exact.
 */
export function tcpSentBetween (before: ReadonlyMap<string, TcpSocket>, after: ReadonlyMap<string, TcpSocket>): { byPid: Map<number, TcpSent>, closed: number, opened: number } {
  const byPid = new Map<number, TcpSent>()
  let opened = 0
  for (const [key, socket] of after) {
    const earlier = before.get(key)
    if (earlier === undefined) opened++
    const bytes = socket.bytesSent - (earlier?.bytesSent ?? 0)
    const segments = socket.segmentsOut - (earlier?.segmentsOut ?? 0)
    const sum = byPid.get(socket.pid) ?? { bytes: 0, segments: 0 }
    byPid.set(socket.pid, { bytes: sum.bytes + bytes, segments: sum.segments + segments })
  }
  let closed = 0
  for (const key of before.keys()) if (!after.has(key)) closed++
  return { byPid, closed, opened }
}

/** Bytes and packets sent on the loopback interface of this network namespace, everything included. */
export async function loopbackSent (): Promise<{ bytes: number, packets: number }> {
  const text = await readFile('/proc/net/dev', 'utf8')
  const line = text.split('\n').find(row => row.trim().startsWith('lo:'))
  if (line === undefined) throw new Error('/proc/net/dev has no lo line: is this Linux?')
  // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit: bytes packets …
  const fields = line.slice(line.indexOf(':') + 1).trim().split(/\s+/).map(Number)
  return { bytes: fields[8] ?? 0, packets: fields[9] ?? 0 }
}

/**
 * A node's Prometheus metrics: every series by its full name (`name{label="value"}`), and every
 * metric summed over its labels by its bare name.
 */
export async function scrapeMetrics (address: string, signal: AbortSignal = AbortSignal.timeout(10_000)): Promise<Map<string, number>> {
  const text = await getText(`http://${address}/metrics`, signal)
  const values = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line)
    if (match?.[1] === undefined || match[3] === undefined) continue
    const value = Number(match[3])
    if (!Number.isFinite(value)) continue
    if (match[2] !== undefined) values.set(`${match[1]}${match[2]}`, value)
    values.set(match[1], (values.get(match[1]) ?? 0) + value)
  }
  return values
}

/**
 * One GET on a connection of its own, closed with the answer (`Connection: close`, no agent): a
 * kept-alive socket would close later, inside a measuring window, and be counted there.
 */
async function getText (url: string, signal: AbortSignal): Promise<string> {
  return await new Promise((resolve, reject) => {
    const call = request(url, { agent: false, headers: { connection: 'close' }, signal }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { body += chunk })
      response.on('end', () => {
        if (response.statusCode === 200) resolve(body)
        else reject(new Error(`${url}: HTTP ${String(response.statusCode)}`))
      })
      response.on('error', reject)
    })
    call.on('error', reject)
    call.end()
  })
}
