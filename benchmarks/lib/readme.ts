import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { MachineInfo } from './machine.js'
import { machineLine } from './machine.js'
import { markdownTable, RESULTS_DIR } from './report.js'
import type { BenchReport } from './report.js'

const README = join(RESULTS_DIR, '..', 'README.md')
const START = '<!-- results:start (written by `npm run bench`; edit the text around it, not inside) -->'
const END = '<!-- results:end -->'

type Written = BenchReport & { machine: MachineInfo, finishedAt: string, plot: string | null }

/** Rewrites the results section of benchmarks/README.md from every results/*.json, in `order`. */
export async function updateReadme (order: readonly string[]): Promise<void> {
  const files = (await readdir(RESULTS_DIR)).filter(file => file.endsWith('.json'))
  const reports: Written[] = []
  for (const file of files) reports.push(JSON.parse(await readFile(join(RESULTS_DIR, file), 'utf8')) as Written)
  const rank = (name: string): number => { const index = order.indexOf(name); return index === -1 ? order.length : index }
  reports.sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name))
  const section = reports.map(renderReport).join('\n\n')
  const text = await readFile(README, 'utf8')
  const start = text.indexOf(START)
  const end = text.indexOf(END)
  if (start === -1 || end === -1 || end < start) {
    throw new Error(`benchmarks/README.md lacks the results markers; put "${START}" and "${END}" where the results go`)
  }
  await writeFile(README, `${text.slice(0, start + START.length)}\n\n${section}\n\n${text.slice(end)}`)
}

function renderReport (report: Written): string {
  const lines = [
    `### ${report.title}${report.quick ? ' (quick run: not the numbers to quote)' : ''}`,
    '',
    `Measured ${report.finishedAt.slice(0, 16).replace('T', ' ')} UTC on ${machineLine(report.machine)}. ${report.method}`,
    ''
  ]
  if (report.plot !== null) lines.push(`![${report.title}](results/${report.plot})`, '')
  lines.push(markdownTable(report.columns, report.rows))
  if (report.targets.length > 0) {
    lines.push('', '| target | promised | measured | verdict |', '| --- | --- | --- | --- |')
    for (const target of report.targets) {
      const verdict = target.met === null ? `not measured${target.note === undefined ? '' : `: ${target.note}`}` : target.met ? 'met' : `**missed**${target.note === undefined ? '' : `: ${target.note}`}`
      lines.push(`| ${target.what} | ${target.target} | ${target.measured} | ${verdict} |`)
    }
  }
  if (report.notes.length > 0) lines.push('', ...report.notes.map(note => `* ${note}`))
  return lines.join('\n')
}
