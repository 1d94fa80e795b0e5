import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { ConfigError } from './errors.js'
import { CONFIG_FILE_BYTES_MAX } from './limits.js'
import { oversizedError, parseConfigText } from './parse.js'
import type { FileConfig } from './types.js'

const READ_CHUNK_BYTES = 64 * 1024

/**
 * Reads and checks the config file at `path` (native or Kairos spelling). Reads at most
 * `CONFIG_FILE_BYTES_MAX` + 1 bytes, whatever the file claims its size is (a FIFO or a /proc
 * file claims 0), so a wrong path cannot make the command read without bound.
 */
export async function loadConfigFile (path: string, options: { signal?: AbortSignal } = {}): Promise<FileConfig> {
  const { signal } = options
  signal?.throwIfAborted()
  let handle: FileHandle
  try {
    handle = await open(path, 'r')
  } catch (err) {
    throw unreadableError(path, err)
  }
  let bytes: Uint8Array
  try {
    bytes = await readBounded(handle, path, signal)
  } finally {
    await handle.close()
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch (err) {
    throw new ConfigError('CLI_CONFIG', `config ${path} is not UTF-8 text: is it the right file? Save it as UTF-8`, { cause: err })
  }
  return parseConfigText(text, path)
}

async function readBounded (handle: FileHandle, path: string, signal: AbortSignal | undefined): Promise<Uint8Array> {
  const buffer = new Uint8Array(CONFIG_FILE_BYTES_MAX + 1)
  let filled = 0
  while (filled < buffer.byteLength) {
    signal?.throwIfAborted()
    let bytesRead: number
    try {
      ({ bytesRead } = await handle.read(buffer, filled, Math.min(READ_CHUNK_BYTES, buffer.byteLength - filled), null))
    } catch (err) {
      throw unreadableError(path, err)
    }
    if (bytesRead === 0) break
    filled += bytesRead
  }
  if (filled > CONFIG_FILE_BYTES_MAX) throw oversizedError(path)
  return buffer.subarray(0, filled)
}

/** Why a config file could not be read, and what to do about it. */
function unreadableError (path: string, err: unknown): ConfigError {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined
  const fix = code === 'ENOENT'
    ? 'it does not exist: check the path given to --config'
    : code === 'EACCES' || code === 'EPERM'
      ? 'permission denied: run as root or make it readable'
      : code === 'EISDIR'
        ? 'it is a directory: pass the config file itself'
        : `${err instanceof Error ? err.message : String(err)}: check the path given to --config`
  return new ConfigError('CLI_CONFIG', `cannot read config ${path}: ${fix}`, { cause: err })
}
