import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as vega from 'vega'
import { compile } from 'vega-lite'
import type { TopLevelSpec } from 'vega-lite'
import { describeMachine, machineLine } from './machine.js'
import type { MachineInfo } from './machine.js'

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results')

export type Cell = string | number | null

/** One target of the issue, reported (never asserted): what was promised, what was measured. */
export interface TargetCheck {
  readonly what: string
  readonly target: string
  readonly measured: string
  /** null when it could not be measured here (say why in `note`). */
  readonly met: boolean | null
  readonly note?: string
}

/** Everything a benchmark reports; written as `results/<name>.json`. */
export interface BenchReport {
  readonly name: string
  readonly title: string
  /** What was measured and how, in a sentence or two (shown in the README). */
  readonly method: string
  readonly columns: readonly string[]
  readonly rows: ReadonlyArray<Readonly<Record<string, Cell>>>
  readonly targets: readonly TargetCheck[]
  /** Findings: where the time goes, what limits a missed target. */
  readonly notes: readonly string[]
  /** Raw measurements, for anyone who wants to re-plot. */
  readonly raw: unknown
  /** True when run with `--quick` (fewer runs, smaller sizes): not the numbers to quote. */
  readonly quick: boolean
}

interface WrittenReport extends BenchReport {
  readonly machine: MachineInfo
  readonly finishedAt: string
  readonly plot: string | null
}

/** `--quick` on the command line: fewer repetitions and sizes, for a smoke run. */
export function isQuick (argv: readonly string[] = process.argv): boolean {
  return argv.includes('--quick')
}

/** Prints the table, writes `<name>.json` and (given a Vega-Lite spec) `<name>.svg`. */
export async function writeReport (report: BenchReport, plot?: TopLevelSpec): Promise<void> {
  await mkdir(RESULTS_DIR, { recursive: true })
  const machine = describeMachine()
  let plotFile: string | null = null
  if (plot !== undefined) {
    plotFile = `${report.name}.svg`
    await writeFile(join(RESULTS_DIR, plotFile), await renderSvg(plot))
  }
  const written: WrittenReport = { ...report, machine, finishedAt: new Date().toISOString(), plot: plotFile }
  await writeFile(join(RESULTS_DIR, `${report.name}.json`), JSON.stringify(written, null, 2) + '\n')
  process.stdout.write(`\n${report.title}${report.quick ? ' (quick run)' : ''}\n${machineLine(machine)}\n\n`)
  process.stdout.write(textTable(report.columns, report.rows) + '\n')
  for (const target of report.targets) {
    const verdict = target.met === null ? 'not measured' : target.met ? 'met' : 'MISSED'
    process.stdout.write(`target ${target.what}: ${target.target}; measured ${target.measured}: ${verdict}${target.note === undefined ? '' : ` (${target.note})`}\n`)
  }
  for (const note of report.notes) process.stdout.write(`note: ${note}\n`)
  process.stdout.write(`wrote ${join('benchmarks', 'results', `${report.name}.json`)}${plotFile === null ? '' : ` and ${plotFile}`}\n`)
}

/** Renders a Vega-Lite spec to SVG without a browser (text widths are estimated). */
export async function renderSvg (spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

export function textTable (columns: readonly string[], rows: ReadonlyArray<Readonly<Record<string, Cell>>>): string {
  const cells = rows.map(row => columns.map(column => formatCell(row[column] ?? null)))
  const widths = columns.map((column, index) => Math.max(column.length, ...cells.map(row => row[index]?.length ?? 0)))
  const line = (values: readonly string[]): string => values.map((value, index) => value.padEnd(widths[index] ?? 0)).join('  ').trimEnd()
  return [line(columns), line(widths.map(width => '-'.repeat(width))), ...cells.map(line)].join('\n')
}

export function markdownTable (columns: readonly string[], rows: ReadonlyArray<Readonly<Record<string, Cell>>>): string {
  const escape = (text: string): string => text.replaceAll('|', '\\|')
  return [
    `| ${columns.map(escape).join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...rows.map(row => `| ${columns.map(column => escape(formatCell(row[column] ?? null))).join(' | ')} |`)
  ].join('\n')
}

function formatCell (cell: Cell): string {
  if (cell === null) return '–'
  if (typeof cell === 'number') return Number.isInteger(cell) ? String(cell) : cell.toFixed(2)
  return cell
}
