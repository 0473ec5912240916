/**
 * The forgiving pre-pass for traces pasted from mail and web pages, and the assembler of logical
 * records from physical lines.
 *
 * Public excerpts (`../shared/traces/public/INDEX.md`) arrive wrapped by mail clients, `> `-quoted,
 * interleaved with the poster's prose, quoted-printable encoded (16) or HTML-escaped. This stage
 * undoes that, line by line, and ALWAYS reports what it did: per repair kind, how many physical lines
 * and which ones (as ranges). Every logical line it emits keeps the 1-based physical line where it
 * starts in the ORIGINAL input, so `line` in observations and errors is a line of the file the user has.
 *
 * Repair kinds, in the order they apply to a line:
 * 1. `quotedPrintable`: soft line breaks (`=` at the end) are joined and `=XX` escapes decoded as
 *    UTF-8 (RFC 2045 §6.7).
 * 2. `htmlEntities`: `&gt;`, `&lt;`, `&amp;`, `&#NN;`, … decoded, `<br>`/`<p>`/`<pre>`/`<code>` tags dropped.
 * 3. `unicodeSpaces`: no-break, em and other Unicode spaces become ASCII spaces (web copies).
 * 4. `quotePrefix`: mail quote prefixes `> `, nested `> > ` / `>> `, stripped.
 * 5. `surroundingQuotes`: a trace line posted as a string literal (`"kvm_exit: …"`, excerpt 17).
 * 6. `lineNumber` / `pasteTimestamp`: a leading line number or `[hh:mm:ss]` from a web paste.
 * 7. `wrappedLine`: a record broken over several physical lines is joined (see `continues`).
 * 8. `commentary` / `elision`: prose, decorations and `#` remarks between records are set aside
 *    (reported, not parsed); `...`/`[...]` elisions are reported and become `TraceGap` observations.
 *
 * Detection. `mode: 'off'` does nothing (each physical line is one logical line). `'auto'` (default)
 * looks at the first `sniffLines` lines: the encodings (1, 2) and the prefixes of 6 are turned on only
 * when the sample shows them (they would damage a clean trace); the structural repairs (3, 4, 5, 7,
 * 8) act only where a line needs them, so a clean trace passes through unchanged. `'on'` forces the
 * encodings too; 6 stays evidence-based (a number in front of a record cannot be told from a comm).
 *
 * Joining wrapped lines (7). A physical line that is not blank, not a record start and not a special
 * line continues the pending record when:
 * - the record has a header but no event yet (wrapped after the timestamp: 05, 11, 19), or
 * - the record is a known event and its fields do not parse yet (05 `gsi 0` + `level 0 source 0`,
 *   16 `kvm_nested_vmenter` over three lines), or they parse and still parse with the continuation
 *   (04 `IRQ 0xd1` + `[reinjected]`); the continuation is tried with and without a separating blank;
 * - the record is an unknown event and its last physical line ends in a blank (04 `rcu_utilization`),
 *   has no fields yet, or is ≥ 60 columns and the continuation starts like `key value` (16).
 * A known record that parses is never extended by a continuation that breaks it, so commentary after a
 * complete record stays commentary (10 `^^^ this is the injection`). At most `maxContinuation`
 * physical lines make one record (bounded memory).
 */
import { decodeFields, isDecodeFailure, isKnownEvent, type DecodeFailure, type DecodeOptions, type Decoded } from './fields.js'
import { classifySpecial, parseRecord, type ParsedRecord, type SpecialLine } from './header.js'
import type { PhysicalLine } from './lines.js'

export type RepairMode = 'auto' | 'on' | 'off'

export type RepairKind =
  | 'quotedPrintable' | 'htmlEntities' | 'unicodeSpaces' | 'quotePrefix' | 'surroundingQuotes'
  | 'lineNumber' | 'pasteTimestamp' | 'wrappedLine' | 'commentary' | 'elision'

export const repairKinds: ReadonlyArray<RepairKind> = [
  'quotedPrintable', 'htmlEntities', 'unicodeSpaces', 'quotePrefix', 'surroundingQuotes',
  'lineNumber', 'pasteTimestamp', 'wrappedLine', 'commentary', 'elision',
]

