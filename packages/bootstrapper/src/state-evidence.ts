import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { CONFIG_PATH, DATA_DIR_DEFAULT, LABEL_PREFIX } from '@p2p-bootstrap/k3s'
import { APPLY_RECORD_FILE } from './apply/apply-record.js'
import { BootstrapperError } from './errors.js'
import { CONSENSUS_LOG_NAME, IDENTITY_FILE_NAME, LEDGER_LOG_NAME } from './state/index.js'

/**
 * Lost state, kept evidence (issue 15 finding 7). Before the agent opens its identity and logs it
 * looks at what the machine holds. A lost file beside the others is refused like a damaged one,
 * with the file named and what to do; a machine that shows a committed plan its logs no longer
 * show never takes part in a first bootstrap (S1): it learns the plan from its peers.
 */

/** The plan file the agent writes for operators once a plan is committed (state dir). */
export const COMMITTED_PLAN_FILE = 'plan.json'

export interface StateEvidence {
  readonly identityKey: boolean
  /** consensus.log with at least one record: every start writes one (the boot count). */
  readonly consensusLog: boolean
  readonly ledgerLog: boolean
  /** Files that only exist once this machine took part in a committed plan, as absolute paths. */
  readonly committed: readonly string[]
}

async function nonEmpty (path: string): Promise<boolean> {
  return await stat(path).then((info) => info.size > 0, () => false)
}

async function exists (path: string): Promise<boolean> {
  return await stat(path).then(() => true, () => false)
}

/** A k3s config this agent rendered: it carries our node labels (a k3s config of another origin does not count). */
async function renderedByUs (path: string): Promise<boolean> {
  const text = await readFile(path, 'utf8').catch(() => '')
  return text.includes(LABEL_PREFIX)
}

/** What the state dir and the machine (under `root`) hold. */
export async function gatherEvidence (stateDir: string, root: string): Promise<StateEvidence> {
  const candidates = [
    join(stateDir, COMMITTED_PLAN_FILE),
    join(stateDir, APPLY_RECORD_FILE),
    join(root, DATA_DIR_DEFAULT, 'server', 'db')
  ]
  const committed: string[] = []
  for (const path of candidates) if (await exists(path)) committed.push(path)
  const config = join(root, CONFIG_PATH)
  if (await renderedByUs(config)) committed.push(config)
  return {
    identityKey: await exists(join(stateDir, IDENTITY_FILE_NAME)),
    consensusLog: await nonEmpty(join(stateDir, CONSENSUS_LOG_NAME)),
    ledgerLog: await nonEmpty(join(stateDir, LEDGER_LOG_NAME)),
    committed
  }
}

/**
 * The refusal for a state dir that lost one part of itself, or null. A missing consensus.log
 * beside other state is as bad as a damaged one (the node could vote twice, S2); a missing
 * identity.key beside old logs would start a new node on top of another node's votes.
 */
export function missingStateProblem (stateDir: string, evidence: StateEvidence): BootstrapperError | null {
  const consensusPath = join(stateDir, CONSENSUS_LOG_NAME)
  const identityPath = join(stateDir, IDENTITY_FILE_NAME)
  if (!evidence.identityKey && (evidence.consensusLog || evidence.ledgerLog)) {
    return new BootstrapperError('BOOTSTRAP_STATE_INCOMPLETE',
      `${identityPath} is missing but ${evidence.consensusLog ? consensusPath : join(stateDir, LEDGER_LOG_NAME)} of an earlier node is there: ` +
      'a new identity would start a second node on top of the old node\'s votes. Restore identity.key from a backup; ' +
      `if this machine must join as a new node, move the whole state dir ${stateDir} away first (the cluster then counts a new member)`,
      { fatal: true })
  }
  if (evidence.identityKey && !evidence.consensusLog && (evidence.ledgerLog || evidence.committed.length > 0)) {
    const beside = evidence.ledgerLog ? join(stateDir, LEDGER_LOG_NAME) : evidence.committed.join(', ')
    return new BootstrapperError('BOOTSTRAP_STATE_INCOMPLETE',
      `${consensusPath} is missing or empty beside ${beside}: it holds this node's promises and votes, and starting without it ` +
      'could let it vote twice. Restore it from a backup. If the cluster has committed its plan (check `p2p-bootstrap status` on ' +
      `another node) and this node must rejoin, move the whole state dir ${stateDir} away and start again: it joins as a new node ` +
      'and learns the plan from its peers',
      { fatal: true })
  }
  return null
}

/**
 * The sentence the core gets as `bootstrapBarred` when the machine shows a committed plan (its
 * plan file, applied record, rendered k3s config or k3s server data); undefined otherwise. A
 * node that restores the plan itself is not held back by it: the epoch is decided already.
 */
export function committedEvidence (evidence: StateEvidence): string | undefined {
  if (evidence.committed.length === 0) return undefined
  return `this machine shows evidence of a committed plan (${evidence.committed.join(', ')})`
}
