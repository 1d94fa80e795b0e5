import { constants as fsConstants } from 'node:fs'
import { open, rename, unlink } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { basename, dirname, join } from 'node:path'
import { StateDirError } from './errors.js'
import { STATE_FILE_MODE } from './limits.js'

export interface WriteFileAtomicOptions {
  /** Mode of the new file, applied whatever the umask; default 0o600. */
  readonly mode?: number
  readonly signal?: AbortSignal
}

/** Characters of the target's name kept in a temp file's name, so the temp name stays short. */
const TEMP_NAME_STEM_CHARS = 64

/**
 * Replaces `path` with `data` so that a crash leaves either the old file or the new one, never a
 * mix: a uniquely named temp file in the same dir (same file system, so the rename is atomic) is
 * written and fsynced, renamed over the target, then the dir is fsynced so the rename survives a
 * power cut. On any failure before the rename the temp file is removed and the target untouched.
 * Failures are `StateDirError` 'STATE_WRITE_FAILED'; an abort rethrows the signal's reason.
 */
export async function writeFileAtomic (
  path: string,
  data: Uint8Array | string,
  options: WriteFileAtomicOptions = {}
): Promise<void> {
  const { mode = STATE_FILE_MODE, signal } = options
  signal?.throwIfAborted()
  const directory = dirname(path)
  const stem = basename(path).slice(0, TEMP_NAME_STEM_CHARS)
  const temporaryPath = join(directory, `.${stem}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  let renamed = false
  try {
    const file = await open(temporaryPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, mode)
    try {
      // The umask may have cleared bits the caller asked for.
      await file.chmod(mode)
      await file.writeFile(data, signal === undefined ? {} : { signal })
      await file.sync()
    } finally {
      await file.close()
    }
    signal?.throwIfAborted()
    await rename(temporaryPath, path)
    renamed = true
    await syncDirectory(directory)
  } catch (err) {
    if (!renamed) await unlink(temporaryPath).catch(() => undefined)
    if (signal?.aborted === true) throw signal.reason
    const stage = renamed ? 'the new file is in place but its directory could not be synced' : 'the old file is unchanged'
    throw new StateDirError('STATE_WRITE_FAILED', path,
      `cannot write ${path}: ${(err as Error).message} (${stage}); check free space and that ${directory} is a writable directory`,
      { cause: err })
  }
}

/** fsyncs a directory, so names created, renamed or removed in it survive a power cut. */
export async function syncDirectory (directory: string): Promise<void> {
  const handle = await open(directory, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY)
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