/** Physical lines touched by one repair kind. */
export interface RepairCount {
  readonly count: number
  /** Inclusive ranges `[from, to]` of physical lines, in order (at most 200 ranges kept). */
  readonly lines: ReadonlyArray<readonly [number, number]>
  /** More ranges existed than were kept (`count` is still exact). */
  readonly truncated: boolean
}

/** What the pre-pass did. @category models */
export interface RepairReport {
  readonly mode: RepairMode
  /** Encodings and prefixes found in the sample (or forced by `mode: 'on'`). */
  readonly detected: {
    readonly quotedPrintable: boolean
    readonly html: boolean
    readonly lineNumbers: boolean
    readonly pasteTimestamps: boolean
  }
  /** Only kinds that repaired something appear. */
  readonly kinds: { readonly [K in RepairKind]?: RepairCount }
  /** True when any repair changed or set aside a line. */
  readonly repaired: boolean
}

/** Inclusive line ranges with a cap, counting exactly. */
export class LineRanges {
  private readonly list: Array<[number, number]> = []
  private n = 0
  private cut = false
  constructor(private readonly max = 200) {}
  add(line: number): void {
    const last = this.list[this.list.length - 1]
    if (last !== undefined && line >= last[0] && line <= last[1]) return
    this.n++
    if (last !== undefined && line === last[1] + 1) {
      last[1] = line
      return
    }
    if (this.cut) return
    if (this.list.length >= this.max) {
      this.cut = true
      return
    }
    this.list.push([line, line])
  }
  addRange(from: number, to: number): void {
    for (let l = from; l <= to; l++) this.add(l)
  }
  get count(): number {
    return this.n
  }
  snapshot(): RepairCount {
    return { count: this.n, lines: this.list.map(([a, b]) => [a, b] as const), truncated: this.cut }
  }
}

// ---------------------------------------------------------------- logical lines

export type LineClass = 'record' | 'blank' | 'comment' | 'trace-cmd-header' | 'lost-events' | 'buffer-started' | 'elision' | 'text'

/** One logical line: a record (possibly joined from several physical lines) or a non-record line. */
export interface LogicalLine {
  /** Physical line where it starts (1-based, in the original input). */
  readonly line: number
  /** Physical line where it ends. */
  readonly endLine: number
  /** The text after repairs. */
  readonly text: string
  /** The last physical line had a newline. */
  readonly terminated: boolean
  readonly cls: LineClass
  readonly record?: ParsedRecord
  readonly special?: SpecialLine
  /** The field decode of a known record, when the joiner already computed it (same options). */
  readonly decoded?: Decoded | DecodeFailure
  /** Set aside as commentary by the pre-pass (only with repairs on). */
  readonly commentary?: true
}

export interface AssemblerOptions {
  readonly mode?: RepairMode
  readonly decode?: DecodeOptions
  /** Lines sampled before deciding on encodings (default 200). */
  readonly sniffLines?: number
  /** Physical lines that may make one record (default 8). */
  readonly maxContinuation?: number
}

// ---------------------------------------------------------------- per-line transforms

const utf8 = new TextDecoder('utf-8')
const QP_RUN = /(?:=[0-9A-Fa-f]{2})+/g
/** Decode `=XX` escapes (runs of them are one UTF-8 byte sequence). */
export const decodeQuotedPrintable = (s: string): string =>
  s.indexOf('=') < 0
    ? s
    : s.replace(QP_RUN, (run) => {
        const bytes = new Uint8Array(run.length / 3)
        for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(run.slice(i * 3 + 1, i * 3 + 3), 16)
        return utf8.decode(bytes)
      })

const ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", nbsp: '\u00a0', '#39': "'" }
const ENTITY = /&(lt|gt|amp|quot|apos|nbsp|#\d{1,7}|#[xX][0-9a-fA-F]{1,6});/g
const TAGS = /<(?:br\s*\/?|\/?(?:p|pre|code|tt|span|div|font|b|i|a)(?:\s[^<>]*)?)>/gi
/** Drop simple formatting tags and decode HTML character references. */
export const decodeHtml = (s: string): string =>
  s.replace(TAGS, '').replace(ENTITY, (whole, name: string) => {
    const named = ENTITIES[name]
    if (named !== undefined) return named
    const code = name.startsWith('#x') || name.startsWith('#X') ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10)
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole
  })

