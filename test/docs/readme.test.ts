// Goal: the README reads in the order a newcomer needs (what it is and a picture of the flow,
// then the two commands, then the quick start; the reference lives in docs/), says nothing that
// another part contradicts (the known case: replacing a dead server "is not built yet", while
// docs/operations.md describes it), and every relative link in it and in docs/ leads to a file
// and heading that exist. Method: read the Markdown as text; headings become anchors the way
// GitHub makes them.
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const README = join(ROOT, 'README.md')
const DOCS = join(ROOT, 'docs')

async function markdownFiles (): Promise<string[]> {
  const docs = (await readdir(DOCS)).filter(name => name.endsWith('.md')).map(name => join(DOCS, name))
  return [README, ...docs]
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf (heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-')
}

function anchorsIn (text: string): Set<string> {
  const anchors = new Set<string>()
  let inCode = false
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) inCode = !inCode
    const heading = /^#{1,6} (.+)$/.exec(line)
    if (!inCode && heading?.[1] !== undefined) anchors.add(anchorOf(heading[1]))
  }
  return anchors
}

/** Relative Markdown links outside code blocks: [label](target). */
function linksIn (text: string): string[] {
  const withoutCode = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '')
  return [...withoutCode.matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)].map(match => match[1] ?? '').filter(target => !/^[a-z]+:/.test(target))
}

describe('README', () => {
  it('opens with what it is and the picture of the flow, then the two commands, then the quick start', async () => {
    const text = await readFile(README, 'utf8')
    const picture = text.indexOf('](docs/flow.svg)')
    const firstCommands = text.indexOf('```sh\nnpm ci && npm start')
    const quickStart = text.indexOf('## Quick start on real machines')
    expect(picture).toBeGreaterThan(text.indexOf('turns a fleet of freshly booted machines'))
    expect(firstCommands).toBeGreaterThan(picture)
    expect(quickStart).toBeGreaterThan(firstCommands)
    // The two commands are the first ones, and stay true.
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(text)?.[1] ?? ''
    expect(firstBlock.split('\n').filter(line => line !== '').map(line => line.replace(/\s+#.*$/, ''))).toEqual(['npm ci && npm start', 'npm ci && npm test'])
    // The reference is in docs/, not here.
    expect(text).not.toMatch(/^### `run` flags$/m)
    expect(text).not.toMatch(/^## Configuration$/m)
  })

  it('shows the six steps in its picture', async () => {
    const svg = await readFile(join(DOCS, 'flow.svg'), 'utf8')
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    const steps = [...svg.matchAll(/<text class="step"[^>]*>([^<]+)<\/text>/g)].map(match => match[1])
    expect(steps).toEqual(['1. boot', '2. find peers', '3. vote', '4. plan', '5. servers join', '6. workers join'])
  })

  it('says nowhere that something built is not built (replacing a dead server)', async () => {
    for (const file of await markdownFiles()) {
      const text = await readFile(file, 'utf8')
      expect(text, relative(ROOT, file)).not.toMatch(/not built yet|what is not yet/i)
    }
    const operations = await readFile(join(DOCS, 'operations.md'), 'utf8')
    expect(operations).toContain('replaced')
    const troubleshooting = await readFile(join(DOCS, 'troubleshooting.md'), 'utf8')
    expect(troubleshooting).toContain('a live worker takes its place')
  })

  it('links only to files and headings that exist', async () => {
    const broken: string[] = []
    for (const file of await markdownFiles()) {
      for (const target of linksIn(await readFile(file, 'utf8'))) {
        const [path = '', anchor] = target.split('#')
        const linked = path === '' ? file : join(dirname(file), path)
        if (!existsSync(linked)) {
          broken.push(`${relative(ROOT, file)}: ${target} (no such file)`)
        } else if (anchor !== undefined && linked.endsWith('.md') && !anchorsIn(await readFile(linked, 'utf8')).has(anchor)) {
          broken.push(`${relative(ROOT, file)}: ${target} (no such heading)`)
        }
      }
    }
    expect(broken).toEqual([])
  })
})
