// The live heap of a node process, from outside: over the V8 inspector of a process started with
// `node --inspect=<ip>:<port>`, force a full garbage collection, then read the heap in use. RSS
// alone cannot tell a leak from garbage V8 has not collected yet (or memory it has not returned);
// the heap left after a full GC can.
import { request } from 'node:http'

export interface LiveHeap {
  /** Bytes of the JS heap still in use after a full GC. */
  readonly usedBytes: number
  /** Bytes V8 holds for the heap. */
  readonly totalBytes: number
}

async function getJson (url: string, signal: AbortSignal): Promise<unknown> {
  return await new Promise((resolve, reject) => {
    const call = request(url, { agent: false, signal }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { body += chunk })
      response.on('end', () => {
        try {
          resolve(JSON.parse(body))
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)))
        }
      })
      response.on('error', reject)
    })
    call.on('error', reject)
    call.end()
  })
}

/** Forces a full GC in the process whose inspector listens at `address` (ip:port), then reads its heap. */
export async function liveHeapAfterGc (address: string, signal: AbortSignal = AbortSignal.timeout(20_000)): Promise<LiveHeap> {
  const targets = await getJson(`http://${address}/json/list`, signal)
  const url = Array.isArray(targets) ? (targets[0] as { webSocketDebuggerUrl?: unknown } | undefined)?.webSocketDebuggerUrl : undefined
  if (typeof url !== 'string') throw new Error(`the inspector at ${address} lists no debugger URL`)
  const socket = new WebSocket(url)
  try {
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => { resolve() }, { once: true })
      socket.addEventListener('error', () => { reject(new Error(`cannot open the inspector at ${url}`)) }, { once: true })
      signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
    })
    let nextId = 1
    const call = async (method: string): Promise<Record<string, unknown>> => {
      const id = nextId++
      return await new Promise((resolve, reject) => {
        const onMessage = (event: MessageEvent): void => {
          const message = JSON.parse(String(event.data)) as { id?: number, result?: Record<string, unknown>, error?: { message?: string } }
          if (message.id !== id) return
          socket.removeEventListener('message', onMessage)
          if (message.error !== undefined) reject(new Error(`${method}: ${message.error.message ?? 'failed'}`))
          else resolve(message.result ?? {})
        }
        socket.addEventListener('message', onMessage)
        signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
        socket.send(JSON.stringify({ id, method }))
      })
    }
    // Twice: objects with finalizers or weak references are only freed by a second collection.
    await call('HeapProfiler.collectGarbage')
    await call('HeapProfiler.collectGarbage')
    const usage = await call('Runtime.getHeapUsage')
    return { usedBytes: Number(usage.usedSize), totalBytes: Number(usage.totalSize) }
  } finally {
    socket.close()
  }
}