const UNICODE_SPACE = /[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/g
const ZERO_WIDTH = /[\u200b\u200c\u200d\ufeff]/g
const ODD_SPACE = /[\u00a0\u1680\u2000-\u200d\u202f\u205f\u3000\ufeff]/
const QUOTE_PREFIX = /^[ \t]*(?:>[ \t]?)+/
const SURROUNDING = /^\s*(["'])(.*)\1\s*[,;]?\s*$/
const LINE_NUMBER = /^\s*(\d+)[:.)|]?\s+(?=\S)/
const PASTE_TIME = /^\s*\[?\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\]?\s+(?=\S)/
const QP_ESCAPE = /=(?:3D|20|09|[89A-F][0-9A-F])/g
const HTML_EVIDENCE = /&(?:lt|gt|amp|quot|apos|nbsp|#\d{1,7}|#x[0-9a-fA-F]{1,6});|<br\s*\/?>|<\/?(?:p|pre|code)>/i
const KEY_VALUE_START = /^\s*(?:[A-Za-z_][\w>-]*(?::\s*|=|\s+)(?:0x)?[0-9a-fA-F]+\b|0x[0-9a-fA-F]+\b)/

const hasEvent = (r: ParsedRecord | undefined): boolean => r !== undefined && r.event !== undefined

// ---------------------------------------------------------------- the assembler

interface Pending {
  line: number
  endLine: number
  text: string
  record: ParsedRecord
  decoded: Decoded | DecodeFailure | undefined
  physCount: number
  lastPhys: string
  terminated: boolean
}

interface Piece {
  readonly first: number
  readonly last: number
  readonly text: string
  readonly terminated: boolean
}

/**
 * Push physical lines in, get logical lines out (through `emit`, in input order). Holds at most the
 * sniff sample and one pending record.
 */
export class Assembler {
  private readonly mode: RepairMode
  private readonly decodeOptions: DecodeOptions
  private readonly sniffLines: number
  private readonly maxContinuation: number
  private sniff: PhysicalLine[] | undefined
  private qp = false
  private html = false
  private lineNumbers = false
  private pasteTimes = false
  private qpPending: { text: string; first: number } | undefined
  private pending: Pending | undefined
  private seenRecord = false
  private readonly marks = new Map<RepairKind, LineRanges>()

  constructor(options: AssemblerOptions, private readonly emit: (l: LogicalLine) => void) {
    this.mode = options.mode ?? 'auto'
    this.decodeOptions = options.decode ?? {}
    this.sniffLines = options.sniffLines ?? 200
    this.maxContinuation = options.maxContinuation ?? 8
    this.sniff = this.mode === 'off' ? undefined : []
  }

  push(p: PhysicalLine): void {
    if (this.sniff !== undefined) {
      this.sniff.push(p)
      if (this.sniff.length >= this.sniffLines) this.decide()
      return
    }
    this.physical(p)
  }

  end(): void {
    if (this.sniff !== undefined) this.decide()
    if (this.qpPending !== undefined) {
      const q = this.qpPending
      this.qpPending = undefined
      this.piece({ first: q.first, last: q.first, text: decodeQuotedPrintable(q.text), terminated: false })
    }
    this.flush()
  }

  report(): RepairReport {
    const kinds: { [K in RepairKind]?: RepairCount } = {}
    for (const k of repairKinds) {
      const r = this.marks.get(k)
      if (r !== undefined && r.count > 0) kinds[k] = r.snapshot()
    }
    return {
      mode: this.mode,
      detected: { quotedPrintable: this.qp, html: this.html, lineNumbers: this.lineNumbers, pasteTimestamps: this.pasteTimes },
      kinds,
      repaired: Object.keys(kinds).length > 0,
    }
  }

  // ---- detection

  private decide(): void {
    const sample = this.sniff ?? []
    this.sniff = undefined
    let soft = 0
    let escapes = 0
    let html = 0
    let records = 0
    let numbered = 0
    let consecutive = 0
    let prevNumber = -2
    let timed = 0
    for (const { text } of sample) {
      if (text.endsWith('=') && !/^[=\s]*$/.test(text)) soft++
      escapes += text.match(QP_ESCAPE)?.length ?? 0
      if (HTML_EVIDENCE.test(text)) html++
      const plain = text.replace(QUOTE_PREFIX, '')
      const n = LINE_NUMBER.exec(plain)
      if (n && hasEvent(parseRecord(plain.slice(n[0].length)))) {
        numbered++
        const v = Number(n[1])
        if (v === prevNumber + 1) consecutive++
        prevNumber = v
      }
      const t = PASTE_TIME.exec(plain)
      if (t && hasEvent(parseRecord(plain.slice(t[0].length)))) timed++
      if (hasEvent(parseRecord(plain))) records++
    }
    const force = this.mode === 'on'
    this.qp = force || (soft >= 1 && escapes >= 1) || escapes >= 3
    this.html = force || html >= 1
    const recordish = Math.max(records, numbered, timed, 1)
    this.lineNumbers = numbered >= 3 && consecutive >= 2 && numbered >= 0.8 * recordish
    this.pasteTimes = timed >= 3 && timed >= 0.8 * recordish
    for (const p of sample) this.physical(p)
  }

  private mark(kind: RepairKind, from: number, to = from): void {
    let r = this.marks.get(kind)
    if (r === undefined) {
      r = new LineRanges()
      this.marks.set(kind, r)
    }
    r.addRange(from, to)
  }

  // ---- stage 1: quoted-printable soft breaks

  private physical(p: PhysicalLine): void {
    if (this.mode === 'off') {
      this.classified({ first: p.no, last: p.no, text: p.text, terminated: p.terminated }, p.text)
      return
    }
    if (!this.qp) {
      this.piece({ first: p.no, last: p.no, text: p.text, terminated: p.terminated })
      return
    }
    const first = this.qpPending?.first ?? p.no
    const text = (this.qpPending?.text ?? '') + p.text
    if (p.terminated && text.endsWith('=')) {
      this.qpPending = { text: text.slice(0, -1), first }
      return
    }
    this.qpPending = undefined
    const decoded = decodeQuotedPrintable(text)
    if (decoded !== text || first !== p.no) this.mark('quotedPrintable', first, p.no)
    this.piece({ first, last: p.no, text: decoded, terminated: p.terminated })
  }

  // ---- stage 2: per-line transforms

  private piece(pc: Piece): void {
    let t = pc.text
    if (this.html) {
      const d = decodeHtml(t)
      if (d !== t) this.mark('htmlEntities', pc.first, pc.last)
      t = d
    }
    if (ODD_SPACE.test(t)) {
      this.mark('unicodeSpaces', pc.first, pc.last)
      t = t.replace(UNICODE_SPACE, ' ').replace(ZERO_WIDTH, '')
    }
    const q = QUOTE_PREFIX.exec(t)
    if (q) {
      this.mark('quotePrefix', pc.first, pc.last)
      t = t.slice(q[0].length)
    }
    const s = SURROUNDING.exec(t)
    if (s && hasEvent(parseRecord(s[2] ?? ''))) {
      this.mark('surroundingQuotes', pc.first, pc.last)
      t = s[2] ?? ''
    }
    if (this.lineNumbers) {
      const n = LINE_NUMBER.exec(t)
      if (n && hasEvent(parseRecord(t.slice(n[0].length)))) {
        this.mark('lineNumber', pc.first, pc.last)
        t = t.slice(n[0].length)
      }
    }
    if (this.pasteTimes) {
      const n = PASTE_TIME.exec(t)
      if (n && hasEvent(parseRecord(t.slice(n[0].length)))) {
        this.mark('pasteTimestamp', pc.first, pc.last)
        t = t.slice(n[0].length)
      }
    }
    this.classified(pc, t)
  }

  // ---- stage 3: classification and joining

  private classified(pc: Piece, text: string): void {
    const trimmed = text.trimStart()
    let record: ParsedRecord | undefined
    let special: SpecialLine | undefined
    if (trimmed.length === 0) special = { kind: 'blank' }
    else if (trimmed.charCodeAt(0) === 35 /* # */) special = classifySpecial(text)
    else {
      record = parseRecord(text)
      if (record === undefined) special = classifySpecial(text)
    }
    if (this.mode === 'off') {
      if (record !== undefined) this.emit({ line: pc.first, endLine: pc.last, text, terminated: pc.terminated, cls: 'record', record })
      else this.emitOther(pc, text, special, false)
      return
    }
    if (this.tryJoin(pc, text, record, special)) return
    this.flush()
    if (record !== undefined) {
      this.seenRecord = true
      this.pending = {
        line: pc.first, endLine: pc.last, text, record, decoded: undefined, physCount: 1, lastPhys: text, terminated: pc.terminated,
      }
      return
    }
    this.emitOther(pc, text, special, true)
  }

  private emitOther(pc: Piece, text: string, special: SpecialLine | undefined, repairing: boolean): void {
    const base = { line: pc.first, endLine: pc.last, text, terminated: pc.terminated }
    if (special === undefined) {
      if (repairing) this.mark('commentary', pc.first, pc.last)
      this.emit({ ...base, cls: 'text', ...(repairing ? { commentary: true as const } : {}) })
      return
    }
    if (repairing && special.kind === 'elision') this.mark('elision', pc.first, pc.last)
    const commentary = repairing && special.kind === 'comment' && this.seenRecord
    if (commentary) this.mark('commentary', pc.first, pc.last)
    this.emit({ ...base, cls: special.kind, special, ...(commentary ? { commentary: true as const } : {}) })
  }

  private flush(): void {
    const p = this.pending
    if (p === undefined) return
    this.pending = undefined
    this.emit({
      line: p.line, endLine: p.endLine, text: p.text, terminated: p.terminated, cls: 'record', record: p.record,
      ...(p.decoded !== undefined ? { decoded: p.decoded } : {}),
    })
  }

  private decode(r: ParsedRecord): Decoded | DecodeFailure | undefined {
    return r.event === undefined ? undefined : decodeFields(r.event, r.fields, this.decodeOptions)
  }

  /** Join the current line to the pending record when it continues it (see the module header). */
  private tryJoin(pc: Piece, text: string, record: ParsedRecord | undefined, special: SpecialLine | undefined): boolean {
    const p = this.pending
    if (p === undefined || p.physCount >= this.maxContinuation) return false
    if (special !== undefined) return false
    const cont = text.trim()
    const base = p.text.trimEnd()
    const join = (joined: string, r: ParsedRecord, d: Decoded | DecodeFailure | undefined): true => {
      this.mark('wrappedLine', pc.first, pc.last)
      p.text = joined
      p.record = r
      p.decoded = d
      p.endLine = pc.last
      p.physCount++
      p.lastPhys = text
      p.terminated = pc.terminated
      return true
    }
    // a header wrapped after its timestamp takes whatever comes next, a bare record included
    if (p.record.event === undefined && p.record.noEvent === undefined) {
      if (record !== undefined && record.layout !== 'bare') return false
      const joined = `${base} ${cont}`
      const r = parseRecord(joined)
      if (r === undefined) return false
      return join(joined, r, this.decode(r))
    }
    if (record !== undefined) return false
    const event = p.record.event
    if (event !== undefined && isKnownEvent(event)) {
      const before = p.decoded ?? this.decode(p.record)
      for (const joined of [`${base} ${cont}`, `${base}${cont}`]) {
        const r = parseRecord(joined)
        if (r === undefined || r.event !== event) continue
        const d = this.decode(r)
        if (d !== undefined && !isDecodeFailure(d)) return join(joined, r, d)
      }
      if (before !== undefined && isDecodeFailure(before)) {
        const joined = `${base} ${cont}`
        const r = parseRecord(joined)
        if (r !== undefined && r.event === event) return join(joined, r, this.decode(r))
      }
      p.decoded = before
      return false
    }
    const endsBlank = /\s$/.test(p.lastPhys)
    const noFields = p.record.fields.trim().length === 0
    const keyValue = p.lastPhys.length >= 60 && KEY_VALUE_START.test(cont)
    if (!endsBlank && !noFields && !keyValue) return false
    const joined = `${base} ${cont}`
    const r = parseRecord(joined)
    if (r === undefined) return false
    return join(joined, r, undefined)
  }
}

/** Run the pre-pass over in-memory physical lines (tests, small inputs). */
export const assemble = (lines: Iterable<PhysicalLine>, options: AssemblerOptions = {}): { lines: LogicalLine[]; report: RepairReport } => {
  const out: LogicalLine[] = []
  const a = new Assembler(options, (l) => out.push(l))
  for (const l of lines) a.push(l)
  a.end()
  return { lines: out, report: a.report() }
}
