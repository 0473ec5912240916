/**
 * virq's JSONL trace format: one JSON object per line, for traces from tools that do not write
 * ftrace text (a VMM's own event log, a converter, a test generator).
 *
 *   {"event": "kvm_set_irq", "fields": "gsi 4 level 1 source 0", "ts": 12.000123, "cpu": 0, "pid": 812, "task": "CPU 0/KVM"}
 *
 * - `event` (required): the tracepoint name, with or without the `kvm:` system prefix.
 * - `fields` (required): the tracepoint's field text exactly as the kernel prints it (its TP_printk
 *   output), decoded by the same per-version decoders as ftrace text (traces/fields.ts), so every
 *   format variant ftrace accepts is accepted here.
 * - `ts` (seconds), `cpu`, `pid`, `task`: optional record header; `task` names the vCPU thread
 *   (`CPU 1/KVM`) where the validator needs it.
 * Blank lines are ignored. `line` in every error and observation is the 1-based physical line.
 * Unknown events are counted and skipped; a known event whose fields do not decode is an input
 * error (HVT010) unless `lenient`, which skips and counts it. A line that is not a JSON object is
 * HVT020; an object without the required keys, or with keys of the wrong type, is HVT021.
 */
import { traceError, type TraceError } from './errors.js'
import { decodeFields, isDecodeFailure } from './fields.js'
import { HostInference } from './host.js'
import type { Observation } from './Observation.js'
import { Counter, type TraceSummary } from './summary.js'
import type { ParseOutcome } from './ftrace.js'

export interface JsonlOptions {
  readonly file?: string
  readonly lenient?: boolean
}

const MAX_SAMPLES = 20

export const parseJsonlChunks = async (
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  options: JsonlOptions,
  onObservation: (o: Observation) => void,
): Promise<ParseOutcome> => {
  const file = options.file ?? '<input>'
  const host = new HostInference()
  const byEvent = new Counter()
  const unknown = new Counter()
  const malformed: TraceError[] = []
  let error: TraceError | undefined
  let linesRead = 0, eventsRead = 0, observations = 0, skipped = 0, ignored = 0
  let lastTerminated = true
  let lastParsed = true

  const line = (text: string, no: number): void => {
    linesRead = no
    if (text.trim() === '') { ignored++; return }
    const fail = (code: 'HVT010' | 'HVT020' | 'HVT021', reason: string, event?: string): void => {
      const e = traceError(code, file, no, reason, { ...(event ? { event } : {}), text: text.trim() })
      lastParsed = false
      if (options.lenient && code === 'HVT010') { skipped++; if (malformed.length < MAX_SAMPLES) malformed.push(e) } else error = e
    }
    let v: unknown
    try { v = JSON.parse(text) } catch (e) {
      fail('HVT020', `not valid JSON (${(e as Error).message.replace(/^JSON\.parse: /, '')})`)
      return
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) { fail('HVT020', 'a JSONL record must be a JSON object'); return }
    const r = v as Record<string, unknown>
    if (typeof r.event !== 'string' || r.event === '') { fail('HVT021', 'missing "event" (the tracepoint name, a string)'); return }
    if (typeof r.fields !== 'string') { fail('HVT021', `"${r.event}": missing "fields" (the field text as the kernel prints it, a string)`, r.event); return }
    for (const [k, t] of [['ts', 'number'], ['cpu', 'number'], ['pid', 'number'], ['task', 'string']] as const)
      if (r[k] !== undefined && typeof r[k] !== t) { fail('HVT021', `"${k}" must be a ${t}`, r.event); return }
    const event = r.event.replace(/^kvm:/, '')
    eventsRead++
    const d = decodeFields(event, r.fields)
    if (d === undefined) { unknown.add(event); host.unknownEvent(event, no); lastParsed = true; return }
    if (isDecodeFailure(d)) { fail('HVT010', `${event}: ${d.reason}`, event); return }
    const o = {
      _tag: d.tag, line: no, task: r.task as string | undefined, pid: r.pid as number | undefined, cpu: r.cpu as number | undefined,
      timestamp: r.ts as number | undefined, flags: undefined, event, raw: r.fields, ...d.fields,
    } as Observation
    observations++
    byEvent.add(event)
    host.observe(o)
    lastParsed = true
    onObservation(o)
  }

  const decoder = new TextDecoder('utf-8')
  let buf = ''
  let no = 0
  for await (const c of chunks) {
    buf += typeof c === 'string' ? c : decoder.decode(c, { stream: true })
    let i: number
    while (error === undefined && (i = buf.indexOf('\n')) >= 0) {
      const t = buf.slice(0, i).replace(/\r$/, '')
      buf = buf.slice(i + 1)
      line(t, ++no)
    }
    if (error !== undefined) break
  }
  if (error === undefined) {
    buf += decoder.decode()
    if (buf.length > 0) {
      lastTerminated = false
      line(buf, ++no)
      // A last line without a newline that does not parse: the file is cut off.
      if (error !== undefined && (error as TraceError).code === 'HVT020')
        error = traceError('HVT012', file, no, 'the input ends in the middle of a JSON record (no newline at the end, and the JSON is incomplete): the file looks truncated', { text: buf.trim() })
    }
  }
  const summary: TraceSummary = {
    file, formatDetected: 'jsonl', layouts: {}, linesRead, eventsRead, observations, byEvent: byEvent.snapshot(), unknownEvents: unknown.snapshot(),
    skippedMalformed: skipped, malformed, ignoredLines: ignored, gaps: 0,
    repairs: { mode: 'off', detected: { quotedPrintable: false, html: false, lineNumbers: false, pasteTimestamps: false }, kinds: {}, repaired: false },
    formatVariants: structuredClone(host.variants), host: host.result(),
    ...(!lastTerminated ? { unterminatedLastLine: { line: no, parsed: lastParsed } } : {}),
  }
  return { summary, error }
}
