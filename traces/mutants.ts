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
  /** The record's thread (`task-pid`), and for a move the other record's. */
  readonly thread?: string
  readonly otherThread?: string
  /** The record as printed after its timestamp (the event name as the trace prints it, and its fields). */
  readonly fields: string
  /** Whether the trace is a fully observed capture (the strict rules apply). */
  readonly strict: boolean
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
  const strict = fullyObservedFromHeader(text.slice(0, 4096)) !== undefined
  const records = parsed.observations.filter((o) => o._tag !== 'TraceGap').map((o) => ({ line: o.line, event: o.event, thread: o.task !== undefined || o.pid !== undefined ? `${o.task ?? ''}-${o.pid ?? ''}` : undefined }))
  const byLine = new Map(records.map((r) => [r.line, r]))
  const out: Mutant[] = []
  const run = (kind: MutationKind, r: { line: number; event: string; thread: string | undefined }, mutated: string[], firstTouched: number, swappedWith?: number): void => {
    const v = validateText(mutated.join('\n'))
    const l = lines[r.line - 1]!
    const other = swappedWith !== undefined ? byLine.get(swappedWith)?.thread : undefined
    out.push({
      kind, line: r.line, event: r.event, firstTouched, verdict: v.verdict, ...(swappedWith !== undefined ? { swappedWith } : {}),
      ...(r.thread !== undefined ? { thread: r.thread } : {}), ...(other !== undefined ? { otherThread: other } : {}),
      fields: l.replace(/^.*?\d+\.\d+: /, '').trim(), strict,
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
export const RULE_EVENTS = new Set(['kvm_pio', 'kvm_set_irq', 'kvm_pic_set_irq', 'kvm_ioapic_set_irq', 'kvm_ack_irq', 'kvm_eoi', 'kvm_apic_accept_irq', 'kvm_inj_virq', 'kvm_msi_set_irq', 'kvm_apic_ipi', 'kvm_entry', 'kvm_exit', 'kvm_mmio', 'kvm_apic', 'kvm_userspace_exit', 'sys_enter_ioctl', 'kvm_vcpu_wakeup'])

/** A category of accepted mutants (docs/mutants.md) and why its members are still possible behaviours. */
export interface AcceptedReason {
  readonly category: string
  readonly reason: string
}

/**
 * Why an accepted mutant is still a possible behaviour. In a fully observed capture each category is a
 * kernel fact (cited); in other traces the lenient rules cannot refute it from what the trace reveals.
 */
export const acceptedReason = (m: Mutant): AcceptedReason => {
  if (m.kind === 'move' && m.thread !== undefined && m.otherThread !== undefined && m.thread !== m.otherThread)
    return { category: 'cross-thread-swap', reason: `swapped with line ${m.swappedWith}, an event of another thread (${m.otherThread}): each thread's own order is unchanged, and no kernel path makes either event wait for the other (an exit can come at any time; a vCPU woken by an accept can trace its wakeup or injection before the injecting thread traces the rest of its fan-out), so the other interleaving is also a behaviour` }
  if (!m.strict) {
    if (!RULE_EVENTS.has(m.event)) return { category: 'lenient-unread', reason: `not a fully observed capture, and no lenient rule reads ${m.event}` }
    return { category: 'lenient-unknown-state', reason: `not a fully observed capture (the trace may start mid-run or have lost events): the state that would refute this ${m.kind} of ${m.event} (LAPIC IRR/ISR, line levels, routing, the run loop) is not known from the trace` }
  }
  const reinjected = m.event === 'kvm_inj_virq' && m.fields.includes('[reinjected]')
  if (reinjected && (m.kind === 'remove' || m.kind === 'duplicate'))
    return { category: 'cancelled-entry', reason: 'x86.c vcpu_enter_guest can cancel an entry after the injection (a request or signal arrived: kvm_x86_ops.cancel_injection, untraced), and the next attempt re-injects the same vector, printed [reinjected]: an injection is followed by any number of re-injections before its kvm_entry' }
  if (m.event === 'kvm_vcpu_wakeup')
    return m.kind === 'remove'
      ? { category: 'wakeup-optional', reason: 'x86.c vcpu_block calls kvm_vcpu_halt (which traces kvm_vcpu_wakeup) only if the vCPU is not already runnable: a wake event that arrives between the hlt exit and vcpu_block leaves no kvm_vcpu_wakeup' }
      : m.kind === 'duplicate'
        ? { category: 'wakeup-repeatable', reason: 'kvm_vcpu_halt returns also for a signal or a spurious wakeup; vcpu_block then returns with the vCPU still halted and vcpu_run blocks again, tracing a second kvm_vcpu_wakeup (vcpu_valid_wakeup is true on x86)' }
        : { category: 'timing', reason: 'only the wait time changed: the model has no clock' }
  if (m.event === 'kvm_mmio' && /gpa 0xfec000/.test(m.fields)) {
    if (m.kind === 'duplicate') return { category: 'idempotent-ioapic-write', reason: 'ioapic.c ioapic_mmio_write: writing IOREGSEL or the window again with the same value leaves the IOAPIC as it was (a level pin is re-serviced only if unmasked with its line high, not the case here)' }
    return { category: 'ioapic-write-unobservable', reason: 'the high half of the redirection entry is written 0, its reset value (kvm_ioapic_reset), and a changed IOREGSEL selects a pin no later event uses: no traced event depends on this write (the value is in the instruction bytes of kvm_emulate_insn, which the validator does not decode)' }
  }
  if (m.event === 'kvm_inj_virq' && !reinjected)
    return m.kind === 'alter'
      ? { category: 'kvm-interrupt-vector', reason: 'the vector of a split irqchip KVM_INTERRUPT is behind the ioctl pointer (sys_enter_ioctl prints only the pointer) and chosen by the VMM\'s 8259, which is not modelled' }
      : { category: 'halted-kvm-interrupt', reason: 'a KVM_INTERRUPT after a restart exit (the VMM kicked the halted vCPU): it is injected before the next entry only if the guest halted with interrupts enabled, guest state no tracepoint shows' }
  if (m.event === 'sys_enter_ioctl' && m.kind === 'duplicate' && m.fields.includes('4004ae86'))
    return { category: 'kvm-interrupt-eexist', reason: 'a second KVM_INTERRUPT while one is buffered returns -EEXIST (x86.c kvm_vcpu_ioctl_interrupt), and the return value is not traced (no sys_exit_ioctl)' }
  return { category: 'other', reason: `${m.kind} of ${m.event}: no rule refutes it` }
}

/** The reason alone (`virq mutants --accepted`). */
export const reasonAccepted = (m: Mutant): string => acceptedReason(m).reason
