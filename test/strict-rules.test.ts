// The strict rules of fully observed captures (traces/validate.ts, module comment). Each rule gets a small
// hand-written trace in the layout of this kernel's ftrace (copied from test/fixtures/captures/ipi.trace's
// lines, 6.1 kvm_amd) that follows the kernel's order of events, so it conforms, and one change that
// makes exactly one event impossible by that rule's kernel fact, which must be reported at that line.
// Where the expected line is not the changed one, the comment says why (the change leaves an earlier
// event's obligation unmet at a later line). The same changes under a header that does not claim full
// observation must not be flagged by the strict rules.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FtraceParser } from '../traces/ftrace.js'
import { fullyObservedFromHeader, Validator, type Verdict } from '../traces/validate.js'

const C0 = 'CPU 0/KVM-120'
const C1 = 'CPU 1/KVM-121'
type Rec = readonly [thread: string, body: string]

const header = (o: { vcpus?: number; vendor?: string; irqchip?: string; entries?: string } = {}): string[] => [
  '# virq capture: scenario strict-rules-test',
  `# virq capture: kernel Linux 6.1.0-50-amd64 x86_64; vendor module ${o.vendor ?? 'kvm_amd'}; ${o.vcpus === undefined ? '' : `vcpus ${o.vcpus}; `}recorded 2026-12-06T13:09:18Z by native/virq-vmm`,
  `# virq capture: irqchip ${o.irqchip ?? 'in-kernel'} (KVM_CREATE_IRQCHIP)`,
  '# tracer: nop',
  '#',
  `# entries-in-buffer/entries-written: ${o.entries ?? '100/100'}   #P:2`,
  '#',
]

const render = (head: string[], recs: readonly Rec[]): string =>
  [...head, ...recs.map(([t, b], i) => `${t.padStart(18)}     [00${t === C1 ? 1 : 0}] .....    11.${String(100000 + i * 10).padStart(6, '0')}: ${b}`)].join('\n') + '\n'

/** `complete`: the trace is a whole capture (it ends where the harness stopped tracing, every KVM_RUN
 *  returned); otherwise it is a capture's first part, and obligations still open at its end are not checked. */
const validate = (text: string, complete = false): Verdict => {
  const fo = fullyObservedFromHeader(text.slice(0, 4096))
  const v = new Validator('t.trace', fo ? { fullyObserved: fo } : {})
  const p = new FtraceParser({ file: 't.trace', onUnknown: (e, l) => v.unknownEvent(e, l) }, (o) => v.observe(o))
  p.pushText(text)
  const r = p.end()
  assert.equal(r.error, undefined, JSON.stringify(r.error))
  return v.end(complete ? r.summary.linesRead : undefined)
}

const RUN0: Rec = [C0, 'sys_ioctl(fd: 5, cmd: ae80, arg: 0)']
const RUN1: Rec = [C1, 'sys_ioctl(fd: 6, cmd: ae80, arg: 0)']
const entry = (t: string): Rec => [t, `kvm_entry: vcpu ${t === C1 ? 1 : 0}, rip 0x1000`]
/** A nested page fault exit (a write: error code 0xe); by default on guest RAM (a stack page), which no kvm_mmio follows. */
const exit = (t: string, intrInfo = '0x00000000', gpa = 0x6ffc): Rec => [t, `kvm_exit: vcpu ${t === C1 ? 1 : 0} reason npf rip 0x1000 info1 0x000000010000000e info2 0x${gpa.toString(16).padStart(16, '0')} intr_info ${intrInfo} error_code 0x00000000`]
/** The write fault of an xAPIC (0xfee00000) or IOAPIC (0xfec00000) register access, emulated: its kvm_mmio follows. */
const mmioExit = (t: string, gpa: number): Rec => exit(t, '0x00000000', gpa)
const icr = (t: string, value: string): Rec => [t, `kvm_apic: apic_write APIC_ICR = ${value}`]
const ipi = (t: string, dst: number, vec: number): Rec => [t, `kvm_apic_ipi: dst ${dst} vec ${vec} (Fixed|physical|assert|edge|dst)`]
const accept = (t: string, apicid: number, vec: number): Rec => [t, `kvm_apic_accept_irq: apicid ${apicid} vec ${vec} (Fixed|edge)`]
const inj = (t: string, vec: number, reinjected = false): Rec => [t, `kvm_inj_virq: IRQ 0x${vec.toString(16)}${reinjected ? ' [reinjected]' : ''}`]
const eoiWrite = (t: string): Rec => [t, 'kvm_apic: apic_write APIC_EOI = 0x0']
const eoi = (t: string, apicid: number, vector: number): Rec => [t, `kvm_eoi: apicid ${apicid} vector ${vector}`]
/** vCPU t sends a fixed physical IPI with vector vec to vCPU dst, from guest mode and back. */
/** The guest's xAPIC MMIO write (x86.c write_mmio traces it before apic_mmio_write). */
const mmio = (t: string, offset: number, val: string): Rec => [t, `kvm_mmio: mmio write len 4 gpa 0x${(0xfee00000 + offset).toString(16)} val ${val}`]
const sendIpi = (t: string, dst: number, vec: number): Rec[] => [mmioExit(t, 0xfee00300), mmio(t, 0x300, `0x${(0x4000 | vec).toString(16)}`), icr(t, `0x${(0x4000 | vec).toString(16)}`), ipi(t, dst, vec), accept(t, dst, vec), entry(t)]
/** vCPU t takes vector vec: an exit, the injection, the entry. */
const take = (t: string, vec: number): Rec[] => [exit(t), inj(t, vec), entry(t)]
/** vCPU t's handler EOIs: an exit for the APIC_EOI write, the EOI of vector vec, the entry. */
const doEoi = (t: string, apicid: number, vec: number): Rec[] => [mmioExit(t, 0xfee000b0), mmio(t, 0xb0, '0x0'), eoiWrite(t), eoi(t, apicid, vec), entry(t)]

