/**
 * Streaming parser of ftrace text traces: tracefs `trace` / `trace_pipe`, `trace-cmd report`,
 * `perf script` (and the condensed forms authors post; header.ts lists the layouts).
 *
 * Pipeline, push-based so memory stays bounded (one chunk, one pending record, the repair sample):
 *
 *   text chunks → LineSplitter (physical lines) → Assembler (repair pre-pass, joins wrapped
 *   records: repair.ts) → FtraceParser (header + field decode: header.ts, fields.ts) → observations
 *
 * Rules (issue 5):
 * - An event without a decoder is counted in `unknownEvents` and skipped, never fatal.
 * - A known event whose fields do not parse is an input error `{ code: 'HVT010', file, line, reason }`
 *   and parsing stops, unless `lenient`: then it is skipped and counted (`skippedMalformed`, with the
 *   first 20 kept as `malformed`). A record header without an event, or an event name without
 *   fields, is `HVT011`; a cut-off last line (no newline at the end of the input) that does not parse
 *   is `HVT012`.
 * - Lines that are not records (headers, blank lines, commentary) are ignored and counted.
 * - `line` is the 1-based physical line of the input where the record starts.
 */
import { traceError, type TraceError } from './errors.js'
import { decodeFields, isDecodeFailure, type DecodeOptions } from './fields.js'
import { layouts as allLayouts, type Layout } from './header.js'
import { HostInference } from './host.js'
import { LineSplitter, type PhysicalLine } from './lines.js'
import type { Observation, ObservationHeader } from './Observation.js'
import { Assembler, type LogicalLine, type RepairMode, type RepairReport } from './repair.js'
import { Counter, type TraceSummary } from './summary.js'

export interface FtraceOptions {
  /** The file name used in errors and the summary (default `<input>`). */
  readonly file?: string
  /** Skip and count known events whose fields do not parse, instead of failing. */
  readonly lenient?: boolean
  /** The mail/web repair pre-pass (default `'auto'`). */
  readonly repair?: RepairMode
  readonly decode?: DecodeOptions
  /** Called for each record of an event without a decoder (the validator of a fully observed trace reads their names). */
  readonly onUnknown?: (event: string, line: number) => void
}

/** How parsing ended: the summary, and the error that stopped it (strict mode) if any. */
export interface ParseOutcome {
  readonly summary: TraceSummary
  readonly error: TraceError | undefined
}

const MAX_SAMPLES = 20

/**
 * Push-based parser. Feed physical lines (`pushLine`) or text (`pushText`), call `end()`; each
 * observation goes to `onObservation` as soon as its record is complete. After a strict-mode error
 * `failed` is set and further input is ignored.
 *
 * @example
 * const obs: Observation[] = []
 * const p = new FtraceParser({ file: 'x.trace' }, (o) => obs.push(o))
 * p.pushText(' <...>-1 [000] .... 1.000000: kvm_set_irq: gsi 4 level 1 source 0\n')
 * const { summary, error } = p.end()
 */
export class FtraceParser {
  private readonly file: string
  private readonly lenient: boolean
  private readonly decodeOptions: DecodeOptions
  private readonly assembler: Assembler
  private readonly splitter: LineSplitter
  private readonly host = new HostInference()
  private readonly byEvent = new Counter()
  private readonly unknown = new Counter()
  private readonly layoutCounts = new Map<Layout, number>()
  private readonly malformed: TraceError[] = []
  private readonly repairMode: RepairMode
  private readonly onUnknown: ((event: string, line: number) => void) | undefined
  private error: TraceError | undefined
  private linesRead = 0
  private eventsRead = 0
  private observations = 0
  private skipped = 0
  private ignored = 0
  private gaps = 0
  private unterminated: { line: number; parsed: boolean } | undefined
  private sawRecord = false
  private blankAfterRecord = false
  private ended: ParseOutcome | undefined

