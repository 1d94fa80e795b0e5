import { constants as fsConstants } from 'node:fs'
import { access, chmod, mkdir, stat } from 'node:fs/promises'
import { StateDirError } from './errors.js'
import { STATE_DIR_FORBIDDEN_BITS, STATE_DIR_MODE } from './limits.js'

/** Something the state dir did or found that the operator should hear about, but can live with. */
export interface StateNotice {
  /** The file or dir concerned. */
  readonly path: string
  readonly message: string
}

/**
 * Makes `dir` a directory only its owner can enter (0700: it holds the node key, votes and
 * cluster secrets). A dir open to group or others is tightened, with a notice; a path that is not
 * a writable directory is 'STATE_DIR_UNUSABLE'.
 */
export async function prepareStateDirectory (dir: string): Promise<StateNotice[]> {
  const created = await mkdir(dir, { recursive: true, mode: STATE_DIR_MODE }).catch((err: unknown) => ({ err }))
  let mode: number
  try {
    const stats = await stat(dir)
    if (!stats.isDirectory()) throw unusable(dir, 'it exists but is not a directory')
    mode = stats.mode & 0o777
  } catch (err) {
    if (err instanceof StateDirError) throw err
    const cause = typeof created === 'object' ? created.err : err
    throw unusable(dir, `it cannot be created or read (${(cause as Error).message})`, cause)
  }
  const notices: StateNotice[] = []
  if ((mode & STATE_DIR_FORBIDDEN_BITS) !== 0) {
    try {
      await chmod(dir, STATE_DIR_MODE)
    } catch (err) {
      throw unusable(dir, `its mode ${octal(mode)} lets other users in and cannot be tightened (${(err as Error).message})`, err)
    }
    notices.push({
      path: dir,
      message: `the state dir had mode ${octal(mode)}, open to other users; tightened it to ${octal(STATE_DIR_MODE)} ` +
        'since it holds the node key and cluster secrets'
    })
  }
  try {
    await access(dir, fsConstants.W_OK | fsConstants.X_OK)
  } catch (err) {
    throw unusable(dir, `it is not writable (${(err as Error).message})`, err)
  }
  return notices
}

function octal (mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`
}

function unusable (dir: string, problem: string, cause?: unknown): StateDirError {
  return new StateDirError('STATE_DIR_UNUSABLE', dir,
    `cannot use ${dir} as the state dir: ${problem}. Pass --state-dir with a directory this user can write ` +
    '(it is created if missing)', cause === undefined ? undefined : { cause })
}