/** vCPU 0 IPIs vCPU 1 (vector 0x42), which takes it and EOIs it. */
const BASE: Rec[] = [RUN0, RUN1, entry(C0), entry(C1), ...sendIpi(C0, 1, 0x42), ...take(C1, 0x42), ...doEoi(C1, 1, 0x42)]

/** The guest programs IOAPIC pin 10: level, vector 0x40, physical destination 0 (IOREGSEL 0x25, the high half, then 0x24: 0x10 + 2 × pin). */
const ioapicMmio = (off: number, val: string): Rec => [C0, `kvm_mmio: mmio write len 4 gpa 0x${(0xfec00000 + off).toString(16)} val ${val}`]
const PROGRAM10: Rec[] = [RUN0, entry(C0), mmioExit(C0, 0xfec00000), ioapicMmio(0, '0x25'), ioapicMmio(0x10, '0x0'), ioapicMmio(0, '0x24'), ioapicMmio(0x10, '0x8040'), entry(C0)]

/** 1-based file line of record i of a trace rendered with the 7-line header. */
const lineOf = (i: number): number => header().length + i + 1
const at = (recs: readonly Rec[], rec: Rec, from = 0): number => {
  const i = recs.findIndex((r, j) => j >= from && r[0] === rec[0] && r[1] === rec[1])
  assert.ok(i >= 0, `record not found: ${rec[1]}`)
  return i
}
const without = (recs: readonly Rec[], i: number): Rec[] => recs.filter((_, j) => j !== i)
const replaced = (recs: readonly Rec[], i: number, r: Rec): Rec[] => recs.map((x, j) => (j === i ? r : x))
const inserted = (recs: readonly Rec[], i: number, ...r: Rec[]): Rec[] => [...recs.slice(0, i), ...r, ...recs.slice(i)]

const conforms = (recs: readonly Rec[], head = header({ vcpus: 2 })): Verdict => {
  const v = validate(render(head, recs))
  assert.equal(v.verdict, 'conforms', JSON.stringify(v.contradiction))
  return v
}
// set-irq-fans-out-as-routed is strict for captures only in that it starts from the default routing.
const STRICT = new Set(['set-irq-fans-out-as-routed', 'ioapic-entry-as-written', 'apic-mmio-dispatch', 'pio-matches-io-exit', 'irq-line-ioctl-sets-irq', 'signal-msi-ioctl-traces-msi', 'accept-has-traced-cause', 'unicast-reaches-destination', 'ioapic-delivers-its-entry', 'inj-virq-from-pending-irr', 'inj-virq-above-ppr', 'eoi-names-vector-in-service', 'apic-write-effect', 'kvm-run-brackets', 'vcpu-matches-thread', 'entry-exit-alternate', 'vcpu-work-outside-guest', 'reinjection-of-interrupted-event', 'window-kvm-interrupt-injected', 'npf-mmio-write-traced'])
const diverges = (recs: readonly Rec[], rule: string, index: number, head = header({ vcpus: 2 })): void => {
  assert.ok(STRICT.has(rule), rule)
  const v = validate(render(head, recs))
  assert.equal(v.verdict, 'diverges', `expected ${rule} at line ${lineOf(index)}, the trace conforms`)
  assert.deepEqual({ rule: v.contradiction!.rule, line: v.contradiction!.line }, { rule, line: lineOf(index) }, JSON.stringify(v.contradiction))
  // The same trace when the ring buffer lost entries is not fully observed: no strict rule applies.
  const lossy = validate(render(header({ vcpus: 2, entries: '100/103' }), recs))
  assert.ok(!lossy.contradiction || !STRICT.has(lossy.contradiction.rule), `lossy trace flagged by ${lossy.contradiction?.rule}`)
}

test('the base trace (an IPI taken and EOIed) conforms and is checked by the strict rules', () => {
  const v = conforms(BASE)
  for (const rule of ['accept-has-traced-cause', 'unicast-reaches-destination', 'inj-virq-from-pending-irr', 'eoi-names-vector-in-service', 'apic-write-effect', 'kvm-run-brackets', 'vcpu-matches-thread', 'entry-exit-alternate', 'reinjection-of-interrupted-event']) {
    if (rule === 'unicast-reaches-destination') continue // checked only when it fails (a missing accept)
    assert.ok((v.rulesChecked[rule] ?? 0) > 0, `${rule} not checked: ${JSON.stringify(v.rulesChecked)}`)
  }
})

