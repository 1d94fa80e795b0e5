import type { MemberReport, StatusReport } from '@p2p-bootstrap/bootstrapper'
import { shortId } from '@p2p-bootstrap/bootstrapper'
import { formatDuration } from './human-log.js'

/** "1.2 s ago" / "3 min ago" / "never". */
function ago (ms: number | null): string {
  if (ms === null) return 'never'
  if (ms < 1_000) return 'now'
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s ago`
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`
  return `${Math.round(ms / 3_600_000)} h ago`
}

/** A host name as a peer published it, made safe for a terminal: control characters become '?'. */
function printable (text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
}

function table (header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map(row => row[column]?.length ?? 0)))
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

/** The role column: a retired node has none; a leaving one says so beside its role. */
function roleWords (member: MemberReport): string {
  if (member.retired === true) return 'retired'
  return `${member.role ?? '-'}${member.leaving === true ? ' (leaving)' : ''}`
}

function leaveLines (report: StatusReport): string[] {
  if (report.retiredAtEpoch !== undefined && report.retiredAtEpoch !== null) {
    return [`leaving: this node left the cluster; epoch ${report.retiredAtEpoch} retired it`]
  }
  return report.leaving === true ? ['leaving: this node asked to leave; it goes once a committed epoch retires it'] : []
}

type EpochRecord = NonNullable<StatusReport['history']>[number]

/**
 * Whom an epoch replaced or retired, in a few words. A plan carries every node ever replaced or
 * retired, so only those the previous epoch did not list are this epoch's doing.
 */
function changeWords (record: EpochRecord, previous: EpochRecord | undefined): string {
  const added = (now: readonly string[], before: readonly string[] = []): string[] => now.filter(id => !before.includes(id))
  const replaced = added(record.replaced, previous?.replaced)
  const retired = added(record.retired, previous?.retired)
  const parts = [
    replaced.length === 0 ? '' : `replaced ${replaced.map(shortId).join(', ')}`,
    retired.length === 0 ? '' : `retired ${retired.map(shortId).join(', ')}`
  ].filter(part => part !== '')
  return parts.length === 0 ? '-' : parts.join('; ')
}

/**
 * The epoch history, oldest first: when (by the recording node's clock, relative to this report),
 * who proposed, how many control planes voted, the control planes it made, whom it replaced or
 * retired, and why (the planner's notes, in full on the line below).
 */
function historyLines (report: StatusReport): string[] {
  const history = report.history ?? []
  if (history.length === 0) return []
  const rows = history.map((record, index) => [
    String(record.epoch),
    ago(Math.max(0, report.reportedAtMs - record.decidedAtMs)),
    shortId(record.proposer),
    String(record.voters.length),
    record.controlPlanes.map(shortId).join(', '),
    changeWords(record, history[index - 1]?.epoch === record.epoch - 1 ? history[index - 1] : undefined)
  ])
  const lines = ['', 'epochs:', table(['epoch', 'committed', 'proposer', 'votes', 'control planes', 'changed'], rows)]
  for (const record of history) {
    for (const note of record.notes) lines.push(`epoch ${record.epoch}: ${note.replace(new RegExp(`^epoch ${record.epoch}: `), '')}`)
  }
  return lines
}

/** The human view of `p2p-bootstrap status`: who is there, in which state, the plan and what is awaited. */
export function formatStatus (report: StatusReport): string {
  const rows = report.members.map(member => [
    member.state === 'self' ? `${shortId(member.nodeId)} (this)` : shortId(member.nodeId),
    member.nodeName ?? '-',
    member.hostname === undefined || member.hostname === null ? '-' : printable(member.hostname),
    member.address ?? '-',
    member.state,
    roleWords(member),
    member.phase ?? '-',
    member.state === 'self' ? '-' : ago(member.lastSeenAgoMs)
  ])
  const clusterName = report.clusterName ?? report.plan?.name ?? null
  const names = report.nodeName === undefined ? '' : ` (k3s node ${report.nodeName}, host ${printable(report.hostname ?? '-')})`
  const lines = [
    `node ${report.nodeId}${names}`,
    `cluster ${report.clusterId}${clusterName === null ? '' : ` (${clusterName})`}: ${report.phase}`,
    `waiting for: ${report.waitingFor}`,
    ...leaveLines(report),
    '',
    // The k3s node name is what `kubectl get nodes` lists; the host name is what the machine calls itself.
    table(['node', 'k3s node', 'host', 'address', 'state', 'role', 'phase', 'last seen'], rows),
    ''
  ]
  if (report.plan === null) {
    const expect = report.expect === null ? 'no expected count (best effort: waits for the member set to settle)' : `expects ${report.expect} nodes`
    lines.push(`no plan yet; ${expect}, ${report.controlPlanes} control plane(s); proposer ${report.proposer === null ? '-' : shortId(report.proposer)}, ballot ${report.ballot ?? '-'}`)
  } else {
    const plan = report.plan
    lines.push(
      `plan epoch ${plan.epoch}: init ${shortId(plan.init)}; control planes ${plan.controlPlanes.map(shortId).join(', ')}; ` +
      `workers ${plan.workers.length === 0 ? '-' : plan.workers.map(shortId).join(', ')}${plan.vip === undefined ? '' : `; VIP ${plan.vip}`}`
    )
    for (const note of plan.notes) lines.push(`note: ${note}`)
    if (report.files.length > 0) lines.push(`output: ${report.files.join(', ')}`)
    // S8: an edited config never changes the plan; say what it does instead.
    for (const drift of report.configDrift ?? []) lines.push(`config differs from the plan: ${drift}`)
    if (report.planConflict !== undefined) lines.push(`CONFLICT: ${report.planConflict}`)
  }
  if (report.failoverDelayMs !== undefined) {
    lines.push(`fail-over delay: ${formatDuration(report.failoverDelayMs)} (a control plane dead this long is replaced by a live worker, in a new epoch)`)
  }
  lines.push(...historyLines(report))
  lines.push(`listening on ${report.addresses.join(' ')}; ${report.connections} connection(s)`)
  return `${lines.join('\n')}\n`
}
