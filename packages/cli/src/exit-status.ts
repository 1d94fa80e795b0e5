import { P2pBootstrapError } from '@p2p-bootstrap/core/errors'
import type { TokenErrorCode } from '@p2p-bootstrap/core'
import type { BootstrapperErrorCode, KubeconfigErrorCode, StateDirErrorCode } from '@p2p-bootstrap/bootstrapper'
import type { IdentityFileErrorCode, OverlayErrorCode } from '@p2p-bootstrap/overlay'
import type { ConfigErrorCode } from './config/errors.js'
import { CommanderError } from 'commander'
import type { CliErrorCode } from './errors.js'

/** Exit statuses of the p2p-bootstrap command; scripts may branch on them. */
export const EXIT_STATUS = {
  ok: 0,
  internal: 1, // a bug: an error nobody planned for
  usage: 2, // unknown command or option, missing or invalid flag value
  badToken: 3, // the token could not be read
  failed: 4 // the command ran but could not reach its goal (a timeout, a broken invariant)
} as const

/** Every known error code and its exit status; a new code fails to compile until it is listed here. */
type KnownErrorCode =
  | TokenErrorCode | CliErrorCode | ConfigErrorCode | BootstrapperErrorCode | StateDirErrorCode
  | IdentityFileErrorCode | OverlayErrorCode | KubeconfigErrorCode