test('fullyObservedFromHeader: only the harness header with a lossless ring buffer claims full observation', () => {
  assert.deepEqual(fullyObservedFromHeader(header({ vcpus: 2 }).join('\n')), { irqchip: 'in-kernel', vendor: 'kvm_amd', vcpus: 2 })
  assert.equal(fullyObservedFromHeader(header({ entries: '97/100' }).join('\n')), undefined, 'lost entries')
  assert.equal(fullyObservedFromHeader(header().filter((l) => !l.includes('kernel Linux')).join('\n')), undefined, 'no kernel line')
  assert.equal(fullyObservedFromHeader(header().filter((l) => !l.includes('irqchip')).join('\n')), undefined, 'no irqchip line')
  assert.equal(fullyObservedFromHeader(['# tracer: nop', '# entries-in-buffer/entries-written: 5/5   #P:2'].join('\n')), undefined, 'plain tracefs header')
})

test('accept-has-traced-cause: an accept with nothing before it that delivers, or one more than a unicast has', () => {
  // __apic_accept_irq traces every accept; in a fully observed trace each path into it is traced first.
  const i = at(BASE, take(C1, 0x42)[0]!)
  diverges(inserted(BASE, i + 1, accept(C1, 1, 0x42)), 'accept-has-traced-cause', i + 1)
  const a = at(BASE, accept(C0, 1, 0x42))
  diverges(inserted(BASE, a + 1, accept(C0, 1, 0x42)), 'accept-has-traced-cause', a + 1) // physical unicast: one APIC
  diverges(replaced(BASE, a, accept(C0, 1, 0x43)), 'accept-has-traced-cause', a) // not the IPI's vector
  // A source whose accepts have no traced cause (an MSR write may arm the TSC-deadline timer) turns it off.
  conforms(inserted(BASE, i + 1, [C1, 'kvm_msr: msr_write 6e0 = 0x1234'], accept(C1, 1, 0x42)))
})

test('unicast-reaches-destination: a fixed physical IPI to an existing vCPU is accepted before the sender goes on', () => {
  const a = at(BASE, accept(C0, 1, 0x42))
  // Removing the accept: the sender's next event (its kvm_entry) is the first that cannot happen yet.
  diverges(without(BASE, a), 'unicast-reaches-destination', a)
  // To APIC 5 of a 2-vCPU VM nothing accepts (kvm_irq_delivery_to_apic finds no destination).
  const to5: Rec[] = [RUN0, RUN1, entry(C0), entry(C1), mmioExit(C0, 0xfee00300), mmio(C0, 0x300, '0x4042'), icr(C0, '0x4042'), ipi(C0, 5, 0x42), entry(C0)]
  conforms(to5)
  diverges(to5, 'unicast-reaches-destination', to5.length - 1, header({ vcpus: 6 }))
})

test('inj-virq-from-pending-irr: an injected vector was accepted since its last injection', () => {
  const i = at(BASE, inj(C1, 0x42))
  diverges(replaced(BASE, i, inj(C1, 0x43)), 'inj-virq-from-pending-irr', i)
  // Taking 0x42 a second time after the EOI needs a second accept.
  const again = [...BASE, ...take(C1, 0x42)]
  diverges(again, 'inj-virq-from-pending-irr', BASE.length + 1)
  conforms([...BASE, ...sendIpi(C0, 1, 0x42), ...take(C1, 0x42)])
})

test('eoi-names-vector-in-service: kvm_eoi prints the highest vector in service, -1 for none', () => {
  const e = at(BASE, eoi(C1, 1, 0x42))
  diverges(replaced(BASE, e, eoi(C1, 1, 0x43)), 'eoi-names-vector-in-service', e)
  diverges(replaced(BASE, e, eoi(C1, 1, -1)), 'eoi-names-vector-in-service', e)
  // A second EOI finds ISR empty: -1 conforms, 0x42 does not.
  conforms([...BASE, ...doEoi(C1, 1, -1)])
  diverges([...BASE, ...doEoi(C1, 1, 0x42)], 'eoi-names-vector-in-service', BASE.length + 3)
})

test('inj-virq-above-ppr: a LAPIC vector is injected only above the priority class in service', () => {
  const inService = [RUN0, RUN1, entry(C0), entry(C1), ...sendIpi(C0, 1, 0x42), ...take(C1, 0x42)]
  // 0x51 is a higher class than 0x42: it nests. 0x41 is the same class: it waits for the EOI.
  conforms([...inService, ...sendIpi(C0, 1, 0x51), ...take(C1, 0x51), ...doEoi(C1, 1, 0x51), ...doEoi(C1, 1, 0x42)])
  const low = [...inService, ...sendIpi(C0, 1, 0x41), ...take(C1, 0x41)]
  diverges(low, 'inj-virq-above-ppr', low.length - 2)
  conforms([...inService, ...sendIpi(C0, 1, 0x41), ...doEoi(C1, 1, 0x42), ...take(C1, 0x41)])
})

