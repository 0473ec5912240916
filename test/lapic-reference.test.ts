// Differential test: the model's local APIC (model/devices/lapic.ts) against the naive reference
// test/reference/lapic.ts (boolean arrays, linear scans, written from the Intel SDM vol. 3A ch. 11
// independently of model/), driven by the same random event sequences. After every step both sides
// must agree on the observable interrupt state: IRR, ISR and TMR as vector sets, PPR (SDM 11.8.3.1),
// the vector that would be delivered next or none (11.8.3.1, 11.8.4), and the step's own results
// (accepted / coalesced, the acknowledged vector, the EOI's vector and trigger mode, 11.8.5); also
// TPR, SVR, LVT0, the pending NMI, the enables, the APIC mode and ID/LDR/DFR, and whether PIC
// interrupts reach the vCPU. Counters check that every event kind and every interesting situation
// (nested ISR, PPR blocking, coalescing, level EOI, ...) occurred.
//
// Known model-vs-SDM disagreements (the reference follows the SDM; model/ follows KVM) are kept out
// of the random property and recorded as skipped tests at the end of this file:
//  1. vectors 0..15 (SDM 11.5.2, 11.5.3): the generator only produces vectors 16..255;
//  2. LVT0 bits 12 (delivery status) and 14 (remote IRR) are read-only (SDM 11.5.1): LVT0 is compared
//     with those two bits cleared.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { VectorSet } from '../model/core/VectorSet.js'
import {
  initialLapic, lapicAccept, lapicAcceptPicIntr, lapicAck, lapicEoi, lapicHasInterrupt, lapicNmiTaken, lapicPpr,
  lapicSetHwEnabled, lapicSwEnabled, reduceLapic, type LapicState,
} from '../model/devices/lapic.js'
import { highestTrue, trueIndices } from './reference/bits.js'
import {
  refAcceptPicIntr, refHasInterrupt, refLapicInitial, refLapicStep, refPpr, refSwEnabled,
  type RefDeliveryMode, type RefLapic, type RefLapicEvent, type RefLapicNotes, type RefLapicReg,
} from './reference/lapic.js'
import { check, deepFreeze, structure } from './helpers.js'

// ------------------------------------------------------------------ generators
/** A few vectors in few classes so that collisions (coalescing, IRR+ISR, equal classes) are common. */
const hotVectors = [0x10, 0x1f, 0x20, 0x31, 0x3f, 0x40, 0x41, 0x4f, 0x50, 0x80, 0x8f, 0xef, 0xfe, 0xff]
/** SDM 11.5.2: 16..255 only (0..15 is disagreement 1, see the skipped test below). */
const vector = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...hotVectors) }, { weight: 2, arbitrary: fc.integer({ min: 16, max: 255 }) })
const deliveryMode = fc.oneof(
  { weight: 8, arbitrary: fc.constant<RefDeliveryMode>('Fixed') },
  { weight: 3, arbitrary: fc.constant<RefDeliveryMode>('LowestPriority') },
  { weight: 2, arbitrary: fc.constantFrom<RefDeliveryMode>('NMI', 'INIT', 'SMI', 'StartUp', 'ExtINT') },
)
/** TPR values at and around class boundaries, plus any 32-bit value (bits 31:8 are ignored). */
const tprValue = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 15 }).chain((c) => fc.constantFrom(c * 16, c * 16 + 1, c * 16 + 15)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
)
const svrValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0x1ff, 0x1ff, 0x1ff, 0xff, 0x3ff, 0x10ff, 0x100) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
)
/** LVT0: ExtINT unmasked, masked, NMI, fixed level, plus any value (bits 12 and 14 matter only to disagreement 2). */
const lvt0Value = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0x700, 0x10700, 0x400, 0x8030, 0x10000, 0) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
)
const regWrite = (reg: RefLapicReg, value: fc.Arbitrary<number>): fc.Arbitrary<RefLapicEvent> =>
  value.map((v) => ({ _tag: 'LapicRegWritten' as const, reg, value: v }))