const exitStatusByCode: Record<KnownErrorCode, number> = {
  TOKEN_EMPTY: EXIT_STATUS.badToken,
  TOKEN_PREFIX: EXIT_STATUS.badToken,
  TOKEN_VERSION: EXIT_STATUS.badToken,
  TOKEN_BASE64: EXIT_STATUS.badToken,
  TOKEN_CHECKSUM: EXIT_STATUS.badToken,
  TOKEN_MALFORMED: EXIT_STATUS.badToken,
  TOKEN_FIELD: EXIT_STATUS.badToken,
  TOKEN_KAIROS: EXIT_STATUS.badToken,
  CLI_USAGE: EXIT_STATUS.usage,
  CLI_STDIN: EXIT_STATUS.usage,
  CLI_TIMEOUT: EXIT_STATUS.failed,
  CLI_DEMO: EXIT_STATUS.failed,
  CLI_INTERRUPTED: EXIT_STATUS.failed,
  CLI_CONFIG: EXIT_STATUS.usage,
  BOOTSTRAP_BAD_OPTION: EXIT_STATUS.usage,
  BOOTSTRAP_SHAPE_CONFLICT: EXIT_STATUS.usage,
  BOOTSTRAP_NOT_STARTED: EXIT_STATUS.internal,
  BOOTSTRAP_STOPPED: EXIT_STATUS.failed,
  BOOTSTRAP_STORAGE_FAILED: EXIT_STATUS.failed,
  BOOTSTRAP_INVARIANT_FAILED: EXIT_STATUS.internal,
  BOOTSTRAP_APPLY_FAILED: EXIT_STATUS.failed,
  BOOTSTRAP_RENDER_FAILED: EXIT_STATUS.failed,
  BOOTSTRAP_CONFIG_MISMATCH: EXIT_STATUS.usage,
  BOOTSTRAP_START_FAILED: EXIT_STATUS.failed,
  BOOTSTRAP_HOOK_FAILED: EXIT_STATUS.failed,
  BOOTSTRAP_FRAME_REJECTED: EXIT_STATUS.failed,
  BOOTSTRAP_LEDGER_REJECTED: EXIT_STATUS.failed,
  BOOTSTRAP_PEER_PENALISED: EXIT_STATUS.failed,
  BOOTSTRAP_BACKLOG_FULL: EXIT_STATUS.failed,
  BOOTSTRAP_EQUIVOCATION: EXIT_STATUS.failed,
  BOOTSTRAP_SHAPE_MISMATCH: EXIT_STATUS.failed,
  BOOTSTRAP_SHAPE_DRIFT: EXIT_STATUS.failed,
  BOOTSTRAP_VOTE_REFUSED: EXIT_STATUS.failed,
  BOOTSTRAP_STATE_INCOMPLETE: EXIT_STATUS.failed,
  BOOTSTRAP_STATUS_SOCKET: EXIT_STATUS.failed,
  BOOTSTRAP_NO_PLAN: EXIT_STATUS.failed,
  BOOTSTRAP_ABORTED: EXIT_STATUS.failed,
  KUBECONFIG_BAD_ADMIN_KEY: EXIT_STATUS.usage,
  KUBECONFIG_BAD_PRIVATE_KEY: EXIT_STATUS.usage,
  KUBECONFIG_KEY_PERMISSIONS: EXIT_STATUS.failed,
  KUBECONFIG_BAD_SERVER_URL: EXIT_STATUS.usage,
  KUBECONFIG_INVALID: EXIT_STATUS.failed,
  KUBECONFIG_OVERSIZED: EXIT_STATUS.failed,
  KUBECONFIG_MALFORMED: EXIT_STATUS.failed,
  KUBECONFIG_NOT_SEALED_TO_KEY: EXIT_STATUS.failed,
  KUBECONFIG_DAMAGED: EXIT_STATUS.failed,
  KUBECONFIG_NOT_PUBLISHED: EXIT_STATUS.failed,
  KUBECONFIG_FILE_EXISTS: EXIT_STATUS.usage,
  KUBECONFIG_FILE: EXIT_STATUS.failed,
  STATE_DIR_UNUSABLE: EXIT_STATUS.failed,
  STATE_LOCKED: EXIT_STATUS.failed,
  STATE_VOTES_CORRUPT: EXIT_STATUS.failed,
  STATE_READ_FAILED: EXIT_STATUS.failed,
  STATE_WRITE_FAILED: EXIT_STATUS.failed,
  STATE_RECORD_INVALID: EXIT_STATUS.internal,
  STATE_BAD_NAME: EXIT_STATUS.internal,
  IDENTITY_CORRUPT: EXIT_STATUS.failed,
  IDENTITY_PERMISSIONS: EXIT_STATUS.failed,
  IDENTITY_UNREADABLE: EXIT_STATUS.failed,
  IDENTITY_WRITE_FAILED: EXIT_STATUS.failed,
  OVERLAY_BAD_OPTION: EXIT_STATUS.usage,
  OVERLAY_NOT_STARTED: EXIT_STATUS.internal,
  OVERLAY_HANDSHAKE_REFUSED: EXIT_STATUS.failed,
  OVERLAY_DIAL_FAILED: EXIT_STATUS.failed
}

/** Commander printed help: on request (its exit code 0), or because a command was incomplete. */
const commanderHelpCodes: readonly string[] = ['commander.help', 'commander.helpDisplayed', 'commander.version']

export interface ErrorReport {
  /** One line for stderr, or undefined when commander already printed what the user needs. */
  readonly line?: string
  readonly exitStatus: number
}

/** How to report an error that reached `main`: one line and an exit status. */
export function reportFor (error: unknown): ErrorReport {
  if (error instanceof CommanderError) {
    if (commanderHelpCodes.includes(error.code)) {
      // The help or version text is out already; no error line to add.
      return { exitStatus: error.exitCode === 0 ? EXIT_STATUS.ok : EXIT_STATUS.usage }
    }
    return { line: oneLine(error.message.replace(/^error: /, '')), exitStatus: EXIT_STATUS.usage }
  }
  if (error instanceof P2pBootstrapError) {
    const status = (exitStatusByCode as Record<string, number | undefined>)[error.code]
    return { line: oneLine(error.message), exitStatus: status ?? EXIT_STATUS.internal }
  }
  const message = error instanceof Error ? error.message : String(error)
  return { line: oneLine(`internal error: ${message}`), exitStatus: EXIT_STATUS.internal }
}

function oneLine (text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim()
}