test('apic-write-effect: an APIC_ICR write traces its IPI next, an APIC_EOI write its EOI, and no EOI comes without one', () => {
  const w = at(BASE, icr(C0, '0x4042'))
  // The IPI printed is not the one written (the guest wrote 0x4043).
  diverges(replaced(replaced(BASE, w, icr(C0, '0x4043')), w - 1, mmio(C0, 0x300, '0x4043')), 'apic-write-effect', w + 1)
  const e = at(BASE, eoiWrite(C1))
  // The kvm_eoi, now without its MMIO write and register write.
  diverges(without(without(BASE, e), e - 1), 'apic-write-effect', e - 1)
  diverges(without(BASE, e + 1), 'apic-write-effect', e + 1) // the write's next event is the entry, not the EOI
  // In xAPIC mode an IPI is only ever the guest's APIC_ICR write (kvm_apic_send_ipi): without it, none.
  const p = at(BASE, ipi(C0, 1, 0x42))
  diverges(without(without(BASE, w), w - 1), 'apic-write-effect', p - 2)
  // kvm_apic_ipi prints dst = ICR2[31:24] (GET_XAPIC_DEST_FIELD), whatever the guest last wrote there.
  const icr2 = (v: string): Rec[] => [mmioExit(C0, 0xfee00310), mmio(C0, 0x310, v), [C0, `kvm_apic: apic_write APIC_ICR2 = ${v}`], entry(C0)]
  const withIcr2 = inserted(BASE, 4, ...icr2('0x1000000'))
  conforms(withIcr2)
  diverges(inserted(BASE, 4, ...icr2('0x0')), 'apic-write-effect', p + 4)
})

test('accepts of a shorthand IPI: all reaches every vCPU, all-but-self every other one', () => {
  const all = (n: number): Rec[] => [RUN0, RUN1, entry(C0), entry(C1), mmioExit(C0, 0xfee00300), mmio(C0, 0x300, '0x84042'), icr(C0, '0x84042'),
    [C0, 'kvm_apic_ipi: dst 0 vec 66 (Fixed|physical|assert|edge|all)'], ...[0, 1].slice(0, n).map((d) => accept(C0, d, 0x42)), entry(C0)]
  conforms(all(2))
  diverges(all(1), 'unicast-reaches-destination', all(1).length - 1) // vCPU 1's accept is missing when the sender goes on
  const abs = (n: number): Rec[] => [RUN0, RUN1, entry(C0), entry(C1), mmioExit(C0, 0xfee00300), mmio(C0, 0x300, '0xc4042'), icr(C0, '0xc4042'),
    [C0, 'kvm_apic_ipi: dst 0 vec 66 (Fixed|physical|assert|edge|all-but-self)'], ...[1, 1].slice(0, n).map((d) => accept(C0, d, 0x42)), entry(C0)]
  conforms(abs(1))
  diverges(abs(2), 'accept-has-traced-cause', abs(2).length - 2) // a second accept: the sender is not a destination
})

test('kvm-run-brackets: a vCPU enters the guest only inside KVM_RUN, and each KVM_RUN returns once', () => {
  diverges(without(BASE, 1), 'kvm-run-brackets', at(without(BASE, 1), entry(C1)))
  const ret: Rec[] = [...BASE, exit(C1), [C1, 'kvm_userspace_exit: reason KVM_EXIT_IO (2)']]
  conforms([...ret, RUN1, entry(C1)])
  diverges([...ret, entry(C1)], 'kvm-run-brackets', ret.length)
  diverges(inserted(BASE, 2, RUN0), 'kvm-run-brackets', 2)
  // The first KVM_RUN removed: the entry before any traced ioctl is found impossible at the first ioctl
  // (ioctls are traced from before any vCPU ran), and reported at its own line.
  const first: Rec[] = [RUN0, entry(C0), exit(C0), [C0, 'kvm_userspace_exit: reason KVM_EXIT_MMIO (6)'], RUN0, entry(C0)]
  conforms(first, header({ vcpus: 1 }))
  diverges(without(first, 0), 'kvm-run-brackets', 0, header({ vcpus: 1 }))
  // A thread inside KVM_RUN is in the kernel: its next ioctl comes only after a kvm_userspace_exit.
  diverges(inserted(BASE, 3, [C0, 'sys_ioctl(fd: 4, cmd: 4008ae61, arg: 7f7c7809c1c8)']), 'kvm-run-brackets', 3)
})

test('vcpu-matches-thread: thread CPU n/KVM runs vCPU n only', () => {
  const i = at(BASE, entry(C0))
  diverges(replaced(BASE, i, [C0, 'kvm_entry: vcpu 1, rip 0x1000']), 'vcpu-matches-thread', i)
  // A thread of another name runs the vCPU it first ran (the harness runs each vCPU on its own thread).
  const M = 'virq-vmm-126'
  const one: Rec[] = [[M, 'sys_ioctl(fd: 5, cmd: ae80, arg: 0)'], [M, 'kvm_entry: vcpu 0, rip 0x1000'], [M, 'kvm_exit: vcpu 0 reason hlt rip 0x1000 info1 0x0 info2 0x0 intr_info 0x00000000 error_code 0x00000000'], [M, 'kvm_entry: vcpu 0, rip 0x1001']]
  conforms(one, header({ vcpus: 1 }))
  diverges(replaced(one, 3, [M, 'kvm_entry: vcpu 1, rip 0x1001']), 'vcpu-matches-thread', 3, header({ vcpus: 1 }))
})

