// split-irqchip: the ready predicate per kernel version against the spec's table, the walk of one interrupt,
// the fixed model at its bounds, and each bug variant's verdict with a counterexample length derived by hand.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { check, replayTrace } from '../checker/engine/explore.js'
import { buildSplit, readyForInjection, splitParams, type SplitEvent, type SplitParams, type SplitState, type SplitVariant, type Vcpu } from '../models/split-irqchip.js'
import { buildModel } from '../models/registry.js'
import { Table } from '../model/core/Table.js'

const defaults = Object.fromEntries(splitParams.map((p) => [p.name, p.default])) as unknown as SplitParams
const model = (variant: SplitVariant = 'fixed', p: Partial<SplitParams> = {}) => buildSplit({ ...defaults, ...p }, variant)
const v0 = (s: SplitState): Vcpu => Table.get(s.vcpus, 0)

// ../shared/spec/x86-split-irqchip-intx-ipiv.md §2.3, transcribed independently as plain booleans:
//   v4.4–v5.9  ready = IA && !has_interrupt && !needs_reinjection && accept_dm(old); accept_dm(old) = accept_pic
//   v5.10      ready = IA && accept_dm(new);  accept_dm(new) = !has_extint && accept_pic
//   v5.14      ready = IA && accept_dm(new) && !needs_reinjection (&& no exception; none modelled)
// with IA = IF && !STI-shadow, has_extint = accept_pic && slot full, has_interrupt = has_extint || LAPIC vector above PPR.
test('ready_for_interrupt_injection follows the spec table for every kernel version, over all 128 vCPU situations', () => {
  const s0 = model().initStates()[0]!
  let checked = 0
  for (let m = 0; m < 128; m++) {
    const [IF, shadow, lvt0Masked, slot, reinj, irr, isr] = [0, 1, 2, 3, 4, 5, 6].map((b) => ((m >> b) & 1) === 1) as boolean[]
    const v = { ...v0(s0), if: IF!, shadow: shadow!, lvt0Masked: lvt0Masked!, extint: slot ? 0x23 : -1, reinject: reinj ? 0x24 : -1, irr: irr!, isr: isr! } as Vcpu
    const ia = IF! && !shadow
    const acceptPic = !lvt0Masked
    const hasExtint = acceptPic && slot!
    const hasInterrupt = hasExtint || (irr! && !isr)
    assert.equal(readyForInjection(v, 'pre-71cc849b7093'), ia && !hasInterrupt && !reinj && acceptPic, `v4.4 row ${m}`)
    assert.equal(readyForInjection(v, 'pre-043264d97e9a'), ia && !hasExtint && acceptPic, `v5.10 row ${m}`)
    assert.equal(readyForInjection(v, 'fixed'), ia && !hasExtint && acceptPic && !reinj, `v5.14 row ${m}`)
    assert.equal(readyForInjection(v, 'naive-ready'), IF, `naive row ${m}`)
    checked++
  }
  assert.equal(checked, 128)
})

const run = (spec: ReturnType<typeof model>, events: SplitEvent[]): SplitState[] => {
  const r = replayTrace(spec, { init: 0, events })
  assert.ok(r.ok, `event ${r.ok ? '' : r.step + 1} (${JSON.stringify(events[r.ok ? 0 : r.step])}) is not enabled`)
  return r.states
}

test('one PIC interrupt from the device to the guest EOI, as the model doc walks it (1c1a9ce973a7 rendezvous)', () => {
  const spec = model()
  const ev: SplitEvent[] = [
    { _tag: 'VmmRun', vcpu: 0, inject: false }, // first KVM_RUN, nothing pending
    { _tag: 'KvmRun', vcpu: 0 }, // enters the guest
    { _tag: 'PicRaise', irq: 3 }, // PIC output rises: CPU_INTERRUPT_HARD and a signal to vCPU 0's thread
    { _tag: 'KickExit', vcpu: 0 },
    { _tag: 'KvmRun', vcpu: 0 }, // KVM_EXIT_INTR with ready=1, if_flag=1
    { _tag: 'VmmRun', vcpu: 0, inject: true }, // INTA (IRR → ISR) and KVM_INTERRUPT{0x23}
    { _tag: 'KvmRun', vcpu: 0 }, // kvm_cpu_get_extint, kvm_inj_virq 0x23
    { _tag: 'Deliver', vcpu: 0 },
    { _tag: 'GuestPicEoi', vcpu: 0 }, // OUT 0x20: KVM_EXIT_IO
    { _tag: 'VmmRun', vcpu: 0, inject: false },
    { _tag: 'KvmRun', vcpu: 0 },
    { _tag: 'GuestIret', vcpu: 0 },
  ]
  const st = run(spec, ev)
  assert.equal(v0(st[3]!).signal, true, 'the raise kicks the vCPU thread')
  assert.deepEqual([v0(st[5]!).where, v0(st[5]!).exit, v0(st[5]!).ready, v0(st[5]!).ifFlag], ['user', 'intr', true, true])
  assert.equal(v0(st[6]!).extint, 0x23, 'KVM_INTERRUPT fills pending_external_vector with base 0x20 + IRQ3')
  assert.equal(st[6]!.pic.master.isr, 1 << 3, 'the INTA moved IRQ3 to ISR')
  assert.deepEqual([v0(st[7]!).extint, v0(st[7]!).injecting], [-1, 0x23], 'the entry dequeues the ExtINT and injects it')
  assert.deepEqual([v0(st[8]!).if, v0(st[8]!).handler], [false, 'pic'], 'the interrupt gate clears IF')
  assert.equal(v0(st[9]!).exit, 'io')
  assert.equal(v0(st[9]!).ready, false, 'inside the handler IF=0, so not ready')
  assert.equal(st[10]!.pic.master.isr, 0, 'the non-specific EOI clears ISR')
  const end = st[12]!
  assert.deepEqual([v0(end).if, v0(end).handler], [true, ''])
  assert.ok(spec.properties.filter((p) => p.expectation === 'always').every((p) => st.every((s) => p.holds(s))))
})

