/**
 * A binary min-heap of timed events. Ties in time break by insertion order, so the order of
 * events is a function of the seed alone (a heap alone is not stable).
 */
export class EventQueue<Event> {
  private readonly times: number[] = []
  private readonly orders: number[] = []
  private readonly events: Event[] = []
  private inserted = 0

  get size (): number {
    return this.events.length
  }

  push (timeMs: number, event: Event): void {
    this.times.push(timeMs)
    this.orders.push(this.inserted++)
    this.events.push(event)
    this.up(this.events.length - 1)
  }

  /** Time of the next event, or Infinity when empty. */
  peekTimeMs (): number {
    return this.times[0] ?? Infinity
  }

  pop (): { timeMs: number, event: Event } | undefined {
    const count = this.events.length
    if (count === 0) return undefined
    const timeMs = this.times[0] as number
    const event = this.events[0] as Event
    this.swap(0, count - 1)
    this.times.pop()
    this.orders.pop()
    this.events.pop()
    if (this.events.length > 0) this.down(0)
    return { timeMs, event }
  }

  private less (a: number, b: number): boolean {
    const timeA = this.times[a] as number
    const timeB = this.times[b] as number
    return timeA < timeB || (timeA === timeB && (this.orders[a] as number) < (this.orders[b] as number))
  }

  private swap (a: number, b: number): void {
    const time = this.times[a] as number
    this.times[a] = this.times[b] as number
    this.times[b] = time
    const order = this.orders[a] as number
    this.orders[a] = this.orders[b] as number
    this.orders[b] = order
    const event = this.events[a] as Event
    this.events[a] = this.events[b] as Event
    this.events[b] = event
  }

  private up (index: number): void {
    let child = index
    while (child > 0) {
      const parent = (child - 1) >> 1
      if (!this.less(child, parent)) return
      this.swap(child, parent)
      child = parent
    }
  }

  private down (index: number): void {
    const count = this.events.length
    let parent = index
    for (;;) {
      const left = 2 * parent + 1
      const right = left + 1
      let smallest = parent
      if (left < count && this.less(left, smallest)) smallest = left
      if (right < count && this.less(right, smallest)) smallest = right
      if (smallest === parent) return
      this.swap(parent, smallest)
      parent = smallest
    }
  }
}