test('entry-exit-alternate and vcpu-work-outside-guest (kvm_amd): one kvm_exit per kvm_entry, vCPU work outside the guest', () => {
  const i = at(BASE, entry(C0))
  diverges(inserted(BASE, i + 1, entry(C0)), 'entry-exit-alternate', i + 1)
  const x = at(BASE, mmioExit(C0, 0xfee00300))
  // Without the exit, the APIC write that follows is traced while the thread is in guest mode.
  diverges(without(BASE, x), 'vcpu-work-outside-guest', x)
  // The same trace from a kvm_intel host is not checked by these (VMX's fastpath re-enters untraced).
  const intel = header({ vcpus: 2, vendor: 'kvm_intel' })
  const v = validate(render(intel, inserted(BASE, i + 1, entry(C0))))
  assert.notEqual(v.contradiction?.rule, 'entry-exit-alternate')
})

test('reinjection-of-interrupted-event (kvm_amd): an exit that interrupted a delivery re-injects that vector first', () => {
  const pre = [RUN0, RUN1, entry(C0), entry(C1), ...sendIpi(C0, 1, 0x42), ...take(C1, 0x42)]
  const interrupted: Rec[] = [...pre, exit(C1, '0x80000042')]
  conforms([...interrupted, inj(C1, 0x42, true), entry(C1)])
  // A fresh injection while the interrupted one waits (x86.c kvm_check_and_inject_events re-injects first).
  const fresh = [...interrupted.slice(0, -1), ...sendIpi(C0, 1, 0x51), exit(C1, '0x80000042'), inj(C1, 0x51)]
  diverges(fresh, 'reinjection-of-interrupted-event', fresh.length - 1)
  diverges([...interrupted, inj(C1, 0x43, true)], 'reinjection-of-interrupted-event', interrupted.length)
  // Entering the guest without it (KVM_REQ_EVENT is set: kvm_check_and_inject_events runs and re-injects).
  diverges([...interrupted, entry(C1)], 'reinjection-of-interrupted-event', interrupted.length)
  // Unless an exception is injected instead (it is handled first there; what then happens to the
  // interrupt is not modelled, so the obligation is dropped).
  conforms([...interrupted, [C1, 'kvm_inj_exception: #GP (0x0)'], entry(C1)])
  // A re-injection with nothing interrupted: the last exit reported no delivery in progress.
  diverges([...pre, exit(C1), inj(C1, 0x42, true)], 'reinjection-of-interrupted-event', pre.length + 1)
})

