// Goal: the core stays pure (DESIGN.md): no clock, network, disk, timers or process state in
// packages/core/src, so every run of the simulator replays exactly. The core compiles with Node's
// types only for node:crypto (native Ed25519), so this guard is what keeps the rest of Node out.
// Method: read every source file and look for the globals and modules the core must not touch.
import { readFile, readdir } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SRC = fileURLToPath(new URL('../src', import.meta.url))
/** The one Node module the core may import, and the file allowed to import it. */
const ALLOWED_NODE_IMPORTS = new Map([['node:crypto', 'ed25519.ts']])
const FORBIDDEN = [
  /\bDate\.now\s*\(/, /\bnew Date\s*\(\s*\)/, /\bperformance\.now\s*\(/, /\bsetTimeout\s*\(/, /\bsetInterval\s*\(/,
  /\bsetImmediate\s*\(/, /\bprocess\./, /\bMath\.random\s*\(/, /\brequire\s*\(/
]

async function sourceFiles (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  const nested = await Promise.all(entries.map(async (entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return await sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  }))
  return nested.flat()
}

/** Source without comments, so a comment may name what the code must not do. */
function code (text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
}

describe('the pure core', () => {
  it('imports no Node module but node:crypto, and that only for Ed25519', async () => {
    const files = await sourceFiles(SRC)
    expect(files.length).toBeGreaterThan(20)
    const offending: string[] = []
    for (const file of files) {
      const name = relative(SRC, file)
      for (const match of code(await readFile(file, 'utf8')).matchAll(/from\s+'((?:node:)?[a-z_]+)(?:\/[^']*)?'/g)) {
        const module = match[1] ?? ''
        const builtin = module.startsWith('node:') || ['fs', 'net', 'os', 'crypto', 'dgram', 'child_process', 'http', 'https', 'timers', 'worker_threads'].includes(module)
        if (builtin && ALLOWED_NODE_IMPORTS.get(module) !== name) offending.push(`${name}: ${module}`)
      }
    }
    expect(offending).toEqual([])
  })

  it('reads no clock, sets no timer and touches no process state', async () => {
    const offending: string[] = []
    for (const file of await sourceFiles(SRC)) {
      const text = code(await readFile(file, 'utf8'))
      for (const pattern of FORBIDDEN) if (pattern.test(text)) offending.push(`${relative(SRC, file)}: ${pattern.source}`)
    }
    expect(offending).toEqual([])
  })
})