test('an interrupt raised while IF=0 goes through the interrupt window: IRQ_WINDOW_OPEN comes only after STI and its shadow', () => {
  const spec = model()
  const st = run(spec, [
    { _tag: 'VmmRun', vcpu: 0, inject: false },
    { _tag: 'KvmRun', vcpu: 0 },
    { _tag: 'GuestCli', vcpu: 0 },
    { _tag: 'PicRaise', irq: 3 },
    { _tag: 'KickExit', vcpu: 0 },
    { _tag: 'KvmRun', vcpu: 0 }, // KVM_EXIT_INTR, ready=0 (IF=0)
    { _tag: 'VmmRun', vcpu: 0, inject: false }, // request_interrupt_window=1
    { _tag: 'KvmRun', vcpu: 0 }, // arms interrupt-window exiting
    { _tag: 'GuestSti', vcpu: 0 }, // IF=1 but the STI shadow blocks for one instruction
  ])
  const s = st[st.length - 1]!
  assert.equal(v0(st[6]!).ready, false)
  assert.equal(v0(st[8]!).window, true)
  assert.ok(!spec.enabled(s).some((e) => e._tag === 'WindowExit'), 'no window exit inside the STI shadow')
  const after = run(spec, [...[
    { _tag: 'VmmRun', vcpu: 0, inject: false }, { _tag: 'KvmRun', vcpu: 0 }, { _tag: 'GuestCli', vcpu: 0 }, { _tag: 'PicRaise', irq: 3 },
    { _tag: 'KickExit', vcpu: 0 }, { _tag: 'KvmRun', vcpu: 0 }, { _tag: 'VmmRun', vcpu: 0, inject: false }, { _tag: 'KvmRun', vcpu: 0 },
    { _tag: 'GuestSti', vcpu: 0 },
  ] as SplitEvent[], { _tag: 'GuestStep', vcpu: 0 }, { _tag: 'WindowExit', vcpu: 0 }, { _tag: 'KvmRun', vcpu: 0 }])
  const w = v0(after[after.length - 1]!)
  assert.deepEqual([w.where, w.exit, w.ready], ['user', 'irq-window-open', true])
})

test('the fixed model holds exhaustively at the defaults (2 vCPUs) and at larger bounds', async () => {
  for (const p of [{}, { cli: 2, lvt0: 2, raises: 2 }, { vcpus: 3, ipis: 2, vectoring: 2 }, { apicv: 0 }] as Partial<SplitParams>[]) {
    const r = await check(model('fixed', p), { stopOnViolation: false })
    assert.equal(r.status, 'ok', JSON.stringify(p))
    assert.ok(r.sometimes.every((x) => x.reached), `sometimes reached at ${JSON.stringify(p)}`)
    assert.ok(r.eventually.length === 1 && r.eventually.every((x) => x.checked), 'the liveness property was checked')
  }
})

