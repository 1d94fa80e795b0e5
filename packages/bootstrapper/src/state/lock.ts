import { constants as fsConstants } from 'node:fs'
import { link, open, readFile, unlink } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { errnoCode, StateDirError } from './errors.js'
import { LOCK_ATTEMPTS_MAX, LOCK_FILE_BYTES_MAX, STATE_FILE_MODE } from './limits.js'

/**
 * One agent per state dir: two agents on one dir would interleave votes in one log. The lock is
 * a file created only if absent, holding the owner's pid, the machine's boot id and a nonce:
 *
 *   4242
 *   6f1c...-boot-id
 *   9a3e51c2d0b47f18
 *
 * A lock is stale, and taken over, when its pid is dead, when it was written before a reboot
 * (the pid may now belong to another program), when it is our own pid but not held by this
 * process (containers restart the agent as the same pid), or when it cannot be read. Two agents
 * taking over the same stale lock at the same instant is not excluded; the lock guards against
 * an operator starting a second agent, not against that race.
 */
export interface StateLock {
  readonly path: string
  readonly pid: number
  readonly nonce: string
}

/** Lock paths this process holds: a second open in the same process must fail, not take over. */
const heldPaths = new Set<string>()

const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id'

type Holder =
  | { readonly state: 'gone' }
  | { readonly state: 'unreadable' }
  | { readonly state: 'present', readonly pid: number, readonly bootId: string, readonly nonce: string }

/** Takes the lock at `path`, or throws 'STATE_LOCKED' naming the live holder. */
export async function acquireLock (path: string): Promise<StateLock> {
  const bootId = await currentBootId()
  const nonce = randomBytes(8).toString('hex')
  const lock: StateLock = { path, pid: process.pid, nonce }
  for (let attempt = 1; attempt <= LOCK_ATTEMPTS_MAX; attempt++) {
    if (await createLockFile(path, `${process.pid}\n${bootId}\n${nonce}\n`)) {
      heldPaths.add(path)
      return lock
    }
    const holder = await readHolder(path)
    if (holder.state === 'present' && !isStale(path, holder, bootId)) throw lockedError(path, holder.pid)
    if (holder.state !== 'gone') await removeStaleLock(path)
  }
  throw new StateDirError('STATE_LOCKED', path,
    `could not take the lock ${path} after ${LOCK_ATTEMPTS_MAX} attempts: another agent keeps creating it. ` +
    'Stop the other agent, or give this one its own --state-dir')
}

/** Removes the lock if it is still ours (a later agent may have taken over a lock it saw as stale). */
export async function releaseLock (lock: StateLock): Promise<void> {
  heldPaths.delete(lock.path)
  const holder = await readHolder(lock.path)
  if (holder.state !== 'present' || holder.pid !== lock.pid || holder.nonce !== lock.nonce) return
  await unlink(lock.path).catch((err: unknown) => {
    if (errnoCode(err) !== 'ENOENT') throw err
  })
}

/**
 * Creates the lock with its whole content at once (temp file, then `link`, which fails if the
 * name exists), so no reader ever sees a half-written lock and mistakes it for a stale one.
 */
async function createLockFile (path: string, content: string): Promise<boolean> {
  const temporaryPath = join(dirname(path), `.agent.lock.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    const file = await open(temporaryPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, STATE_FILE_MODE)
    try {
      await file.writeFile(content)
    } finally {
      await file.close()
    }
    await link(temporaryPath, path)
    return true
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false
    throw new StateDirError('STATE_DIR_UNUSABLE', dirname(path),
      `cannot create the lock file ${path}: ${(err as Error).message}; pass --state-dir with a writable directory`, { cause: err })
  } finally {
    await unlink(temporaryPath).catch(() => undefined)
  }
}

async function readHolder (path: string): Promise<Holder> {
  let text: string
  try {
    const file = await open(path, fsConstants.O_RDONLY)
    try {
      const buffer = Buffer.alloc(LOCK_FILE_BYTES_MAX)
      const { bytesRead } = await file.read(buffer, 0, LOCK_FILE_BYTES_MAX, 0)
      text = buffer.subarray(0, bytesRead).toString('utf8')
    } finally {
      await file.close()
    }
  } catch (err) {
    return errnoCode(err) === 'ENOENT' ? { state: 'gone' } : { state: 'unreadable' }
  }
  const [pidText = '', bootId = '', nonce = ''] = text.split('\n')
  const pid = /^[1-9][0-9]{0,9}$/.test(pidText) ? Number(pidText) : NaN
  if (!Number.isSafeInteger(pid)) return { state: 'unreadable' }
  return { state: 'present', pid, bootId, nonce }
}

function isStale (path: string, holder: { pid: number, bootId: string }, bootId: string): boolean {
  if (holder.bootId !== '' && bootId !== '' && holder.bootId !== bootId) return true
  if (holder.pid === process.pid) return !heldPaths.has(path)
  return !isAlive(holder.pid)
}

/** Signal 0 checks existence only; EPERM means the process exists but belongs to another user. */
function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return errnoCode(err) !== 'ESRCH'
  }
}

async function removeStaleLock (path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return
    throw new StateDirError('STATE_DIR_UNUSABLE', dirname(path),
      `cannot remove the stale lock ${path}: ${(err as Error).message}; remove it by hand or pass --state-dir with a writable directory`,
      { cause: err })
  }
}

/** The kernel's id of this boot, or '' where there is none (not Linux). */
async function currentBootId (): Promise<string> {
  try {
    return (await readFile(BOOT_ID_PATH, 'utf8')).trim()
  } catch {
    return ''
  }
}

function lockedError (path: string, pid: number): StateDirError {
  const where = pid === process.pid ? 'this same process (the state dir is already open)' : `process ${pid}`
  return new StateDirError('STATE_LOCKED', path,
    `the state dir is locked by ${where}: ${path}. Stop the other agent, or give this one its own --state-dir; ` +
    `if no agent runs as pid ${pid}, delete ${path}`)
}
