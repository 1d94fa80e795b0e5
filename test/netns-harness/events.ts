// The agent runs with `--json`: one JSON object per line, each with an `event` field ("start",
// "peers", "phase", "plan", "ready", "error", …). Tests read them from the stdout log file, so the
// log kept on failure is exactly what the assertions saw.

/** One line of `p2p-bootstrap run --json` output. */
export interface AgentEvent {
  readonly event: string
  readonly [field: string]: unknown
}

function isEvent (value: unknown): value is AgentEvent {
  return typeof value === 'object' && value !== null && typeof (value as { event?: unknown }).event === 'string'
}

/**
 * The events in `text`. A line that is not a JSON event (a half-written last line, a stray
 * message) is skipped: the agent's own output format is tested elsewhere.
 */
export function parseEventLines (text: string): AgentEvent[] {
  const events: AgentEvent[] = []
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      const value: unknown = JSON.parse(line)
      if (isEvent(value)) events.push(value)
    } catch {
      // A line still being written; the next read has it whole.
    }
  }
  return events
}
