import type { StatusReport } from '@p2p-bootstrap/bootstrapper'
import { shortId } from '@p2p-bootstrap/bootstrapper'

/** "1.2 s ago" / "3 min ago" / "never". */
function ago (ms: number | null): string {
  if (ms === null) return 'never'
  if (ms < 1_000) return 'now'
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s ago`
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`
  return `${Math.round(ms / 3_600_000)} h ago`
}

function table (header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map(row => row[column]?.length ?? 0)))
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

/** The human view of `p2p-bootstrap status`: who is there, in which state, the plan and what is awaited. */
export function formatStatus (report: StatusReport): string {
  const rows = report.members.map(member => [
    member.state === 'self' ? `${shortId(member.nodeId)} (this)` : shortId(member.nodeId),
    member.address ?? '-',
    member.state,
    member.role ?? '-',
    member.phase ?? '-',
    member.state === 'self' ? '-' : ago(member.lastSeenAgoMs)
  ])
  const lines = [
    `node ${report.nodeId}`,
    `cluster ${report.clusterId}${report.plan?.name === undefined ? '' : ` (${report.plan.name})`}: ${report.phase}`,
    `waiting for: ${report.waitingFor}`,
    '',
    table(['node', 'address', 'state', 'role', 'phase', 'last seen'], rows),
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
  }
  lines.push(`listening on ${report.addresses.join(' ')}; ${report.connections} connection(s)`)
  return `${lines.join('\n')}\n`
}
