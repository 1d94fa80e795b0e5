// The first thing the installed command runs, before any module that needs a recent Node is
// loaded: on an older Node the CLI would die deep inside a dependency (libp2p v3 calls
// Promise.withResolvers, new in Node 22) with an "internal error" that names nothing the user can
// fix. Written in plain, old JavaScript so that any Node can parse it.

/** The oldest Node the CLI runs on; the same as `engines.node` in package.json. */
export const NODE_MAJOR_MIN = 22

/** Exit status for a Node that is too old: a usage problem the operator fixes, like a bad flag. */
export const NODE_TOO_OLD_EXIT_STATUS = 2

/**
 * The line to print when Node `version` (as in `process.version`, e.g. "v20.20.2") is too old for
 * the CLI, or undefined when it is recent enough.
 */
export function nodeTooOldMessage (version) {
  const major = Number(String(version).replace(/^v/, '').split('.')[0])
  if (Number.isInteger(major) && major >= NODE_MAJOR_MIN) return undefined
  return 'p2p-bootstrap needs Node \u2265 ' + NODE_MAJOR_MIN + ', found ' + version +
    ': install Node ' + NODE_MAJOR_MIN + ' or later, or use the single executable, which carries its own Node\n'
}