  constructor(options: FtraceOptions, private readonly onObservation: (o: Observation) => void) {
    this.file = options.file ?? '<input>'
    this.lenient = options.lenient ?? false
    this.decodeOptions = options.decode ?? {}
    this.repairMode = options.repair ?? 'auto'
    this.onUnknown = options.onUnknown
    this.assembler = new Assembler({ mode: this.repairMode, decode: this.decodeOptions }, (l) => this.logical(l))
    this.splitter = new LineSplitter((l) => this.pushLine(l))
  }

  /** The strict-mode error that stopped parsing, if any. */
  get failed(): TraceError | undefined {
    return this.error
  }

  /** Feed decoded text (any chunking; lines may span chunks). */
  pushText(chunk: string): void {
    if (this.error === undefined) this.splitter.push(chunk)
  }

  /** Feed one physical line (numbers must be consecutive from 1). */
  pushLine(line: PhysicalLine): void {
    if (this.error !== undefined) return
    this.linesRead = line.no
    this.assembler.push(line)
  }

  /** Finish: flush pending records and build the summary. Idempotent. */
  end(): ParseOutcome {
    if (this.ended !== undefined) return this.ended
    if (this.error === undefined) {
      this.splitter.end()
      this.assembler.end()
    }
    this.ended = { summary: this.summary(this.assembler.report()), error: this.error }
    return this.ended
  }

  // ---- per logical line

  private logical(l: LogicalLine): void {
    if (this.error !== undefined) return
    switch (l.cls) {
      case 'record':
        if (this.blankAfterRecord) { this.blankAfterRecord = false; this.gap(l, 'blank-line', undefined) }
        this.sawRecord = true
        this.record(l)
        return
      case 'blank':
        if (this.sawRecord) this.blankAfterRecord = true
        this.ignored++
        return
      case 'comment':
        if (l.special?.kind === 'comment' && l.special.key !== undefined && l.special.value !== undefined) {
          this.host.header(l.special.key, l.special.value, l.line)
        }
        this.ignored++
        return
      case 'lost-events':
        this.gap(l, 'lost-events', l.special?.kind === 'lost-events' ? l.special.lost : undefined)
        return
      case 'buffer-started':
        this.gap(l, 'buffer-started', undefined)
        return
      case 'elision':
        if (this.repairMode !== 'off') this.gap(l, 'elision', undefined)
        else this.ignored++
        return
      default:
        this.ignored++
        if (!l.terminated && l.cls === 'text') this.unterminated = { line: l.line, parsed: false }
        return
    }
  }

  private gap(l: LogicalLine, reason: 'elision' | 'lost-events' | 'buffer-started' | 'blank-line', lost: number | undefined): void {
    this.gaps++
    this.onObservation({
      _tag: 'TraceGap', line: l.line, task: undefined, pid: undefined, cpu: l.special?.kind === 'buffer-started' ? l.special.cpu : l.special?.kind === 'lost-events' ? l.special.cpu : undefined,
      timestamp: undefined, flags: undefined, event: 'trace_gap', raw: l.text.trim(), reason, ...(lost !== undefined ? { lost } : {}),
    })
  }

  private problem(code: 'HVT010' | 'HVT011' | 'HVT012', l: LogicalLine, reason: string, event: string | undefined): void {
    const e = traceError(code, this.file, l.line, reason, { ...(event !== undefined ? { event } : {}), text: l.text.trim() })
    if (this.lenient) {
      this.skipped++
      if (this.malformed.length < MAX_SAMPLES) this.malformed.push(e)
    } else {
      this.error = e
    }
  }

