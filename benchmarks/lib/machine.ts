import { cpus, freemem, loadavg, release, totalmem } from 'node:os'

/** Which machine a result came from: results are only comparable on the same one. */
export interface MachineInfo {
  readonly cpuModel: string
  readonly cores: number
  readonly memoryGiB: number
  readonly freeMemoryGiB: number
  readonly kernel: string
  readonly node: string
  /** 1-minute load average when the benchmark started: a busy machine skews everything. */
  readonly loadAtStart: number
}

export function describeMachine (): MachineInfo {
  const processors = cpus()
  return {
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    freeMemoryGiB: Math.round(freemem() / 2 ** 30),
    kernel: `${process.platform} ${release()}`,
    node: process.version,
    loadAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100
  }
}

export function machineLine (machine: MachineInfo): string {
  return `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.kernel}, Node ${machine.node}, load ${machine.loadAtStart} at start`
}
