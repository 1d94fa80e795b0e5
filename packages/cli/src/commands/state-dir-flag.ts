// The help text of `--state-dir` for the commands that ask a running agent. The default itself
// (DEFAULT_STATE_DIR) is applied when the command runs, from the bootstrapper, which is loaded
// only then: the command tree is built for every invocation, `--version` included.

/** Must name the bootstrapper's DEFAULT_STATE_DIR (a test checks that it does). */
export const STATE_DIR_HELP = '(default /var/lib/p2p-bootstrap)'
