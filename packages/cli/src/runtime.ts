import { isSea } from 'node:sea'

/**
 * The arguments that make `process.execPath` run this CLI again, before the CLI's own arguments.
 * Under Node that is the bin script (`scriptPath`); inside the single executable built by
 * `npm run build:binary`, `process.execPath` is the CLI itself and takes no script, and
 * `scriptPath` would name a file that is not there.
 */
export function cliEntryArgs (scriptPath: string): string[] {
  return isSea() ? [] : [scriptPath]
}
