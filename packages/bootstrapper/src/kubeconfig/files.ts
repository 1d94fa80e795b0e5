import { constants as fsConstants } from 'node:fs'
import { lstat, open, readFile, unlink } from 'node:fs/promises'
import { writeFileAtomic } from '../state/atomic-write.js'
import { parseAdminPrivateKey } from './admin-key.js'
import type { AdminKey } from './admin-key.js'
import { KubeconfigError } from './errors.js'
import { ADMIN_KEY_FILE_BYTES_MAX } from './limits.js'

/** Files holding an admin key or a kubeconfig: owner read and write only. */
export const SECRET_FILE_MODE = 0o600

/** Bits that would let group or others read or change a key file. */
const SECRET_FILE_FORBIDDEN_BITS = 0o077

/**
 * Reads an admin private key file. Like ssh, it refuses a file that group or others may read: the
 * key may have leaked, and the fix (chmod, perhaps a new key) is the operator's call.
 */
export async function readAdminKeyFile (path: string, options: { signal?: AbortSignal } = {}): Promise<AdminKey> {
  options.signal?.throwIfAborted()
  let stats
  try {
    stats = await lstat(path)
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT'
    throw new KubeconfigError('KUBECONFIG_FILE', missing
      ? `no admin key file at ${path}: pass the file written by \`p2p-bootstrap kubeconfig keygen --out FILE\``
      : `cannot read admin key file ${path}: ${(err as Error).message}`, { cause: err })
  }
  if (!stats.isFile()) throw new KubeconfigError('KUBECONFIG_FILE', `admin key file ${path} is not a regular file: pass the key file itself`)
  if ((stats.mode & SECRET_FILE_FORBIDDEN_BITS) !== 0) {
    const mode = (stats.mode & 0o777).toString(8).padStart(4, '0')
    throw new KubeconfigError('KUBECONFIG_KEY_PERMISSIONS',
      `admin key file ${path} has mode ${mode}, open to other users: the key may have leaked. Run \`chmod 600 ${path}\` (and make a new key if others could read it)`)
  }
  if (stats.size > ADMIN_KEY_FILE_BYTES_MAX) {
    throw new KubeconfigError('KUBECONFIG_BAD_PRIVATE_KEY', `admin key file ${path} is ${stats.size} bytes, more than a key file's ${ADMIN_KEY_FILE_BYTES_MAX}: pass the file written by \`p2p-bootstrap kubeconfig keygen\``)
  }
  const text = await readFile(path, { encoding: 'utf8', ...(options.signal === undefined ? {} : { signal: options.signal }) }).catch((err: unknown) => {
    throw new KubeconfigError('KUBECONFIG_FILE', `cannot read admin key file ${path}: ${(err as Error).message}`, { cause: err })
  })
  try {
    return await parseAdminPrivateKey(text)
  } catch (err) {
    if (err instanceof KubeconfigError) throw new KubeconfigError(err.code, `admin key file ${path}: ${err.message}`, { cause: err })
    throw err
  }
}

/**
 * Writes a secret (a key, a kubeconfig) with mode 0600. Without `overwrite` an existing file is
 * never touched (`KUBECONFIG_FILE_EXISTS`): it may be the only copy of a key, or a kubeconfig with
 * other clusters in it. With `overwrite` the file is replaced atomically.
 */
export async function writeSecretFile (path: string, text: string, options: { overwrite?: boolean, signal?: AbortSignal } = {}): Promise<void> {
  options.signal?.throwIfAborted()
  if (options.overwrite === true) {
    await writeFileAtomic(path, text, { mode: SECRET_FILE_MODE, ...(options.signal === undefined ? {} : { signal: options.signal }) })
    return
  }
  let file
  try {
    file = await open(path, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, SECRET_FILE_MODE)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new KubeconfigError('KUBECONFIG_FILE_EXISTS', `${path} exists and was left as it is: pick another file, or pass --force to replace it`, { cause: err })
    }
    throw new KubeconfigError('KUBECONFIG_FILE', `cannot create ${path}: ${(err as Error).message}; check that its directory exists and is writable`, { cause: err })
  }
  try {
    try {
      await file.chmod(SECRET_FILE_MODE)
      await file.writeFile(text)
      await file.sync()
    } finally {
      await file.close()
    }
  } catch (err) {
    // A half-written key is worse than none: remove what this call created.
    await unlink(path).catch(() => undefined)
    throw new KubeconfigError('KUBECONFIG_FILE', `cannot write ${path}: ${(err as Error).message}; check free space`, { cause: err })
  }
}
