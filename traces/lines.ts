/**
 * Physical lines of a text input, streamed with bounded memory.
 *
 * A physical line ends at `\n`; a `\r` before it is dropped (CRLF files). The last line of a file that
 * does not end with `\n` is still a line, flagged `terminated: false`, so a reader can tell a file
 * cut off mid-line. Numbering is 1-based and is the `line` every error and observation reports.
 *
 * Memory: only the current chunk and the unfinished tail line are held, never the whole file.
 */

export interface PhysicalLine {
  /** 1-based physical line number. */
  readonly no: number
  readonly text: string
  /** The line ended with a newline (false only for a last line without one). */
  readonly terminated: boolean
}

/** Push-based splitter: feed decoded text chunks, receive whole lines. */
export class LineSplitter {
  private tail = ''
  private no = 0
  constructor(private readonly emit: (line: PhysicalLine) => void) {}

  push(chunk: string): void {
    let start = 0
    let text = this.tail.length > 0 ? this.tail + chunk : chunk
    this.tail = ''
    for (;;) {
      const nl = text.indexOf('\n', start)
      if (nl < 0) break
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl
      this.emit({ no: ++this.no, text: text.slice(start, end), terminated: true })
      start = nl + 1
    }
    this.tail = start < text.length ? text.slice(start) : ''
    text = ''
  }

  /** Flush the unterminated last line, if any. */
  end(): void {
    if (this.tail.length > 0) {
      const t = this.tail.endsWith('\r') ? this.tail.slice(0, -1) : this.tail
      this.tail = ''
      this.emit({ no: ++this.no, text: t, terminated: false })
    }
  }

  /** Lines emitted so far. */
  get count(): number {
    return this.no
  }
}

/** Split an in-memory string into physical lines (for tests and small inputs). */
export const splitLines = (text: string): PhysicalLine[] => {
  const out: PhysicalLine[] = []
  const s = new LineSplitter((l) => out.push(l))
  s.push(text)
  s.end()
  return out
}