  private record(l: LogicalLine): void {
    const r = l.record
    if (r === undefined) return
    const last = !l.terminated
    this.layoutCounts.set(r.layout, (this.layoutCounts.get(r.layout) ?? 0) + 1)
    if (r.layout === 'ftrace') this.host.flags(r.flags, l.line)
    if (r.event === undefined) {
      if (r.noEvent) {
        this.eventsRead++
        this.unknown.add('(no event name)')
        return
      }
      if (last) this.unterminated = { line: l.line, parsed: false }
      this.problem(
        last ? 'HVT012' : 'HVT011', l,
        last
          ? 'the input ends in the middle of this record (no newline at the end, no event after the timestamp): the file looks truncated'
          : `record header without an event (the line stops after the timestamp${this.repairMode === 'off' ? '; a wrapped line? try repair "on"' : ''})`,
        undefined,
      )
      return
    }
    this.eventsRead++
    const d = l.decoded ?? decodeFields(r.event, r.fields, this.decodeOptions)
    if (d === undefined) {
      this.unknown.add(r.event)
      this.host.unknownEvent(r.event, l.line)
      this.onUnknown?.(r.event, l.line)
      if (last) this.unterminated = { line: l.line, parsed: true }
      return
    }
    if (isDecodeFailure(d)) {
      if (last) {
        this.unterminated = { line: l.line, parsed: false }
        this.problem('HVT012', l, `the input ends in the middle of this ${r.event} record (no newline at the end, and ${d.reason}): the file looks truncated`, r.event)
      } else if (r.fields.trim().length === 0) {
        this.problem('HVT011', l, `${r.event} without fields (an event name alone carries nothing to decode)`, r.event)
      } else {
        this.problem('HVT010', l, `${r.event}: ${d.reason}`, r.event)
      }
      return
    }
    if (last) this.unterminated = { line: l.line, parsed: true }
    const header: ObservationHeader = {
      line: l.line, task: r.task, pid: r.pid, cpu: r.cpu, timestamp: r.timestamp, flags: r.flags, event: r.event, raw: r.fields,
    }
    const o = { _tag: d.tag, ...header, ...d.fields } as Observation
    this.observations++
    this.byEvent.add(r.event)
    this.host.observe(o)
    this.onObservation(o)
  }

  private summary(repairs: RepairReport): TraceSummary {
    const layouts: { [L in Layout]?: number } = {}
    for (const k of allLayouts) {
      const n = this.layoutCounts.get(k)
      if (n !== undefined) layouts[k] = n
    }
    return {
      file: this.file,
      formatDetected: 'ftrace',
      layouts,
      linesRead: this.linesRead,
      eventsRead: this.eventsRead,
      observations: this.observations,
      byEvent: this.byEvent.snapshot(),
      unknownEvents: this.unknown.snapshot(),
      skippedMalformed: this.skipped,
      malformed: [...this.malformed],
      ignoredLines: this.ignored,
      gaps: this.gaps,
      repairs,
      formatVariants: structuredClone(this.host.variants),
      host: this.host.result(),
      ...(this.unterminated !== undefined ? { unterminatedLastLine: this.unterminated } : {}),
    }
  }
}

/** Parse a whole in-memory text (tests, small inputs). */
export const parseFtraceText = (text: string, options: FtraceOptions = {}): ParseOutcome & { observations: Observation[] } => {
  const observations: Observation[] = []
  const p = new FtraceParser(options, (o) => observations.push(o))
  p.pushText(text)
  return { ...p.end(), observations }
}

/**
 * Parse lines from an (async) iterable of lines without newlines, e.g. a `node:readline` interface.
 * Such a source cannot say whether the last line had a newline; it is taken as terminated.
 */
export const parseFtraceLines = async (
  lines: AsyncIterable<string> | Iterable<string>,
  options: FtraceOptions,
  onObservation: (o: Observation) => void,
): Promise<ParseOutcome> => {
  const p = new FtraceParser(options, onObservation)
  let no = 0
  for await (const text of lines) {
    p.pushLine({ no: ++no, text, terminated: true })
    if (p.failed !== undefined) break
  }
  return p.end()
}

/** Parse text chunks (strings, or UTF-8 bytes) from an (async) iterable, e.g. a `fs.ReadStream`. */
export const parseFtraceChunks = async (
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  options: FtraceOptions,
  onObservation: (o: Observation) => void,
): Promise<ParseOutcome> => {
  const p = new FtraceParser(options, onObservation)
  const decoder = new TextDecoder('utf-8')
  for await (const c of chunks) {
    p.pushText(typeof c === 'string' ? c : decoder.decode(c, { stream: true }))
    if (p.failed !== undefined) break
  }
  if (p.failed === undefined) p.pushText(decoder.decode())
  return p.end()
}
