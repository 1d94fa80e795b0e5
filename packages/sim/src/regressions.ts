import { readFileSync } from 'node:fs'
import { SimError } from './errors.js'
import { SCENARIO_NAMES } from './scenarios.js'

/** A seed that once failed, kept so it runs on every test run (`packages/sim/regressions.json`). */
export interface Regression {
  readonly scenario: string
  readonly seed: number
  readonly nodes: number
  /** What went wrong and which change fixed it. */
  readonly note: string
}

/** The package's regression file, next to `src/` and `dist/` alike. */
export const REGRESSIONS_URL = new URL('../regressions.json', import.meta.url)

/** Checks the file's shape entry by entry, naming the first bad field. */
export function parseRegressions (value: unknown, source: string): Regression[] {
  const fail = (why: string): never => {
    throw new SimError('SIM_BAD_REGRESSIONS', `${source}: ${why}; each entry is { "scenario", "seed", "nodes", "note" }`)
  }
  if (!Array.isArray(value)) return fail('the file must hold a JSON array')
  return value.map((entry: unknown, index): Regression => {
    if (typeof entry !== 'object' || entry === null) return fail(`entry ${index} is not an object`)
    const { scenario, seed, nodes, note } = entry as Record<string, unknown>
    if (typeof scenario !== 'string' || !SCENARIO_NAMES.includes(scenario)) return fail(`entry ${index} has unknown scenario ${JSON.stringify(scenario)}`)
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) return fail(`entry ${index} has a bad seed ${JSON.stringify(seed)}`)
    if (typeof nodes !== 'number' || !Number.isSafeInteger(nodes) || nodes < 1) return fail(`entry ${index} has a bad node count ${JSON.stringify(nodes)}`)
    if (typeof note !== 'string' || note.length === 0) return fail(`entry ${index} needs a note saying what failed`)
    return { scenario, seed, nodes, note }
  })
}

export function loadRegressions (url: URL = REGRESSIONS_URL): Regression[] {
  let text: string
  try {
    text = readFileSync(url, 'utf8')
  } catch (error) {
    throw new SimError('SIM_BAD_REGRESSIONS', `cannot read ${url.pathname}: ${(error as Error).message}`, { cause: error })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new SimError('SIM_BAD_REGRESSIONS', `${url.pathname} is not JSON: ${(error as Error).message}`, { cause: error })
  }
  return parseRegressions(value, url.pathname)
}