// Expected shortest counterexamples, derived by hand from the scenarios (model doc and spec §2.5):
// - inject-only-when-ready, vmm-ignores-ready: PicRaise, then the VMM's first VmmRun already injects: 2 events.
// - no-lost-extint, vmm-ignores-ready: two INTAs need two raises and two VmmRuns, and the second VmmRun needs the
//   thread back in userspace, one KvmRun (the pending signal exits before entry): 2 + 2 + 1 = 5.
// - ready-means-immediate-injection, naive-ready: the guest must mask LVT0 (VmmRun, KvmRun to enter, GuestLvt0),
//   then some exit while IF=1: a raise signals it, and the KvmRun exits with ready = IF = 1: 3 + 2 = 5.
// - no-lost-extint, naive-ready: a first ready exit needs VmmRun, PicRaise, KvmRun (3); the VmmRun that injects (4);
//   a second raise (5) whose signal makes the next KvmRun exit before entry with the slot still full (6); the VmmRun
//   whose KVM_INTERRUPT gets -EEXIST (7).
// - ready-means-immediate-injection, pre-043264d97e9a: a first ready exit (3), the injecting VmmRun (4), the entry
//   (5), the vectoring exit (6), and an exit to userspace: a raise and the KvmRun (8).
// - window-exit-only-when-open, pre-043264d97e9a: as above, but the exit must be the epilogue's window check, so
//   request_interrupt_window must be 1 when the VMM injects: both lines raised before an exit with ready=1. Either
//   Raise, Raise, VmmRun, KvmRun (arms), WindowExit, KvmRun (window open) or VmmRun, Raise, KvmRun, VmmRun(inject),
//   Raise, KvmRun, VmmRun, KvmRun; then entry with injection, VectoringExit, KvmRun: 10.
// - interrupts-eventually-delivered, pre-71cc849b7093: vCPU 1 sends the IPI (VmmRun, KvmRun, GuestSendIpi, KvmRun: it
//   must finish, being fair), both PIC lines raised (fairness: a raise enabled forever must happen), vCPU 0's VmmRun
//   sets request_interrupt_window and its KvmRun arms the window: 4 + 2 + 2 = 8; then the cycle WindowExit, KvmRun
//   (not ready: kvm_cpu_has_interrupt sees the IPI, which APICv cannot deliver while the window control is set): 10.
const expectations: [SplitVariant, string, number, number?][] = [
  ['vmm-ignores-ready', 'inject-only-when-ready', 2],
  ['vmm-ignores-ready', 'no-lost-extint', 5],
  ['naive-ready', 'ready-means-immediate-injection', 5],
  ['naive-ready', 'no-lost-extint', 7],
  ['pre-043264d97e9a', 'ready-means-immediate-injection', 8],
  ['pre-043264d97e9a', 'window-exit-only-when-open', 10],
  ['pre-71cc849b7093', 'interrupts-eventually-delivered', 10, 8],
]

for (const [variant, property, length, loopStart] of expectations) {
  test(`--bug ${variant} violates ${property} with a shortest counterexample of ${length} events, which replays`, async () => {
    const spec = model(variant)
    const r = await check(spec, { stopOnViolation: false })
    const v = r.violations.find((x) => x.property === property)
    assert.ok(v, `${property} not violated; got ${r.violations.map((x) => x.property).join(', ')}`)
    assert.equal(v.trace.events.length, length)
    assert.equal(v.trace.loopStart, loopStart)
    const re = replayTrace(spec, v.trace)
    assert.ok(re.ok, 'the counterexample replays event by event')
    const last = re.states[re.states.length - 1]!
    if (loopStart === undefined) {
      const sp = spec.properties.find((p) => p.name === property)
      if (sp) assert.equal(sp.holds(last), false, 'the replayed end state violates the invariant')
      else {
        const step = spec.stepProperties!.find((p) => p.name === property)!
        assert.equal(step.holdsStep(re.states[re.states.length - 2]!, v.trace.events[length - 1]!, last), false, 'the last step violates it')
      }
      // The same trace under the fixed kernel either stops being possible or does not violate the property.
      const fixed = replayTrace(model('fixed'), v.trace)
      if (fixed.ok) {
        const f = fixed.states[fixed.states.length - 1]!
        const sp2 = model('fixed').properties.find((p) => p.name === property)
        if (sp2) assert.equal(sp2.holds(f), true)
      }
    } else {
      // A lasso: the cycle returns to the state it started from, and the property never holds on it.
      assert.deepEqual([last.h1, last.h2], [re.states[loopStart]!.h1, re.states[loopStart]!.h2])
      const p = spec.properties.find((x) => x.name === property)!
      assert.ok(re.states.slice(loopStart).every((s) => !p.holds(s)))
    }
  })
}

test('the livelock needs hardware-delivered LAPIC vectors: without APICv, KVM injects the IPI and the v4.4 predicate holds', async () => {
  const r = await check(model('pre-71cc849b7093', { apicv: 0 }), { stopOnViolation: false })
  assert.equal(r.status, 'ok')
})

test('virq check-all expectations: each bug variant violates exactly the properties the registry lists', async () => {
  const { models } = await import('../models/registry.js')
  const m = models.find((x) => x.id === 'split-irqchip')!
  assert.deepEqual(m.bugs.map((b) => b.id).sort(), Object.keys(m.expectedViolations!).sort())
  for (const b of m.bugs) {
    const { spec } = buildModel('split-irqchip', {}, b.id)
    const r = await check(spec, { stopOnViolation: false })
    assert.deepEqual(r.violations.map((v) => v.property).sort(), [...m.expectedViolations![b.id]!].sort(), b.id)
  }
})
