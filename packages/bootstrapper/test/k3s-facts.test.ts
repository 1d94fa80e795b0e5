// Goal: the CA hash joiners pin is the one k3s itself put in its full server token, so a custom CA
// bundle (whose hash k3s takes over the root's DER, not the PEM file) works. Method: a k3s data dir
// written by hand: a CA bundle and a server/token whose hash is not the file's SHA-256.
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { readCaHash } from '../src/apply/k3s-facts.js'

const DATA_DIR = '/var/lib/rancher/k3s'
const dirs: string[] = []

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

async function dataDir (files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'k3s-facts-'))
  dirs.push(root)
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, DATA_DIR, path, '..'), { recursive: true })
    await writeFile(join(root, DATA_DIR, path), content)
  }
  return root
}

describe('readCaHash', () => {
  it('takes the hash from k3s\' server/token, not from the CA file (a custom CA bundle)', async () => {
    const bundle = '-----BEGIN CERTIFICATE-----\nintermediate\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n'
    const rootDer = createHash('sha256').update('the root certificate, DER').digest('hex')
    const root = await dataDir({ 'server/tls/server-ca.crt': bundle, 'server/token': `K10${rootDer}::server:s3cret\n` })
    const hash = await readCaHash(root, DATA_DIR)
    expect(hash).toBe(rootDer)
    expect(hash).not.toBe(createHash('sha256').update(bundle).digest('hex'))
  })

  it('is undefined while k3s has not written its token, even if the CA is there', async () => {
    const root = await dataDir({ 'server/tls/server-ca.crt': 'ca' })
    expect(await readCaHash(root, DATA_DIR)).toBeUndefined()
  })

  it.each([
    ['a short token', 's3cret'],
    ['an agent token', `K10${'a'.repeat(64)}::node:s3cret`],
    ['a hash of the wrong length', `K10${'a'.repeat(63)}::server:s3cret`]
  ])('refuses %s, naming the file', async (_what, content) => {
    const root = await dataDir({ 'server/token': content })
    await expect(readCaHash(root, DATA_DIR)).rejects.toThrow(/server\/token is not in k3s' K10<CA hash>::server:<secret> form/)
  })
})