test('ioapic-delivers-its-entry: accepts inside a fan-out come from an unmasked IOAPIC entry, its vector, its destination', () => {
  const irq: Rec[] = [
    ...PROGRAM10, [C0, 'kvm_exit: vcpu 0 reason io rip 0x119e info1 0x0000000005000010 info2 0x000000000000119f intr_info 0x00000000 error_code 0x00000000'],
    [C0, 'kvm_pio: pio_write at 0x500 size 1 count 1 val 0x1 '], [C0, 'kvm_userspace_exit: reason KVM_EXIT_IO (2)'],
    [C0, 'sys_ioctl(fd: 4, cmd: 4008ae61, arg: 7f7c7809c1c8)'], // KVM_IRQ_LINE
    [C0, 'kvm_set_irq: gsi 10 level 1 source 0'],
    [C0, 'kvm_apic_accept_irq: apicid 0 vec 64 (Fixed|level)'],
    [C0, 'kvm_ioapic_set_irq: pin 10 dst 0 vec 64 (Fixed|physical|level)'],
    [C0, 'kvm_pic_set_irq: chip 1 pin 2 (edge|masked)'],
    RUN0, inj(C0, 0x40), entry(C0),
  ]
  const head = header({ vcpus: 1 })
  conforms(irq, head)
  const io = irq.findIndex(([, b]) => b.startsWith('kvm_ioapic_set_irq'))
  // The guest wrote the entry masked (0x18040): no delivery, so the accept before the print is impossible.
  const w0 = irq.findIndex(([, b]) => b.endsWith('val 0x8040'))
  diverges(replaced(replaced(irq, io, [C0, 'kvm_ioapic_set_irq: pin 10 dst 0 vec 64 (Fixed|physical|level|masked)']), w0, ioapicMmio(0x10, '0x18040')), 'ioapic-delivers-its-entry', io, head)
  diverges(replaced(irq, io - 1, [C0, 'kvm_apic_accept_irq: apicid 0 vec 65 (Fixed|level)']), 'ioapic-delivers-its-entry', io, head)
  diverges(inserted(irq, io, [C0, 'kvm_apic_accept_irq: apicid 0 vec 64 (Fixed|level)']), 'ioapic-delivers-its-entry', io + 1, head)
  // Without the IOAPIC record: the default routing (KVM_CREATE_IRQCHIP) traces pin 10 of the IOAPIC before
  // the PIC, so the PIC record is out of place.
  diverges(without(irq, io), 'set-irq-fans-out-as-routed', io, head)
  // An irqchip set with no kvm_set_irq before it on its thread (here an irqfd kworker's): kvm_set_irq traces first.
  diverges([...irq, ['kworker/0:2-53', 'kvm_pic_set_irq: chip 1 pin 2 (edge|masked)']], 'set-irq-fans-out-as-routed', irq.length, head)
  conforms([...irq, ['kworker/0:2-53', 'kvm_set_irq: gsi 10 level 0 source 0'], ['kworker/0:2-53', 'kvm_ioapic_set_irq: pin 10 dst 0 vec 64 (Fixed|physical|level)'], ['kworker/0:2-53', 'kvm_pic_set_irq: chip 1 pin 2 (edge|masked)']], head)
  // An accept after the last IOAPIC record belongs to no pin: the fan-out ends (at the KVM_RUN) without one.
  diverges(inserted(irq, io + 2, [C0, 'kvm_apic_accept_irq: apicid 0 vec 64 (Fixed|level)']), 'ioapic-delivers-its-entry', io + 3, head)
  // kvm_ioapic_set_irq prints the entry the guest wrote: vector 0x41 written, 0x40 printed.
  const w = irq.findIndex(([, b]) => b.endsWith('val 0x8040'))
  diverges(replaced(irq, w, ioapicMmio(0x10, '0x8041')), 'ioapic-entry-as-written', io, head)
  // Without the programming the pin is masked (kvm_ioapic_reset).
  // (The exit is then another one, or the write fault's missing kvm_mmio is reported first.)
  diverges(irq.filter(([, b]) => !b.includes('gpa 0xfec')).map((r) => (r[1].includes('info2 0x00000000fec') ? exit(C0) : r)), 'ioapic-entry-as-written', io - 4, head)
  // The guest EOIs while the line is still high: the ack re-delivers pin 10's entry, once (physical dst 0).
  const again: Rec[] = [...irq, mmioExit(C0, 0xfee000b0), mmio(C0, 0xb0, '0x0'), eoiWrite(C0), eoi(C0, 0, 64), [C0, 'kvm_ack_irq: irqchip IOAPIC pin 10'], [C0, 'kvm_apic_accept_irq: apicid 0 vec 64 (Fixed|level)'], entry(C0)]
  conforms(again, head)
  diverges(inserted(again, again.length - 1, again[again.length - 2]!), 'accept-has-traced-cause', again.length - 1, head)
  diverges(replaced(again, again.length - 2, [C0, 'kvm_apic_accept_irq: apicid 0 vec 65 (Fixed|level)']), 'accept-has-traced-cause', again.length - 2, head)
  // After a write to the IOAPIC window the entry is no longer known: a second accept is not refuted.
  const rewritten = inserted(again, again.length - 6, [C0, 'kvm_mmio: mmio write len 4 gpa 0xfec00010 val 0x8041'])
  conforms(inserted(rewritten, rewritten.length - 1, rewritten[rewritten.length - 2]!), head)
})

/** vCPU 0 returns to the VMM for a port write, which then calls ioctl `cmd` (the records after it follow). */
const fromVmm = (cmd: string, ...after: Rec[]): Rec[] => [
  ...PROGRAM10, [C0, 'kvm_exit: vcpu 0 reason io rip 0x119e info1 0x0000000005000010 info2 0x000000000000119f intr_info 0x00000000 error_code 0x00000000'],
  [C0, 'kvm_pio: pio_write at 0x500 size 1 count 1 val 0x1 '], [C0, 'kvm_userspace_exit: reason KVM_EXIT_IO (2)'],
  [C0, `sys_ioctl(fd: 4, cmd: ${cmd}, arg: 7f7c7809c1c8)`], ...after, RUN0, entry(C0),
]

test('irq-line-ioctl-sets-irq: KVM_IRQ_LINE traces its kvm_set_irq next, and a VMM thread sets a line only so', () => {
  const head = header({ vcpus: 1 })
  const t = fromVmm('4008ae61', [C0, 'kvm_set_irq: gsi 10 level 0 source 0'], [C0, 'kvm_ioapic_set_irq: pin 10 dst 0 vec 64 (Fixed|physical|level)'], [C0, 'kvm_pic_set_irq: chip 1 pin 2 (edge|masked)'])
  conforms(t, head)
  const io = t.findIndex(([, b]) => b.includes('cmd: 4008ae61'))
  diverges(without(t, io), 'irq-line-ioctl-sets-irq', io) // the kvm_set_irq, with no ioctl before it
  diverges(inserted(t, io, t[io]!), 'irq-line-ioctl-sets-irq', io + 1) // the first ioctl's next event is the second
})

