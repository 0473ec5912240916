/**
 * Mutation analysis of the validator on a trace that conforms: every observed event is removed,
 * duplicated, moved one record later, or altered (its first number + 1), one at a time, and each
 * derived trace is validated again. A mutant is *rejected* when the validator diverges, and it must
 * then diverge at or after the first line the mutation touched (the prefix before it is the original
 * trace, which conforms). A mutant is *accepted* when it is still a possible behaviour as far as the
 * validator's rules can see; `reasonAccepted` classifies why.
 *
 * Used by `npm run bench` (the table in docs/mutants.md) and by test/mutants.test.ts.
 */
import { FtraceParser, parseFtraceText } from './ftrace.js'
import { fullyObservedFromHeader, Validator, type Verdict } from './validate.js'

export type MutationKind = 'remove' | 'duplicate' | 'move' | 'alter'

export interface Mutant {
  readonly kind: MutationKind
  /** 1-based line of the mutated record in the original trace. */
  readonly line: number
  readonly event: string
  /** First line of the mutant that differs from the original (where a divergence may start). */
  readonly firstTouched: number
  readonly verdict: Verdict['verdict']
  readonly divergedAt?: number
  readonly rule?: string
  /** For a move: the line of the record it was swapped with. */
  readonly swappedWith?: number
}

export const validateText = (text: string, file = 'mutant'): Verdict => {
  const fo = fullyObservedFromHeader(text.slice(0, 4096))
  const v = new Validator(file, fo ? { fullyObserved: fo } : {})
  // Streamed in file order, so undecoded events reach the validator where they occur.
  const p = new FtraceParser({ file, onUnknown: (e, l) => v.unknownEvent(e, l) }, (o) => v.observe(o))
  p.pushText(text)
  const r = p.end()
  if (r.error) return { ...v.end(), verdict: 'diverges', contradiction: { file, line: r.error.line ?? 0, rule: `parse:${r.error.code}`, expected: '', observed: r.error.reason, text: '' } }
  return v.end(r.summary.linesRead)
}

/** Every single-event mutant of `text` (which should conform), with its verdict. */
export const mutants = (text: string): Mutant[] => {
  const lines = text.split('\n')
  const parsed = parseFtraceText(text, { file: 'original' })
  const records = parsed.observations.filter((o) => o._tag !== 'TraceGap').map((o) => ({ line: o.line, event: o.event }))
  const out: Mutant[] = []
  const run = (kind: MutationKind, r: { line: number; event: string }, mutated: string[], firstTouched: number, swappedWith?: number): void => {
    const v = validateText(mutated.join('\n'))
    out.push({
      kind, line: r.line, event: r.event, firstTouched, verdict: v.verdict, ...(swappedWith !== undefined ? { swappedWith } : {}),
      ...(v.contradiction ? { divergedAt: v.contradiction.line, rule: v.contradiction.rule } : {}),
    })
  }
  records.forEach((r, k) => {
    const i = r.line - 1
    // A record is one physical line here (the captures and fixtures used are not wrapped).
    run('remove', r, [...lines.slice(0, i), ...lines.slice(i + 1)], r.line)
    run('duplicate', r, [...lines.slice(0, i + 1), lines[i]!, ...lines.slice(i + 1)], r.line + 1)
    const next = records[k + 1]
    if (next) {
      const j = next.line - 1
      const m = [...lines]
      m[i] = lines[j]!
      m[j] = lines[i]!
      run('move', r, m, r.line, next.line)
    }
    const colon = lines[i]!.indexOf(`${r.event}:`)
    if (colon >= 0) {
      const head = lines[i]!.slice(0, colon + r.event.length + 1)
      const body = lines[i]!.slice(colon + r.event.length + 1)
      const altered = body.replace(/(0x[0-9a-f]+|\b\d+\b)/i, (n) => (n.startsWith('0x') ? `0x${(parseInt(n, 16) + 1).toString(16)}` : String(Number(n) + 1)))
      if (altered !== body) {
        const m = [...lines]
        m[i] = head + altered
        run('alter', r, m, r.line)
      }
    }
  })
  return out
}

/** Events some validator rule reads (traces/validate.ts); mutants of other events cannot be rejected. */
export const RULE_EVENTS = new Set(['kvm_pio', 'kvm_set_irq', 'kvm_pic_set_irq', 'kvm_ioapic_set_irq', 'kvm_ack_irq', 'kvm_eoi', 'kvm_apic_accept_irq', 'kvm_inj_virq', 'kvm_msi_set_irq', 'kvm_apic_ipi'])

/** Why an accepted mutant is still a possible behaviour, or at least not refutable from what the rules read. */
export const reasonAccepted = (m: Mutant): string => {
  if (!RULE_EVENTS.has(m.event)) return `no rule reads ${m.event} (exits, entries, MMIO, MSRs, FPU, TSC: the validator does not model the run loop)`
  switch (m.event) {
    case 'kvm_pio':
      return 'a port the 8259 replay does not decode, or a write the rules cannot tell from the original (e.g. an idempotent OCW1 rewrite, a command whose effect no later traced event shows)'
    case 'kvm_apic_accept_irq':
    case 'kvm_inj_virq':
    case 'kvm_eoi':
      return 'LAPIC state (IRR/ISR) is only partly known from the trace: a vector may have been pending or in service before the trace began, and an APIC that is disabled accepts nothing without a trace, so adding, dropping or reordering one of these is not refutable yet'
    case 'kvm_apic_ipi':
    case 'kvm_msi_set_irq':
      return 'only the accept that immediately follows is checked; without it (destination disabled) or with it moved, the rules have nothing to compare'
    case 'kvm_ack_irq':
      return 'the ack rule needs the PIC state; IOAPIC acks only forget remote IRR (which makes later checks weaker, never contradicts)'
    default:
      return `${m.kind} of ${m.event}: the learned routing and line levels still admit it (levels of sources not yet seen low are unknown)`
  }
}
