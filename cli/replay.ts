/** `virq replay FILE…`: can the model explain a real kernel trace (ftrace text, virq JSONL) or an ITF trace? */
import { closeSync, createReadStream, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs'
import { parseFtraceChunks, type ParseOutcome } from '../traces/ftrace.js'
import { parseJsonlChunks } from '../traces/jsonl.js'
import { formatTraceError } from '../traces/errors.js'
import { fullyObservedFromHeader, Validator, type Contradiction } from '../traces/validate.js'

/** The first 4 KiB of a file (its header lines), for `fullyObservedFromHeader`. */
const readHead = (file: string): string => {
  const fd = openSync(file, 'r')
  try {
    const buf = Buffer.alloc(4096)
    return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8')
  } finally {
    closeSync(fd)
  }
}
import { buildModel, ModelError } from '../models/registry.js'
import { checkItf } from './format.js'
import { EXIT, UsageError, type Command } from './command.js'

export type ReplayFormat = 'ftrace' | 'jsonl' | 'itf'

/** One file's result, as `--json` prints it. */
export interface ReplayResult {
  readonly file: string
  readonly format: ReplayFormat
  readonly result: 'conforms' | 'diverges' | 'nothing-to-check'
  readonly eventsRead: number
  readonly observationsUsed: number
  /** diverges: the 1-based physical line of the first event the model cannot explain, and why. */
  readonly line?: number
  readonly reason?: string
  readonly contradiction?: Contradiction
  readonly rulesChecked?: Readonly<Record<string, number>>
  readonly byEvent?: Readonly<Record<string, number>>
  readonly skippedMalformed?: number
  readonly unknownEvents?: Readonly<Record<string, number>>
  readonly notes: ReadonlyArray<string>
}

/** auto: an ITF document starts with `{` and has `"states"`; JSONL lines start with `{`; anything else is ftrace text. */
export const detectFormat = (file: string): ReplayFormat => {
  const head = readFileSync(file, { encoding: 'utf8', flag: 'r' }).slice(0, 64 * 1024)
  const first = head.split('\n').find((l) => l.trim() !== '')?.trim() ?? ''
  if (first.startsWith('{')) {
    if (/"states"\s*:/.test(head) && (/"#meta"/.test(head) || !/^\{.*\}$/.test(first))) return 'itf'
    return 'jsonl'
  }
  return 'ftrace'
}

const lineOfState = (text: string, step: number): number | undefined => {
  const m = new RegExp(`"index"\\s*:\\s*${step}\\b`).exec(text)
  return m ? text.slice(0, m.index).split('\n').length : undefined
}

export const replayFile = async (file: string, opts: { format?: ReplayFormat; lenient?: boolean } = {}): Promise<{ result?: ReplayResult; error?: string }> => {
  const format = opts.format ?? detectFormat(file)
  if (format === 'itf') return replayItf(file)
  const fo = format === 'ftrace' ? fullyObservedFromHeader(readHead(file)) : undefined
  const v = new Validator(file, fo ? { fullyObserved: fo } : {})
  const parse = format === 'jsonl' ? parseJsonlChunks : parseFtraceChunks
  const outcome: ParseOutcome = await parse(createReadStream(file), { file, ...(opts.lenient ? { lenient: true } : {}), onUnknown: (e, l) => v.unknownEvent(e, l) }, (o) => v.observe(o))
  const verdict = v.end(outcome.error ? undefined : outcome.summary.linesRead)
  const s = outcome.summary
  const base = {
    file, format, eventsRead: s.eventsRead, observationsUsed: s.observations, rulesChecked: verdict.rulesChecked, byEvent: verdict.byEvent,
    skippedMalformed: s.skippedMalformed, unknownEvents: s.unknownEvents, notes: verdict.notes,
  }
  // A file of bare event names (no fields) carries nothing to check: nothing-to-check, not malformed.
  if (outcome.error && outcome.error.code === 'HVT011' && verdict.observations === 0)
    return { result: { ...base, result: 'nothing-to-check', notes: [formatTraceError(outcome.error).split('\n')[0]!] } }
  if (outcome.error) return { error: formatTraceError(outcome.error) }
  if (verdict.verdict === 'diverges') {
    const c = verdict.contradiction!
    return { result: { ...base, result: 'diverges', line: c.line, reason: `${c.rule}: expected ${c.expected}; observed ${c.observed}`, contradiction: c } }
  }
  return { result: { ...base, result: verdict.verdict } }
}

/** An ITF trace names its model (`#meta.model`, as `virq check --itf` writes it) and is re-checked step by step. */
const replayItf = async (file: string): Promise<{ result?: ReplayResult; error?: string }> => {
  const text = readFileSync(file, 'utf8')
  let doc: { '#meta'?: { model?: unknown; params?: unknown; bug?: unknown; source?: unknown }; states?: { action?: { _tag: string }; state?: unknown }[]; loop?: number }
  try {
    doc = JSON.parse(text)
  } catch (e) {
    const pos = /position (\d+)/.exec((e as Error).message)
    const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : undefined
    return { error: `${file}${line ? `:${line}` : ''}: HVT030 not valid JSON (${(e as Error).message.split('\n')[0]})` }
  }
  const meta = doc['#meta'] ?? {}
  const model = typeof meta.model === 'string' ? meta.model : typeof meta.source === 'string' ? /^virq (\S+)/.exec(meta.source)?.[1] : undefined
  if (!model) return { error: `${file}: HVT030 the ITF trace does not name a virq model ("#meta": {"model": …}, as virq check --itf writes it)` }
  if (!Array.isArray(doc.states)) return { error: `${file}: HVT030 no "states" array (not an ITF trace)` }
  let spec
  try {
    spec = buildModel(model, (meta.params ?? {}) as Record<string, number>, typeof meta.bug === 'string' ? meta.bug : undefined).spec
  } catch (e) {
    if (e instanceof ModelError) return { error: `${file}: HVT030 ${e.message}` }
    throw e
  }
  const r = checkItf(spec, doc)
  const events = Math.max(0, doc.states.length - 1)
  const notes = [`model ${model}${meta.params ? ` ${JSON.stringify(meta.params)}` : ''}${typeof meta.bug === 'string' ? ` bug ${meta.bug}` : ''}`]
  if (r.ok) return { result: { file, format: 'itf', result: events > 0 ? 'conforms' : 'nothing-to-check', eventsRead: events, observationsUsed: events, notes } }
  const line = lineOfState(text, r.step)
  return { result: { file, format: 'itf', result: 'diverges', eventsRead: events, observationsUsed: r.step, ...(line !== undefined ? { line } : {}), reason: `state ${r.step}: ${r.reason}`, notes } }
}

export const replayCommand: Command = {
  name: 'replay',
  summary: 'validate a kernel trace (ftrace text, virq JSONL) or an ITF trace against the model: conforms / diverges, where and why',
  usage: `usage: virq replay FILE... [--format auto|ftrace|jsonl|itf] [--lenient] [--json]

Reads trace-cmd report, /sys/kernel/tracing/trace or trace_pipe text (or virq's JSONL: one
{"event","fields","ts","cpu","pid","task"} object per line, traces/jsonl.ts), replays the kvm:*
events through the model's device reducers and reports, per file, whether the model explains the
trace; if not, the first event it cannot explain: file:line, the rule, what the model expected and
what the trace shows. Rules and assumptions: traces/validate.ts. An ITF trace (as virq check --itf
writes it) is re-checked against the model it names, state by state.
  --format F   auto (default: detected from the content), ftrace, jsonl or itf
  --lenient    skip and count known events whose fields do not parse, instead of stopping
  --json       one JSON object per file: result, eventsRead, observationsUsed, line, reason, …
exit: 0 every file conforms, 1 some file diverges, 2 a file is missing or unreadable (file:line:
      problem), 3 nothing to check (no usable observations in some file, none diverges)`,
  run: async (args) => {
    const files: string[] = []
    let json = false, lenient = false
    let format: ReplayFormat | undefined
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!
      if (a === '--json') json = true
      else if (a === '--lenient') lenient = true
      else if (a === '--format' || a.startsWith('--format=')) {
        const f = a.includes('=') ? a.slice(9) : args[++i]
        if (f === undefined) throw new UsageError('--format needs a value: auto, ftrace, jsonl or itf')
        if (f === 'auto') format = undefined
        else if (f === 'ftrace' || f === 'jsonl' || f === 'itf') format = f
        else throw new UsageError(`unknown format '${f}' (known: auto, ftrace, jsonl, itf)`)
      } else if (a.startsWith('--')) throw new UsageError(`unknown option '${a}'`)
      else files.push(a)
    }
    if (files.length === 0) throw new UsageError('missing FILE')
    for (const f of files) if (!existsSync(f) || !statSync(f).isFile()) throw new UsageError(`${f}: no such file`)
    const results: ReplayResult[] = []
    for (const f of files) {
      const r = await replayFile(f, { ...(format ? { format } : {}), lenient })
      if (r.error) throw new UsageError(r.error)
      results.push(r.result!)
    }
    if (json) process.stdout.write(JSON.stringify(results.length === 1 ? results[0] : results, null, 1) + '\n')
    else
      for (const r of results) {
        const checks = Object.entries(r.rulesChecked ?? {}).map(([k, n]) => `${k} ×${n}`).join(', ')
        const skipped = r.skippedMalformed ? `; skipped ${r.skippedMalformed} malformed (--lenient)` : ''
        process.stdout.write(`${r.file}: ${r.result.toUpperCase()} (${r.format}, ${r.eventsRead} events read, ${r.observationsUsed} used${checks ? `; checked ${checks}` : ''}${skipped})\n`)
        if (r.contradiction) {
          const c = r.contradiction
          process.stdout.write(`  ${c.file}:${c.line}: ${c.rule}\n    trace:    ${c.text}\n    expected: ${c.expected}\n    observed: ${c.observed}\n`)
        } else if (r.result === 'diverges') process.stdout.write(`  ${r.file}${r.line ? `:${r.line}` : ''}: ${r.reason}\n`)
        for (const n of r.notes) process.stdout.write(`  note: ${n}\n`)
      }
    if (results.some((r) => r.result === 'diverges')) return EXIT.finding
    if (results.some((r) => r.result === 'nothing-to-check')) return EXIT.incomplete
    return EXIT.ok
  },
}
