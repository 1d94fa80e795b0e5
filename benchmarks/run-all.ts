// `npm run bench`: every benchmark in turn, each in its own process (so one's memory and CPU do not
// skew the next), then the results section of benchmarks/README.md is rewritten. `--quick` is
// passed through: fewer runs and sizes, for a smoke run. `--only a,b` runs a subset.
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { updateReadme } from './lib/readme.js'

/** In README order. Each is `benchmarks/<name>.ts` and writes `results/<name>.json`. */
export const BENCHMARKS = ['formation', 'formation-netns', 'failure', 'idle', 'memory', 'footprint', 'floods', 'sim-scale', 'crypto'] as const

const HERE = dirname(fileURLToPath(import.meta.url))

async function runOne (name: string, args: readonly string[]): Promise<number | null> {
  const child = spawn(process.execPath, [...process.execArgv, join(HERE, `${name}.ts`), ...args], { stdio: 'inherit' })
  return await new Promise((resolve) => { child.once('close', resolve) })
}

const args = process.argv.slice(2)
const onlyIndex = args.indexOf('--only')
const only = onlyIndex === -1 ? null : (args[onlyIndex + 1] ?? '').split(',')
const passThrough = args.filter((arg, index) => onlyIndex === -1 || (index !== onlyIndex && index !== onlyIndex + 1))
const failed: string[] = []
for (const name of BENCHMARKS) {
  if (only !== null && !only.includes(name)) continue
  process.stdout.write(`\n=== benchmark ${name} ===\n`)
  const status = await runOne(name, passThrough)
  if (status !== 0) failed.push(`${name} (exit ${String(status)})`)
}
await updateReadme(BENCHMARKS)
process.stdout.write(`\nbenchmarks/README.md updated${failed.length === 0 ? '' : `; failed: ${failed.join(', ')}`}\n`)
process.exitCode = failed.length === 0 ? 0 : 1