const event: fc.Arbitrary<RefLapicEvent> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      _tag: fc.constant('LapicIrqAccepted' as const),
      deliveryMode,
      vector,
      trigger: fc.constantFrom('edge' as const, 'level' as const),
      level: fc.oneof({ weight: 6, arbitrary: fc.constant(1 as const) }, { weight: 1, arbitrary: fc.constant(0 as const) }),
    }),
  },
  { weight: 6, arbitrary: fc.constant<RefLapicEvent>({ _tag: 'LapicInterruptAcked' }) },
  { weight: 5, arbitrary: fc.constant<RefLapicEvent>({ _tag: 'LapicEoiWritten' }) },
  { weight: 3, arbitrary: regWrite('TPR', tprValue) },
  { weight: 2, arbitrary: regWrite('SVR', svrValue) },
  { weight: 1, arbitrary: regWrite('LVT0', lvt0Value) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<RefLapicReg>('ID', 'LDR', 'DFR').chain((reg) =>
      regWrite(reg, fc.oneof(fc.constantFrom(0, 0x01000000, 0x0fffffff, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff })))),
  },
  { weight: 1, arbitrary: fc.boolean().map((x2apic): RefLapicEvent => ({ _tag: 'LapicModeSet', x2apic })) },
  { weight: 1, arbitrary: fc.boolean().map((enabled): RefLapicEvent => ({ _tag: 'LapicHwEnableSet', enabled })) },
  { weight: 1, arbitrary: fc.constant<RefLapicEvent>({ _tag: 'LapicNmiTaken' }) },
)

// ------------------------------------------------------------------ the model, driven by the reference's events
/**
 * The model's step with the same results the reference reports. The five LapicEvent tags go through
 * `reduceLapic` (the reducer under test); the notes come from the functions it uses, applied to the
 * same pre-state. Hardware enable and NMI injection are not LapicEvents: `lapicSetHwEnabled`,
 * `lapicNmiTaken`.
 */
const modelStep = (s: LapicState, e: RefLapicEvent): { state: LapicState; notes: RefLapicNotes } => {
  switch (e._tag) {
    case 'LapicIrqAccepted': {
      const r = lapicAccept(s, e)
      const state = reduceLapic(s, e)
      assert.equal(structure(state), structure(r.state), 'reduceLapic and lapicAccept disagree')
      return { state, notes: { accepted: r.accepted, coalesced: r.coalesced } }
    }
    case 'LapicInterruptAcked':
      return { state: reduceLapic(s, e), notes: { acked: lapicAck(s).vector } }
    case 'LapicEoiWritten': {
      const r = s.hwEnabled ? lapicEoi(s) : { vector: -1, level: false }
      return { state: reduceLapic(s, e), notes: { eoiVector: r.vector, eoiLevel: r.level } }
    }
    case 'LapicRegWritten':
    case 'LapicModeSet':
      return { state: reduceLapic(s, e), notes: {} }
    case 'LapicHwEnableSet':
      return { state: lapicSetHwEnabled(s, e.enabled), notes: {} }
    case 'LapicNmiTaken':
      return { state: lapicNmiTaken(s), notes: {} }
  }
}

/** LVT0 without bits 12 and 14 (disagreement 2: read-only in the SDM, writable in KVM/the model). */
const lvt0Comparable = (v: number): number => (v & ~0x5000) >>> 0

const modelView = (s: LapicState) => ({
  irr: VectorSet.toArray(s.irr),
  isr: VectorSet.toArray(s.isr),
  tmr: VectorSet.toArray(s.tmr),
  ppr: lapicPpr(s),
  next: lapicHasInterrupt(s),
  tpr: s.tpr,
  svr: s.svr,
  swEnabled: lapicSwEnabled(s),
  lvt0: lvt0Comparable(s.lvt0),
  acceptPicIntr: lapicAcceptPicIntr(s),
  nmiPending: s.nmiPending,
  hwEnabled: s.hwEnabled,
  x2apic: s.x2apic,
  id: s.id,
  ldr: s.ldr,
  dfr: s.dfr,
})
const refView = (s: RefLapic): ReturnType<typeof modelView> => ({
  irr: trueIndices(s.irr),
  isr: trueIndices(s.isr),
  tmr: trueIndices(s.tmr),
  ppr: refPpr(s),
  next: refHasInterrupt(s),
  tpr: s.tpr,
  svr: s.svr,
  swEnabled: refSwEnabled(s),
  lvt0: lvt0Comparable(s.lvt0),
  acceptPicIntr: refAcceptPicIntr(s),
  nmiPending: s.nmiPending,
  hwEnabled: s.hwEnabled,
  x2apic: s.x2apic,
  id: s.id,
  ldr: s.ldr,
  dfr: s.dfr,
})

