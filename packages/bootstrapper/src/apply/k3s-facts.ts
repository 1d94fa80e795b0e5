import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { DATA_DIR_DEFAULT } from '@p2p-bootstrap/k3s'

/** The server CA under k3s' data dir; its SHA-256 is what a `K10…` token pins (k3s' /cacerts serves it). */
export const SERVER_CA_SUBPATH = 'server/tls/server-ca.crt'
const CA_BYTES_MAX = 256 * 1024

/** Hex SHA-256 of the server CA's bytes, or undefined while k3s has not written it. */
export async function readCaHash (root: string, dataDir: string = DATA_DIR_DEFAULT): Promise<string | undefined> {
  let bytes: Buffer
  try {
    bytes = await readFile(join(root, dataDir, SERVER_CA_SUBPATH))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  if (bytes.byteLength === 0 || bytes.byteLength > CA_BYTES_MAX) return undefined
  return createHash('sha256').update(bytes).digest('hex')
}

/** True if something accepts a TCP connection on `host:port` within `timeoutMs`. */
export async function answersTcp (host: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false
  return await new Promise<boolean>((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs })
    const done = (answered: boolean): void => {
      signal.removeEventListener('abort', onAbort)
      socket.destroy()
      resolve(answered)
    }
    const onAbort = (): void => { done(false) }
    signal.addEventListener('abort', onAbort, { once: true })
    socket.once('connect', () => { done(true) })
    socket.once('timeout', () => { done(false) })
    socket.once('error', () => { done(false) })
  })
}