test('signal-msi-ioctl-traces-msi: KVM_SIGNAL_MSI traces kvm_msi_set_irq before its delivery', () => {
  const head = header({ vcpus: 1 })
  const t = fromVmm('4020aea5', [C0, 'kvm_msi_set_irq: dst 0 vec 65 (Fixed|physical|edge)'], accept(C0, 0, 65))
  conforms([...t, exit(C0), inj(C0, 0x41), entry(C0)], head)
  const m = t.findIndex(([, b]) => b.startsWith('kvm_msi_set_irq'))
  diverges(without(t, m), 'signal-msi-ioctl-traces-msi', m)
  // Without the ioctl: with the default routing no GSI is an MSI route, so a VMM thread outside KVM_RUN
  // traces kvm_msi_set_irq only for KVM_SIGNAL_MSI.
  const io = t.findIndex(([, b]) => b.includes('cmd: 4020aea5'))
  diverges(without(t, io), 'signal-msi-ioctl-traces-msi', io)
})

test('window-kvm-interrupt-injected (split irqchip): a KVM_INTERRUPT after an interrupt window exit is injected before the next entry', () => {
  const head = header({ vcpus: 1, irqchip: 'split' })
  const vintr: Rec = [C0, 'kvm_exit: vcpu 0 reason vintr rip 0x1056 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000']
  const t: Rec[] = [RUN0, entry(C0), vintr, [C0, 'kvm_userspace_exit: reason KVM_EXIT_IRQ_WINDOW_OPEN (7)'], [C0, 'sys_ioctl(fd: 5, cmd: 4004ae86, arg: 7f62c376d200)'], RUN0, inj(C0, 0x24), entry(C0)]
  const v = conforms(t, head)
  assert.equal(v.rulesChecked['window-kvm-interrupt-injected'], 1)
  const i = at(t, inj(C0, 0x24))
  diverges(without(t, i), 'window-kvm-interrupt-injected', i, head) // the entry, with the buffered vector not injected
  // Without the KVM_INTERRUPT there is nothing to inject, and after another ioctl (it may change the vCPU's state) nothing is claimed.
  conforms(without(without(t, i), 4), head)
  conforms(inserted(without(t, i), 4, [C0, 'sys_ioctl(fd: 5, cmd: 4090ae82, arg: 7f62c376d300)']), head)
})

test('kvm_userspace_exit: a reason name printed with another number is an input error at its line', () => {
  const t = fromVmm('4008ae61', [C0, 'kvm_set_irq: gsi 10 level 0 source 0'])
  const u = t.findIndex(([, b]) => b.startsWith('kvm_userspace_exit'))
  for (const [body, bad] of [['reason KVM_EXIT_IO (2)', false], ['reason restart (4)', false], ['reason error (14)', false], ['reason KVM_EXIT_IO (3)', true], ['reason restart (2)', true], ['reason KVM_EXIT_HLT (5)', false]] as const) {
    const p = new FtraceParser({ file: 't.trace' }, () => {})
    p.pushText(render(header({ vcpus: 1 }), replaced(t, u, [C0, `kvm_userspace_exit: ${body}`])))
    const r = p.end()
    if (bad) assert.deepEqual({ line: r.error?.line, file: r.error?.file }, { line: lineOf(u), file: 't.trace' }, body)
    else assert.equal(r.error, undefined, body)
  }
})

test('apic-mmio-dispatch: an xAPIC MMIO write traces its kvm_apic write next, and a register write has one', () => {
  const w = at(BASE, icr(C0, '0x4042'))
  diverges(replaced(BASE, w, icr(C0, '0x4043')), 'apic-mmio-dispatch', w) // not the value written
  diverges(without(BASE, w - 1), 'apic-mmio-dispatch', w - 1) // the register write, with no MMIO write before it
  diverges(without(BASE, w), 'apic-mmio-dispatch', w) // the MMIO write's next event is the IPI
  // After a wrmsr (the APIC base or x2APIC mode may have changed) the rule is off.
  const x = at(BASE, mmioExit(C0, 0xfee00300))
  const v = validate(render(header({ vcpus: 2 }), inserted(without(BASE, w - 1), x + 1, [C0, 'kvm_msr: msr_write 1b = 0xfee00900'])))
  assert.notEqual(v.contradiction?.rule, 'apic-mmio-dispatch', JSON.stringify(v.contradiction))
})

test('npf-mmio-write-traced (kvm_amd): a write fault on the IOAPIC or xAPIC page traces its kvm_mmio before the next entry', () => {
  const head = header({ vcpus: 1 })
  const t: Rec[] = [RUN0, entry(C0), mmioExit(C0, 0xfec00000), ioapicMmio(0, '0x25'), entry(C0), mmioExit(C0, 0xfec00010), ioapicMmio(0x10, '0x0'), entry(C0)]
  const v = conforms(t, head)
  assert.equal(v.rulesChecked['npf-mmio-write-traced'], 2)
  diverges(without(t, 3), 'npf-mmio-write-traced', 3, head) // the entry, with IOREGSEL's write untraced
  diverges(replaced(t, 6, ioapicMmio(0, '0x0')), 'npf-mmio-write-traced', 7, head) // a write of another address
  // A fault on guest RAM is handled without emulation: nothing is due.
  conforms([RUN0, entry(C0), exit(C0), entry(C0)], head)
})

