/**
 * The summary every trace reader returns next to (or after streaming) its observations, and the
 * counters that build it. Bounded memory: maps are capped (`(other)` collects the rest).
 */
import type { TraceError } from './errors.js'
import type { Layout } from './header.js'
import type { HostFacts } from './host.js'
import type { RepairReport } from './repair.js'

export type TraceFormat = 'ftrace' | 'jsonl' | 'itf'

/** @category models */
export interface TraceSummary {
  readonly file: string
  readonly formatDetected: TraceFormat
  /** ftrace only: records per header layout (`ftrace`, `trace-cmd`, `perf`, …). */
  readonly layouts: { readonly [L in Layout]?: number }
  /** Physical lines of the input. */
  readonly linesRead: number
  /** Records with an event name (known and unknown). */
  readonly eventsRead: number
  /** Observations produced, `TraceGap`s excluded. */
  readonly observations: number
  /** Observations per event name. */
  readonly byEvent: Readonly<Record<string, number>>
  /** Records of events without a decoder, per name (counted and skipped). */
  readonly unknownEvents: Readonly<Record<string, number>>
  /** Known-event records that did not decode and were skipped (`lenient` only). */
  readonly skippedMalformed: number
  /** The first 20 of those, as the errors they would have been. */
  readonly malformed: ReadonlyArray<TraceError>
  /** Lines that are not records: headers, blank lines, commentary. */
  readonly ignoredLines: number
  /** `TraceGap` observations (elisions, lost events). */
  readonly gaps: number
  readonly repairs: RepairReport
  /** Format variant counts per event (see host.ts `variantOf`). */
  readonly formatVariants: Readonly<Record<string, Readonly<Record<string, number>>>>
  readonly host: HostFacts
  /** The input did not end with a newline; whether its last line still parsed. */
  readonly unterminatedLastLine?: { readonly line: number; readonly parsed: boolean }
}

/** A plain counter map with a cap on distinct keys. */
export class Counter {
  private readonly map: Record<string, number> = {}
  private keys = 0
  constructor(private readonly maxKeys = 1000) {}
  add(key: string, n = 1): void {
    if (key in this.map) this.map[key] = (this.map[key] ?? 0) + n
    else if (this.keys < this.maxKeys) {
      this.map[key] = n
      this.keys++
    } else this.map['(other)'] = (this.map['(other)'] ?? 0) + n
  }
  snapshot(): Record<string, number> {
    return { ...this.map }
  }
}

/** A repair report for readers that have no pre-pass (JSONL, ITF). */
export const noRepairs: RepairReport = {
  mode: 'off',
  detected: { quotedPrintable: false, html: false, lineNumbers: false, pasteTimestamps: false },
  kinds: {},
  repaired: false,
}
