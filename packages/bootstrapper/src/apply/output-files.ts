import { createHash } from 'node:crypto'
import { mkdir, readFile, stat } from 'node:fs/promises'
import { dirname, isAbsolute, join } from 'node:path'
import type { RenderedFile } from '@p2p-bootstrap/k3s'
import { BootstrapperError } from '../errors.js'
import { writeFileAtomic } from '../state/atomic-write.js'

/** SHA-256 over every file's path, mode and bytes: equal hashes, equal output. */
export function filesHash (files: readonly RenderedFile[]): string {
  const hash = createHash('sha256')
  for (const file of files) {
    hash.update(`${file.path}\0${file.mode.toString(8)}\0${Buffer.byteLength(file.content)}\0`)
    hash.update(file.content)
  }
  return hash.digest('hex')
}

/** Where `file` lands under `root`. */
export function pathUnder (root: string, file: RenderedFile): string {
  if (!isAbsolute(file.path) || file.path.split('/').includes('..')) {
    throw new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `refusing to write ${JSON.stringify(file.path)}: output paths must be absolute without '..'`)
  }
  return join(root, file.path)
}

/**
 * Writes each file under `root` atomically with its mode (0600 for secrets, whatever the umask),
 * leaving alone a file that already holds the same bytes and mode. Returns the paths, and whether
 * anything changed.
 */
export async function writeOutputFiles (root: string, files: readonly RenderedFile[], signal: AbortSignal): Promise<{ paths: string[], changed: boolean }> {
  const targets = files.map(file => ({ file, path: pathUnder(root, file) }))
  let changed = false
  for (const { file, path } of targets) {
    if (await holds(path, file)) continue
    try {
      // Directories k3s reads (etc/rancher/k3s, the manifests folder) are not secret themselves.
      await mkdir(dirname(path), { recursive: true, mode: 0o755 })
      await writeFileAtomic(path, file.content, { mode: file.mode, signal })
    } catch (err) {
      if (signal.aborted) throw err
      throw new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `cannot write ${path}: ${(err as Error).message}; check that the root ${root} is writable and has free space`, { cause: err })
    }
    changed = true
  }
  return { paths: targets.map(target => target.path), changed }
}

async function holds (path: string, file: RenderedFile): Promise<boolean> {
  try {
    const [info, bytes] = await Promise.all([stat(path), readFile(path, 'utf8')])
    return (info.mode & 0o777) === file.mode && bytes === file.content
  } catch {
    return false
  }
}
