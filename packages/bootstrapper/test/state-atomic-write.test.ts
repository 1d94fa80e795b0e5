// Goal: writeFileAtomic leaves either the old file or the new one, with the mode asked for, and no
// temp file behind, whatever fails.
// Method: real files in a fresh temporary dir per test; failures are made with a target that is a
// directory, a missing parent dir, and an aborted signal, and the bytes on disk checked after.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { writeFileAtomic } from '../src/state/atomic-write.js'
import { StateDirError } from '../src/state/errors.js'

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2pb-atomic-'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function writeFailure (path: string, data: string, options: Parameters<typeof writeFileAtomic>[2] = {}): Promise<unknown> {
  return await writeFileAtomic(path, data, options).then(() => undefined, (err: unknown) => err)
}

describe('writeFileAtomic', () => {
  it('creates a file with mode 0600 by default and replaces its content on the next write', async () => {
    const path = join(dir, 'plan.json')
    await writeFileAtomic(path, 'first')
    expect(await readFile(path, 'utf8')).toBe('first')
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]))
    expect(new Uint8Array(await readFile(path))).toEqual(new Uint8Array([1, 2, 3]))
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(await readdir(dir)).toEqual(['plan.json'])
  })

  it('gives the file exactly the mode asked for, whatever the umask', async () => {
    const path = join(dir, 'shared.txt')
    // 0666 is cut to 0644 by the usual umask of 022 unless the writer sets the mode itself.
    await writeFileAtomic(path, 'x', { mode: 0o666 })
    expect((await stat(path)).mode & 0o777).toBe(0o666)
    await writeFileAtomic(path, 'y', { mode: 0o640 })
    expect((await stat(path)).mode & 0o777).toBe(0o640)
  })

  it('leaves a directory at the target path as it was, and no temp file', async () => {
    const path = join(dir, 'taken')
    await mkdir(path)
    await writeFile(join(path, 'inside'), 'kept')
    const failure = await writeFailure(path, 'new')
    expect(failure).toBeInstanceOf(StateDirError)
    expect(failure).toMatchObject({ code: 'STATE_WRITE_FAILED', path })
    expect((failure as Error).message).toContain(path)
    expect(await readFile(join(path, 'inside'), 'utf8')).toBe('kept')
    expect(await readdir(dir)).toEqual(['taken'])
  })

  it('fails with STATE_WRITE_FAILED when the directory is gone', async () => {
    const path = join(dir, 'missing', 'file')
    const failure = await writeFailure(path, 'new')
    expect(failure).toMatchObject({ code: 'STATE_WRITE_FAILED', path })
    expect(await readdir(dir)).toEqual([])
  })

  it('stops on an aborted signal and leaves the old file untouched', async () => {
    const path = join(dir, 'plan.json')
    await writeFileAtomic(path, 'old')
    const controller = new AbortController()
    controller.abort(new Error('shutting down'))
    const failure = await writeFailure(path, 'new', { signal: controller.signal })
    expect((failure as Error).message).toBe('shutting down')
    expect(await readFile(path, 'utf8')).toBe('old')
    expect(await readdir(dir)).toEqual(['plan.json'])
  })
})