// ------------------------------------------------------------------ coverage
const situations = [
  'LapicIrqAccepted', 'LapicInterruptAcked', 'LapicEoiWritten', 'LapicRegWritten', 'LapicModeSet', 'LapicHwEnableSet', 'LapicNmiTaken',
  'accepted', 'coalesced', 'dropped: sw-disabled', 'dropped: hw-disabled', 'dropped: level de-assert', 'accepted: NMI',
  'TMR level', 'acked', 'ack blocked by PPR', 'ack while sw-disabled', 'EOI level', 'EOI edge', 'EOI with ISR empty',
  'ISR nested (2+)', 'vector in IRR and ISR', 'PPR from ISR class', 'PPR classes equal, TPR sub-class kept', 'TPR class 15',
] as const
type Situation = (typeof situations)[number]

const observe = (counts: Map<Situation, number>, before: RefLapic, e: RefLapicEvent, after: RefLapic, n: RefLapicNotes): void => {
  const bump = (k: Situation): void => void counts.set(k, (counts.get(k) ?? 0) + 1)
  bump(e._tag)
  if (e._tag === 'LapicIrqAccepted' && (e.deliveryMode === 'Fixed' || e.deliveryMode === 'LowestPriority')) {
    if (n.accepted === true) bump('accepted')
    if (n.coalesced === true) bump('coalesced')
    if (e.trigger === 'level' && e.level === 0) bump('dropped: level de-assert')
    else if (!before.hwEnabled) bump('dropped: hw-disabled')
    else if (!refSwEnabled(before)) bump('dropped: sw-disabled')
    if (n.accepted === true && e.trigger === 'level') bump('TMR level')
  }
  if (e._tag === 'LapicIrqAccepted' && e.deliveryMode === 'NMI') bump('accepted: NMI')
  if (e._tag === 'LapicInterruptAcked') {
    if (n.acked !== undefined && n.acked !== -1) {
      bump('acked')
      if (!refSwEnabled(before)) bump('ack while sw-disabled')
    } else if (before.hwEnabled && highestTrue(before.irr) !== -1) bump('ack blocked by PPR')
  }
  if (e._tag === 'LapicEoiWritten' && before.hwEnabled) {
    if (n.eoiVector === -1) bump('EOI with ISR empty')
    else bump(n.eoiLevel === true ? 'EOI level' : 'EOI edge')
  }
  const isr = trueIndices(after.isr)
  if (isr.length >= 2) bump('ISR nested (2+)')
  if (isr.some((v) => after.irr[v] === true)) bump('vector in IRR and ISR')
  const isrv = highestTrue(after.isr)
  const tprClass = Math.floor(after.tpr / 16)
  if (isrv !== -1 && Math.floor(isrv / 16) > tprClass) bump('PPR from ISR class')
  if (isrv !== -1 && Math.floor(isrv / 16) === tprClass && after.tpr % 16 !== 0) bump('PPR classes equal, TPR sub-class kept')
  if (tprClass === 15) bump('TPR class 15')
}

// ------------------------------------------------------------------ the property
const NUM_RUNS = 1000

test(`LAPIC: model and SDM reference agree on IRR, ISR, TMR, PPR, next vector and step results after every step (${NUM_RUNS} runs); every situation occurs`, () => {
  const counts = new Map<Situation, number>()
  let steps = 0
  check(fc.property(
    fc.record({ vcpuId: fc.constantFrom(0, 1, 7, 300), lint0Reenabled: fc.boolean(), enableFirst: fc.boolean() }),
    fc.array(event, { minLength: 10, maxLength: 150 }),
    ({ vcpuId, lint0Reenabled, enableFirst }, events) => {
      let m = initialLapic(vcpuId, { lint0Reenabled })
      let r = refLapicInitial(vcpuId, { lint0Reenabled })
      assert.deepEqual(modelView(m), refView(r), 'initial state')
      // Most runs software-enable the APIC first (SVR 0x1FF), so that Fixed interrupts are accepted.
      const seq: RefLapicEvent[] = enableFirst ? [{ _tag: 'LapicRegWritten', reg: 'SVR', value: 0x1ff }, ...events] : events
      for (let i = 0; i < seq.length; i++) {
        const e = seq[i]!
        deepFreeze(m)
        deepFreeze(r)
        const ms = modelStep(m, e)
        const rs = refLapicStep(r, e)
        const where = `step ${i}: ${JSON.stringify(e)}`
        assert.deepEqual(ms.notes, rs.notes, `${where}: results differ`)
        assert.deepEqual(modelView(ms.state), refView(rs.state), `${where}: state differs`)
        observe(counts, r, e, rs.state, rs.notes)
        m = ms.state
        r = rs.state
        steps++
      }
    },
  ), { numRuns: NUM_RUNS })
  const missing = situations.filter((k) => (counts.get(k) ?? 0) === 0)
  assert.deepEqual(missing, [], `never occurred in ${steps} steps: ${missing.join(', ')}`)
})

