/**
 * Input errors of the trace readers, as values.
 *
 * Every way an input file can be unreadable has a stable code (`HVT0nn`), listed once below with a
 * one-line meaning (quint's `quintError.ts` pattern, STYLE.md "Naming conventions"). An error always
 * names the file and, where the problem is on a line, the 1-based PHYSICAL line of the input file
 * (for a record repaired from several physical lines: the line where the record starts).
 *
 * Errors are plain data (`_tag: 'TraceError'`), never thrown: readers return them. A thrown exception
 * out of `traces/` is a bug.
 *
 * Codes HVT001-HVT049 belong to the readers (this folder's parser half); HVT050 and up are left to the
 * validator.
 */

export type TraceErrorCode =
  /** The file could not be opened or read (I/O error from the OS). */
  | 'HVT001'
  /** The input is not a text trace of a supported kind (binary data, e.g. a `trace-cmd record` .dat file). */
  | 'HVT002'
  /** A known event whose fields do not match any documented format of that event. */
  | 'HVT010'
  /** A record without fields: a header without an event (a wrapped line?), or an event name alone. */
  | 'HVT011'
  /** The last line of the file is cut off (no newline at the end) and does not parse. */
  | 'HVT012'
  /** A JSONL line that is not valid JSON, or not a JSON object. */
  | 'HVT020'
  /** A JSONL object that does not match the virq JSONL schema (see traces/jsonl.ts). */
  | 'HVT021'
  /** An ITF document that is not valid JSON or does not match the ITF schema. */
  | 'HVT030'
  /** An ITF state whose event value cannot be decoded. */
  | 'HVT031'

export interface TraceError {
  readonly _tag: 'TraceError'
  readonly code: TraceErrorCode
  /** The file as given to the reader (or `<input>` for in-memory input). */
  readonly file: string
  /** 1-based physical line of the input file, when the problem is on a line. */
  readonly line: number | undefined
  /** What is wrong, in words, including what was expected. */
  readonly reason: string
  /** The event name, when the problem is in a record of a known event. */
  readonly event?: string
  /** The offending text (trimmed to 300 characters). */
  readonly text?: string
}

/** A short description of each code, for documentation and `--help` output. */
export const traceErrorCodes: Readonly<Record<TraceErrorCode, string>> = {
  HVT001: 'file cannot be read',
  HVT002: 'not a text trace',
  HVT010: 'known event with fields that do not parse',
  HVT011: 'record without fields',
  HVT012: 'last line cut off',
  HVT020: 'JSONL line is not a JSON object',
  HVT021: 'JSONL object does not match the schema',
  HVT030: 'ITF document does not parse',
  HVT031: 'ITF state event does not decode',
}

/** @category constructors */
export const traceError = (
  code: TraceErrorCode,
  file: string,
  line: number | undefined,
  reason: string,
  extra: { readonly event?: string; readonly text?: string } = {},
): TraceError => ({
  _tag: 'TraceError',
  code,
  file,
  line,
  reason,
  ...(extra.event !== undefined ? { event: extra.event } : {}),
  ...(extra.text !== undefined ? { text: extra.text.length > 300 ? `${extra.text.slice(0, 300)}…` : extra.text } : {}),
})

/** One line for a terminal: `file:line: HVT010 reason`. */
export const formatTraceError = (e: TraceError): string =>
  `${e.file}${e.line !== undefined ? `:${e.line}` : ''}: ${e.code} ${e.reason}${e.text !== undefined ? `\n  | ${e.text}` : ''}`

/** @category guards */
export const isTraceError = (u: unknown): u is TraceError =>
  typeof u === 'object' && u !== null && (u as { _tag?: unknown })._tag === 'TraceError'