test('pio-matches-io-exit (kvm_amd): an io exit traces one kvm_pio of its port, direction and size before the next entry', () => {
  const head = header({ vcpus: 1 })
  const io = (port: number, info: string): Rec[] => [[C0, `kvm_exit: vcpu 0 reason io rip 0x1160 info1 ${info} info2 0x0000000000001162 intr_info 0x00000000 error_code 0x00000000`], [C0, `kvm_pio: pio_write at 0x${port.toString(16)} size 1 count 1 val 0xff `]]
  const t: Rec[] = [RUN0, entry(C0), ...io(0xa1, '0x0000000000a10010'), entry(C0)]
  conforms(t, head)
  diverges(replaced(t, 3, [C0, 'kvm_pio: pio_write at 0xa2 size 1 count 1 val 0xff ']), 'pio-matches-io-exit', 3, head)
  diverges(replaced(t, 3, [C0, 'kvm_pio: pio_read at 0xa1 size 1 count 1 val 0xff ']), 'pio-matches-io-exit', 3, head)
  diverges(replaced(t, 3, [C0, 'kvm_pio: pio_write at 0xa1 size 2 count 1 val 0xff ']), 'pio-matches-io-exit', 3, head)
  diverges(inserted(t, 3, t[3]!), 'pio-matches-io-exit', 4, head) // one instruction, one access
  diverges(without(t, 3), 'pio-matches-io-exit', 3, head) // the entry, with the access not traced
  // An OUT to a port userspace emulates is traced before the exit to userspace.
  const out: Rec[] = [RUN0, entry(C0), ...io(0x500, '0x0000000005000010'), [C0, 'kvm_userspace_exit: reason KVM_EXIT_IO (2)'], RUN0, entry(C0)]
  conforms(out, head)
  diverges(without(out, 3), 'pio-matches-io-exit', 3, head)
  // A read from a port userspace emulates is traced when the next KVM_RUN completes it, before the entry.
  const inUser: Rec[] = [RUN0, entry(C0), [C0, 'kvm_exit: vcpu 0 reason io rip 0x1160 info1 0x0000000005000011 info2 0x0000000000001162 intr_info 0x00000000 error_code 0x00000000'], [C0, 'kvm_userspace_exit: reason KVM_EXIT_IO (2)'], RUN0, [C0, 'kvm_pio: pio_read at 0x500 size 1 count 1 val 0x7 '], entry(C0)]
  conforms(inUser, head)
  // ... and never outside KVM_RUN.
  diverges([...inUser.slice(0, 4), inUser[5]!, RUN0, entry(C0)], 'kvm-run-brackets', 4, head)
})

test('a vCPU with an injection in flight does not block (no kvm_vcpu_wakeup before its entry)', () => {
  const pre = [RUN0, RUN1, entry(C0), entry(C1), ...sendIpi(C0, 1, 0x42), exit(C1), inj(C1, 0x42)]
  conforms([...pre, entry(C1)])
  diverges([...pre, [C1, 'kvm_vcpu_wakeup: wait time 258170 ns, polling valid'], entry(C1)], 'reinjection-of-interrupted-event', pre.length)
  // Before the injection (the halted vCPU woke up, then took the interrupt) it is fine.
  conforms([...pre.slice(0, -1), [C1, 'kvm_vcpu_wakeup: wait time 258170 ns, polling valid'], inj(C1, 0x42), entry(C1)])
})

test('end of a whole capture: every KVM_RUN returned and no traced effect is still due', () => {
  const head = header({ vcpus: 2 })
  const uexit = (t: string): Rec => [t, 'kvm_userspace_exit: reason restart (4)']
  const whole: Rec[] = [...BASE, exit(C0), uexit(C0), exit(C1), uexit(C1)]
  const ok = validate(render(head, whole), true)
  assert.equal(ok.verdict, 'conforms', JSON.stringify(ok.contradiction))
  const endLine = lineOf(whole.length - 1) // the last physical line
  for (const [cut, rule] of [[whole.length - 1, 'kvm-run-brackets'], [whole.length - 3, 'kvm-run-brackets']] as const) {
    const v = validate(render(head, without(whole, cut)), true)
    assert.deepEqual({ rule: v.contradiction?.rule, line: v.contradiction?.line }, { rule, line: endLine - 1 }, JSON.stringify(v.contradiction))
  }
  // An IPI whose accept never comes, at the very end.
  const ipiLast: Rec[] = [...whole.slice(0, -1), mmio(C1, 0x300, '0x4042'), icr(C1, '0x4042'), ipi(C1, 0, 0x42)]
  const v = validate(render(head, ipiLast), true)
  assert.equal(v.contradiction?.line, lineOf(ipiLast.length - 1), JSON.stringify(v.contradiction))
  assert.ok(v.contradiction?.rule === 'unicast-reaches-destination' || v.contradiction?.rule === 'kvm-run-brackets', JSON.stringify(v.contradiction))
  // Not checked for a first part (complete = false): it may have been cut anywhere.
  assert.equal(validate(render(head, without(whole, whole.length - 1))).verdict, 'conforms')
})
