import { readFileSync } from 'node:fs'

/** The version in this package's package.json (one level above both src/ and dist/). */
export function cliVersion (): string {
  const manifest: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  const version = typeof manifest === 'object' && manifest !== null && 'version' in manifest ? manifest.version : undefined
  if (typeof version !== 'string') throw new Error('the p2p-bootstrap package.json has no version string')
  return version
}
