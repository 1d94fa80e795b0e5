import { readFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { DATA_DIR_DEFAULT } from '@p2p-bootstrap/k3s'

/**
 * The server token k3s writes under its data dir on every server once it has its CA: the full
 * `K10<CA hash>::server:<secret>` form. k3s computes the hash itself, and computes it the way
 * joiners check it: the SHA-256 of the PEM file for its own self-signed CA, of the root's DER for
 * a custom CA bundle (k3s docs, cli/token.md "Token Format", k3s v1.33). Hashing server-ca.crt's
 * bytes here would be wrong for a custom CA, so the hash is taken from this file.
 */
export const SERVER_TOKEN_SUBPATH = 'server/token'
const TOKEN_BYTES_MAX = 4 * 1024
const FULL_SERVER_TOKEN = /^K10([0-9a-f]{64})::server:\S+$/

/**
 * Hex SHA-256 of the cluster CA as k3s pins it, from k3s' own `server/token`; undefined while k3s
 * has not written it. A file in another form is an error naming the file.
 */
export async function readCaHash (root: string, dataDir: string = DATA_DIR_DEFAULT): Promise<string | undefined> {
  const path = join(root, dataDir, SERVER_TOKEN_SUBPATH)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  if (text.length === 0) return undefined
  const match = text.length <= TOKEN_BYTES_MAX ? FULL_SERVER_TOKEN.exec(text.trim()) : null
  if (match === null) throw new Error(`${path} is not in k3s' K10<CA hash>::server:<secret> form, so the CA hash joiners pin cannot be read from it`)
  return match[1]
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
