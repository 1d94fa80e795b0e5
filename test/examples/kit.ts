// Shared helpers for the tests of examples/: where the examples live, tokens to put in place of
// their placeholder, a walk of a folder's files, and a way to run an example's main function in
// the background while a test waits on what it logs. Not a test file itself.
import { randomBytes } from 'node:crypto'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository's examples folder. */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/', import.meta.url))

/** What the example configs hold where the user pastes their token. */
export const TOKEN_PLACEHOLDER = 'REPLACE-WITH-YOUR-TOKEN'

export async function readExample (path: string): Promise<string> {
  return await readFile(join(EXAMPLES_DIR, path), 'utf8')
}

/** `text` with its one token placeholder replaced; throws if the placeholder is not there exactly once. */
export function withToken (text: string, token: string): string {
  const parts = text.split(TOKEN_PLACEHOLDER)
  if (parts.length !== 2) throw new Error(`expected the placeholder ${TOKEN_PLACEHOLDER} once, found it ${parts.length - 1} times`)
  return parts.join(token)
}

/**
 * A Kairos/EdgeVPN network token as `edgevpn -g -b` makes one: standard base64 of a YAML document
 * with the OTP keys, room, rendezvous and mDNS secrets (fresh random ones here).
 */
export function kairosToken (): string {
  const secret = (): string => randomBytes(24).toString('base64url')
  const yaml = [
    'otp:',
    '  dht:',
    '    interval: 9000',
    `    key: ${secret()}`,
    '    length: 6',
    '  crypto:',
    '    interval: 9000',
    `    key: ${secret()}`,
    '    length: 6',
    `room: ${secret()}`,
    `rendezvous: ${secret()}`,
    `mdns: ${secret()}`,
    'max_message_size: 20971520',
    ''
  ].join('\n')
  return Buffer.from(yaml, 'utf8').toString('base64')
}

/** Every regular file under `dir`, by its path relative to `dir`, with its permission bits. */
export async function filesUnder (dir: string): Promise<Map<string, number>> {
  const found = new Map<string, number>()
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])
  for (const entry of entries) {
    if (!entry.isFile() && !entry.isSocket()) continue
    const path = join(entry.parentPath, entry.name)
    found.set(relative(dir, path), (await stat(path)).mode & 0o777)
  }
  return found
}

/** A promise whose outcome can be read synchronously, for waiting on logs while it runs. */
export interface Tracked<T> {
  readonly promise: Promise<T>
  /** Throws the rejection, if it rejected: a wait on the logs then fails with the real cause. */
  readonly check: () => void
}

export function track<T> (promise: Promise<T>): Tracked<T> {
  let failure: { error: unknown } | undefined
  promise.catch((error: unknown) => { failure = { error } })
  return {
    promise,
    check: () => { if (failure !== undefined) throw failure.error }
  }
}