// ------------------------------------------------------------------ directed SDM checks of the reference itself
test('reference: SDM 11.8.3.1 PPR examples, and delivery needs a class above the PPR class', () => {
  const base = refLapicStep(refLapicInitial(1), { _tag: 'LapicRegWritten', reg: 'SVR', value: 0x1ff }).state
  const withIsr = (tpr: number, isr: number[]): RefLapic => ({ ...base, tpr, isr: base.isr.map((_, v) => isr.includes(v)) })
  assert.equal(refPpr(withIsr(0x65, [0x51])), 0x65) // TPR class above: PPR = TPR
  assert.equal(refPpr(withIsr(0x30, [0x51])), 0x50) // ISRV class above: class, sub-class 0
  assert.equal(refPpr(withIsr(0x00, [0x31, 0x7e])), 0x70) // ISRV = highest ISR bit
  assert.equal(refPpr(withIsr(0x21, [])), 0x21) // ISR empty: ISRV = 0
  assert.equal(Math.floor(refPpr(withIsr(0x5a, [0x51])) / 16), 5) // equal classes: only the class is architectural
  const pending = (tpr: number, irr: number[]): number => refHasInterrupt({ ...base, tpr, irr: base.irr.map((_, v) => irr.includes(v)) })
  assert.equal(pending(0x40, [0x4f]), -1) // same class as PPR: not delivered
  assert.equal(pending(0x3f, [0x40]), 0x40)
  assert.equal(pending(0xf0, [0xff]), -1) // class 15 inhibits everything
  assert.equal(pending(0x00, [0x20, 0x90, 0x35]), 0x90) // the highest IRR bit
})

// ------------------------------------------------------------------ known model-vs-SDM disagreements (skipped)
/** The software-enabled APIC both sides start the repros from. */
const enabledPair = (): { m: LapicState; r: RefLapic } => {
  const e: RefLapicEvent = { _tag: 'LapicRegWritten', reg: 'SVR', value: 0x1ff }
  return { m: modelStep(initialLapic(1), e).state, r: refLapicStep(refLapicInitial(1), e).state }
}

test(
  'disagreement 1: a Fixed interrupt with an illegal vector (0..15) must not set the IRR (SDM 11.5.2, 11.5.3)',
  { skip: 'model/devices/lapic.ts follows KVM __apic_accept_irq, which has no illegal-vector check: IRR = [5]' },
  () => {
    // Repro: SVR := 0x1FF; accept Fixed vector 5 edge. SDM 11.5.3: "the local APIC will never set an
    // IRR bit in the range 0 to 15" (it sets ESR bit 6, Received Illegal Vector, instead).
    const { m, r } = enabledPair()
    const e: RefLapicEvent = { _tag: 'LapicIrqAccepted', deliveryMode: 'Fixed', vector: 5, trigger: 'edge', level: 1 }
    assert.deepEqual(refView(refLapicStep(r, e).state).irr, [])
    assert.deepEqual(modelView(modelStep(m, e).state).irr, [])
  },
)

test(
  'disagreement 2: LVT0 delivery status (bit 12) and remote IRR (bit 14) are read-only (SDM 11.5.1, Figure 11-8)',
  { skip: 'model/devices/lapic.ts follows KVM LINT_MASK = 0x1F7FF, which lets a write set bits 12 and 14: LVT0 = 0x5700' },
  () => {
    // Repro: SVR := 0x1FF; write LVT0 := 0x5700 (ExtINT, bits 12 and 14 set). SDM: LVT0 reads 0x0700.
    const { m, r } = enabledPair()
    const e: RefLapicEvent = { _tag: 'LapicRegWritten', reg: 'LVT0', value: 0x5700 }
    assert.equal(refLapicStep(r, e).state.lvt0, 0x700)
    assert.equal(modelStep(m, e).state.lvt0, 0x700)
  },
)
