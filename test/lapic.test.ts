// LAPIC rules (model/devices/lapic.ts). Sources: torvalds/linux arch/x86/kvm/lapic.c (snapshot
// 000d75b0b186, ≈v6.18+), lapic.h, arch/x86/include/asm/apicdef.h; Intel SDM vol. 3A ch. 11.
// Expected values are derived by hand from the cited rule.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { VectorSet } from '../model/core/VectorSet.js'
import type { DeliveryMode, LapicEvent, LapicReg } from '../model/devices/events.js'
import type { LapicMessage } from '../model/devices/message.js'
import {
  LapicR, decodeIcr, encodeIcr, initialLapic, lapicAccept, lapicAcceptPicIntr, lapicAck, lapicEoi, lapicHasInterrupt,
  lapicNmiTaken, lapicPpr, lapicSetHwEnabled, lapicSetX2apic, lapicSwEnabled, lapicWriteReg, reduceLapic,
  type LapicState,
} from '../model/devices/lapic.js'
import { check, deepFreeze, structure } from './helpers.js'

const fixed = (vector: number, trigger: 'edge' | 'level' = 'edge', level: 0 | 1 = 1) =>
  ({ deliveryMode: 'Fixed', vector, trigger, level }) as const
/** vCPU 1 (not the BSP), software-enabled through an SVR write (SVR = 0x1FF). */
const enabled = (): LapicState => lapicWriteReg(initialLapic(1), 'SVR', 0x1ff)
const withSets = (s: LapicState, p: { irr?: number[]; isr?: number[]; tmr?: number[]; tpr?: number }): LapicState =>
  LapicR.update(s, {
    ...(p.irr ? { irr: VectorSet.of(...p.irr) } : {}),
    ...(p.isr ? { isr: VectorSet.of(...p.isr) } : {}),
    ...(p.tmr ? { tmr: VectorSet.of(...p.tmr) } : {}),
    ...(p.tpr !== undefined ? { tpr: p.tpr } : {}),
  })

// ---------------------------------------------------------------- reset
test('reset values (lapic.c kvm_lapic_reset): SVR 0xFF sw-disabled, LVT0 masked, DFR flat, xAPIC ID = vcpu_id', () => {
  const s = initialLapic(3)
  assert.equal(s.svr, 0xff)
  assert.equal(lapicSwEnabled(s), false)
  assert.equal(s.lvt0, 0x10000)
  assert.equal(s.dfr, 0xffffffff)
  assert.equal(s.ldr, 0)
  assert.equal(s.tpr, 0)
  assert.equal(s.id, 3)
  assert.equal(s.vcpuId, 3)
  assert.equal(s.hwEnabled, true)
  assert.equal(s.x2apic, false)
  assert.equal(s.nmiPending, false)
  assert.ok(VectorSet.isEmpty(s.irr) && VectorSet.isEmpty(s.isr) && VectorSet.isEmpty(s.tmr))
  assert.equal(lapicPpr(s), 0)
})

test('reset: the BSP LVT0 is ExtINT unmasked under KVM_X86_QUIRK_LINT0_REENABLED (kvm_lapic_reset)', () => {
  assert.equal(initialLapic(0).lvt0, 0x700) // SET_APIC_DELIVERY_MODE(0, APIC_MODE_EXTINT)
  assert.equal(initialLapic(0, { lint0Reenabled: false }).lvt0, 0x10000)
  assert.equal(initialLapic(2, { bsp: true }).lvt0, 0x700)
  assert.equal(initialLapic(0, { bsp: false }).lvt0, 0x10000)
})

test('reset: the xAPIC ID is vcpu_id truncated to 8 bits (kvm_apic_set_xapic_id takes a u8)', () => {
  assert.equal(initialLapic(0x105).id, 0x05)
})

// ---------------------------------------------------------------- PPR
test('PPR = TPR when TPR class >= ISR class (lapic.c __apic_update_ppr; SDM 11.8.3.1)', () => {
  assert.equal(lapicPpr(withSets(initialLapic(1), { tpr: 0x65, isr: [0x51] })), 0x65)
  // equal classes: TPR (with its low bits) wins
  assert.equal(lapicPpr(withSets(initialLapic(1), { tpr: 0x5a, isr: [0x51] })), 0x5a)
  // ISR empty: isrv = 0
  assert.equal(lapicPpr(withSets(initialLapic(1), { tpr: 0x21 })), 0x21)
})

test('PPR = ISR class when the ISR class is above the TPR class (__apic_update_ppr)', () => {
  assert.equal(lapicPpr(withSets(initialLapic(1), { tpr: 0x30, isr: [0x51] })), 0x50)
  // the highest ISR vector counts
  assert.equal(lapicPpr(withSets(initialLapic(1), { tpr: 0x00, isr: [0x31, 0x7e] })), 0x70)
})

// ---------------------------------------------------------------- has-interrupt
test('has-interrupt: only a vector whose class is above PPR (apic_has_interrupt_for_ppr: (irr & 0xF0) > ppr)', () => {
  const s = enabled()
  assert.equal(lapicHasInterrupt(withSets(s, { irr: [0x45], tpr: 0x40 })), -1) // 0x40 > 0x40 false
  assert.equal(lapicHasInterrupt(withSets(s, { irr: [0x45], tpr: 0x3f })), 0x45) // 0x40 > 0x3F
  assert.equal(lapicHasInterrupt(withSets(s, { irr: [0x4f], tpr: 0x41 })), -1) // 0x40 > 0x41 false
  assert.equal(lapicHasInterrupt(withSets(s, { irr: [0x55], isr: [0x50] })), -1) // same class as in service
  assert.equal(lapicHasInterrupt(withSets(s, { irr: [0x61, 0x55], isr: [0x50] })), 0x61) // highest IRR
  assert.equal(lapicHasInterrupt(s), -1) // IRR empty
})

test('has-interrupt: -1 when the APIC is hardware-disabled (kvm_apic_has_interrupt: !kvm_apic_present)', () => {
  const s = lapicSetHwEnabled(withSets(enabled(), { irr: [0x80] }), false)
  assert.equal(lapicHasInterrupt(s), -1)
})

test('has-interrupt: a software-disabled APIC still reports IRR vectors (no sw check in kvm_apic_has_interrupt; SDM 11.4.7.2)', () => {
  const s = withSets(initialLapic(1), { irr: [0x80] })
  assert.equal(lapicSwEnabled(s), false)
  assert.equal(lapicHasInterrupt(s), 0x80)
})

// ---------------------------------------------------------------- ack
test('ack moves the highest deliverable vector IRR -> ISR and raises PPR (kvm_cpu_get_interrupt, kvm_apic_ack_interrupt)', () => {
  const s = withSets(enabled(), { irr: [0x30, 0x40], tmr: [0x40] })
  const r = lapicAck(s)
  assert.equal(r.vector, 0x40)
  assert.deepEqual(VectorSet.toArray(r.state.irr), [0x30])
  assert.deepEqual(VectorSet.toArray(r.state.isr), [0x40])
  assert.deepEqual(VectorSet.toArray(r.state.tmr), [0x40]) // TMR untouched
  assert.equal(lapicPpr(r.state), 0x40)
  // 0x30 is now below PPR: nothing to ack, same object
  const r2 = lapicAck(r.state)
  assert.equal(r2.vector, -1)
  assert.equal(r2.state, r.state)
})

test('ack with nothing above PPR is a no-op returning the same object', () => {
  const s = withSets(enabled(), { irr: [0x45], tpr: 0x40 })
  const r = lapicAck(s)
  assert.equal(r.vector, -1)
  assert.equal(r.state, s)
  assert.equal(reduceLapic(s, { _tag: 'LapicInterruptAcked' }), s)
})

// ---------------------------------------------------------------- EOI
test('EOI clears the HIGHEST in-service vector, nested vectors one at a time (apic_set_eoi; SDM 11.8.5)', () => {
  let s = withSets(enabled(), { irr: [0x30] })
  s = lapicAck(s).state // 0x30 in service
  s = lapicAccept(s, fixed(0x50)).state
  s = lapicAck(s).state // 0x50 nests above it
  assert.deepEqual(VectorSet.toArray(s.isr), [0x30, 0x50])
  const e1 = lapicEoi(s)
  assert.equal(e1.vector, 0x50)
  assert.deepEqual(VectorSet.toArray(e1.state.isr), [0x30])
  assert.equal(lapicPpr(e1.state), 0x30)
  const e2 = lapicEoi(e1.state)
  assert.equal(e2.vector, 0x30)
  assert.ok(VectorSet.isEmpty(e2.state.isr))
  assert.equal(lapicPpr(e2.state), 0)
})

test('EOI with ISR empty is a no-op (same object) reporting vector -1 (apic_set_eoi; trace "kvm_eoi ... vector -1")', () => {
  const s = enabled()
  const r = lapicEoi(s)
  assert.equal(r.vector, -1)
  assert.equal(r.level, false)
  assert.equal(r.state, s)
  assert.equal(reduceLapic(s, { _tag: 'LapicEoiWritten' }), s)
})

test('level-triggered accept sets TMR; EOI of it reports level (__apic_accept_irq TMR update; kvm_ioapic_send_eoi)', () => {
  const a = lapicAccept(enabled(), fixed(0x61, 'level', 1))
  assert.equal(a.accepted, true)
  assert.ok(VectorSet.has(a.state.tmr, 0x61))
  assert.ok(VectorSet.has(a.state.irr, 0x61))
  const e = lapicEoi(lapicAck(a.state).state)
  assert.equal(e.vector, 0x61)
  assert.equal(e.level, true)
  // an edge EOI reports level false
  const e2 = lapicEoi(lapicAck(lapicAccept(enabled(), fixed(0x62)).state).state)
  assert.equal(e2.vector, 0x62)
  assert.equal(e2.level, false)
})

test('an edge-triggered accept clears a stale TMR bit (__apic_accept_irq: TMR := trig_mode)', () => {
  const s = withSets(enabled(), { tmr: [0x61] })
  const a = lapicAccept(s, fixed(0x61, 'edge'))
  assert.equal(VectorSet.has(a.state.tmr, 0x61), false)
})

// ---------------------------------------------------------------- accept
test('Fixed with trigger level and level 0 (de-assert) is dropped (__apic_accept_irq: trig_mode && !level)', () => {
  const s = enabled()
  const r = lapicAccept(s, fixed(0x40, 'level', 0))
  assert.equal(r.accepted, false)
  assert.equal(r.state, s)
  // an edge message with the level bit clear is still accepted (only trig && !level is dropped)
  assert.equal(lapicAccept(s, fixed(0x40, 'edge', 0)).accepted, true)
})

test('a software-disabled APIC drops Fixed and LowestPriority (__apic_accept_irq: !apic_enabled; SDM 11.4.7.2)', () => {
  const s = initialLapic(1) // SVR 0xFF
  for (const dm of ['Fixed', 'LowestPriority'] as const) {
    const r = lapicAccept(s, { deliveryMode: dm, vector: 0x40, trigger: 'edge', level: 1 })
    assert.equal(r.accepted, false)
    assert.equal(r.state, s)
  }
})

test('a hardware-disabled APIC drops Fixed (apic_enabled = sw && hw)', () => {
  const s = lapicSetHwEnabled(enabled(), false)
  const r = lapicAccept(s, fixed(0x40))
  assert.equal(r.accepted, false)
  assert.equal(r.state, s)
})

test('Fixed accept sets IRR and reports a coalesced vector (kvm_lapic_set_irr; result 1 either way)', () => {
  const a = lapicAccept(enabled(), fixed(0x40))
  assert.equal(a.accepted, true)
  assert.equal(a.coalesced, false)
  assert.deepEqual(VectorSet.toArray(a.state.irr), [0x40])
  const b = lapicAccept(a.state, fixed(0x40))
  assert.equal(b.accepted, true)
  assert.equal(b.coalesced, true)
  assert.equal(b.state, a.state)
})

test('LowestPriority counts apic_arb_prio only when tracked (__apic_accept_irq: arb_prio++ then as Fixed)', () => {
  const m = { deliveryMode: 'LowestPriority', vector: 0x40, trigger: 'edge', level: 1 } as const
  assert.equal(lapicAccept(enabled(), m).state.arbPrio, 0)
  const t = lapicAccept(enabled(), m, { trackArbPrio: true })
  assert.equal(t.state.arbPrio, 1)
  assert.ok(VectorSet.has(t.state.irr, 0x40))
  // the counter moves even if the message is then dropped (it is incremented before the checks)
  assert.equal(lapicAccept(initialLapic(1), m, { trackArbPrio: true }).state.arbPrio, 1)
})

test('NMI is accepted even when software-disabled and becomes pending (__apic_accept_irq APIC_DM_NMI: kvm_inject_nmi)', () => {
  const s = initialLapic(1)
  const r = lapicAccept(s, { deliveryMode: 'NMI', vector: 0, trigger: 'edge', level: 1 })
  assert.equal(r.accepted, true)
  assert.equal(r.state.nmiPending, true)
  assert.ok(VectorSet.isEmpty(r.state.irr))
  const again = lapicAccept(r.state, { deliveryMode: 'NMI', vector: 0, trigger: 'edge', level: 1 })
  assert.equal(again.state, r.state) // a second NMI coalesces with the pending one
  assert.equal(lapicNmiTaken(r.state).nmiPending, false)
  assert.equal(lapicNmiTaken(s), s)
})

test('ExtINT messages do nothing in __apic_accept_irq ("Already handled by kvm_apic_accept_pic_intr()")', () => {
  const s = enabled()
  const r = lapicAccept(s, { deliveryMode: 'ExtINT', vector: 0x20, trigger: 'edge', level: 1 })
  assert.equal(r.accepted, false)
  assert.equal(r.state, s)
})

test('INIT, StartUp, SMI: accepted (INIT not for a level de-assert) and not modelled: same object (__apic_accept_irq)', () => {
  const s = enabled()
  const at = (deliveryMode: DeliveryMode, trigger: 'edge' | 'level', level: 0 | 1) => lapicAccept(s, { deliveryMode, vector: 0x10, trigger, level })
  assert.equal(at('INIT', 'edge', 1).accepted, true)
  assert.equal(at('INIT', 'level', 0).accepted, false) // !trig_mode || level
  assert.equal(at('INIT', 'level', 1).accepted, true)
  assert.equal(at('StartUp', 'edge', 1).accepted, true)
  assert.equal(at('SMI', 'edge', 1).accepted, true)
  for (const dm of ['INIT', 'StartUp', 'SMI'] as const) assert.equal(at(dm, 'edge', 1).state, s)
})

// ---------------------------------------------------------------- PIC acceptance (LVT0)
test('PIC interrupts accepted iff LVT0 unmasked ExtINT, or the APIC is hw-disabled (kvm_apic_accept_pic_intr)', () => {
  const s = enabled()
  assert.equal(lapicAcceptPicIntr(s), false) // LVT0 masked at reset (non-BSP)
  assert.equal(lapicAcceptPicIntr(lapicWriteReg(s, 'LVT0', 0x700)), true) // ExtINT, unmasked
  assert.equal(lapicAcceptPicIntr(lapicWriteReg(s, 'LVT0', 0x10700)), false) // ExtINT, masked
  assert.equal(lapicAcceptPicIntr(lapicWriteReg(s, 'LVT0', 0x400)), false) // NMI mode
  assert.equal(lapicAcceptPicIntr(lapicWriteReg(s, 'LVT0', 0x000)), false) // Fixed
  assert.equal(lapicAcceptPicIntr(lapicSetHwEnabled(s, false)), true) // !kvm_apic_hw_enabled
  // software enable is not consulted: the BSP's reset LVT0 (0x700) with SVR 0xFF accepts
  assert.equal(lapicAcceptPicIntr(initialLapic(0)), true)
})

// ---------------------------------------------------------------- register writes
test('TPR write keeps bits 7:0 (kvm_lapic_reg_write APIC_TASKPRI: apic_set_tpr(val & 0xff))', () => {
  assert.equal(lapicWriteReg(enabled(), 'TPR', 0x1234).tpr, 0x34)
})

test('SVR write keeps bits 9:0 and sets the software enable (APIC_SPIV: mask 0x3ff, apic_set_spiv)', () => {
  const s = lapicWriteReg(initialLapic(1), 'SVR', 0xffff)
  assert.equal(s.svr, 0x3ff)
  assert.equal(lapicSwEnabled(s), true)
})

test('SVR write with enable clear masks LVT0 (APIC_SPIV: every LVT |= APIC_LVT_MASKED); enabling does not unmask', () => {
  const on = lapicWriteReg(enabled(), 'LVT0', 0x700)
  const off = lapicWriteReg(on, 'SVR', 0x0ff)
  assert.equal(off.lvt0, 0x10700)
  assert.equal(lapicSwEnabled(off), false)
  assert.equal(lapicWriteReg(off, 'SVR', 0x1ff).lvt0, 0x10700)
})

test('LVT0 write while software-disabled is forced masked (APIC_LVT0: if !sw_enabled val |= APIC_LVT_MASKED)', () => {
  assert.equal(lapicWriteReg(initialLapic(1), 'LVT0', 0x700).lvt0, 0x10700)
})

test('LVT0 write keeps only LINT_MASK bits 0x1F7FF (apic_lvt_mask[LVT_LINT0])', () => {
  assert.equal(lapicWriteReg(enabled(), 'LVT0', 0xffffffff).lvt0, 0x1f7ff)
  assert.equal(lapicWriteReg(enabled(), 'LVT0', 0x00020800).lvt0, 0) // bit 17 and bit 11 are not LINT bits
})

test('LDR write keeps bits 31:24 in xAPIC mode (APIC_LDR: val & APIC_LDR_MASK)', () => {
  assert.equal(lapicWriteReg(enabled(), 'LDR', 0x12345678).ldr, 0x12000000)
})

test('DFR write forces bits 27:0 to 1 (APIC_DFR: val | 0x0FFFFFFF): model 0 = cluster, 0xF = flat', () => {
  assert.equal(lapicWriteReg(enabled(), 'DFR', 0).dfr, 0x0fffffff)
  assert.equal(lapicWriteReg(enabled(), 'DFR', 0xf0000000).dfr, 0xffffffff)
})

test('ID write sets the xAPIC ID from bits 31:24 (APIC_ID: kvm_apic_set_xapic_id(apic, val >> 24))', () => {
  assert.equal(lapicWriteReg(enabled(), 'ID', 0x05000000).id, 5)
  assert.equal(lapicWriteReg(enabled(), 'ID', 0x000000ff).id, 0)
})

test('x2APIC: ID, LDR and DFR are read-only / absent; writes are no-ops (kvm_lapic_reg_write ret = 1)', () => {
  const s = lapicSetX2apic(enabled(), true)
  for (const reg of ['ID', 'LDR', 'DFR'] as const) assert.equal(lapicWriteReg(s, reg, 0x12345678), s)
})

test('writes to a hardware-disabled APIC are dropped (apic_mmio_write: !kvm_apic_hw_enabled)', () => {
  const s = lapicSetHwEnabled(withSets(enabled(), { isr: [0x40] }), false)
  for (const reg of ['ID', 'TPR', 'LDR', 'DFR', 'SVR', 'LVT0'] as const) assert.equal(lapicWriteReg(s, reg, 0x0f0000ff), s)
  assert.equal(reduceLapic(s, { _tag: 'LapicEoiWritten' }), s)
})

test('a write of the current value returns the same object', () => {
  const s = lapicWriteReg(lapicWriteReg(enabled(), 'TPR', 0x20), 'LDR', 0x01000000)
  assert.equal(lapicWriteReg(s, 'TPR', 0x20), s)
  assert.equal(lapicWriteReg(s, 'LDR', 0x01abcdef), s)
  assert.equal(lapicWriteReg(s, 'SVR', 0x1ff), s)
  assert.equal(lapicWriteReg(s, 'DFR', 0xffffffff), s)
})

// ---------------------------------------------------------------- x2APIC switch
test('x2APIC on: ID := vcpu_id, LDR := ((id >> 4) << 16) | (1 << (id & 0xf)) (kvm_apic_set_x2apic_id, kvm_apic_calc_x2apic_ldr)', () => {
  const s = lapicSetX2apic(lapicWriteReg(initialLapic(0x23), 'ID', 0x07000000), true)
  assert.equal(s.x2apic, true)
  assert.equal(s.id, 0x23)
  assert.equal(s.ldr, 0x00020008) // cluster 2, bit 3
  assert.equal(lapicSetX2apic(s, true), s)
  assert.equal(reduceLapic(s, { _tag: 'LapicModeSet', x2apic: true }), s)
})

test('x2APIC off (host-initiated): xAPIC ID := vcpu_id, LDR kept (__kvm_apic_set_base)', () => {
  const s = lapicSetX2apic(lapicSetX2apic(initialLapic(0x23), true), false)
  assert.equal(s.x2apic, false)
  assert.equal(s.id, 0x23)
  assert.equal(s.ldr, 0x00020008)
})

test('x2APIC on is rejected while hardware-disabled (LAPIC_MODE_INVALID)', () => {
  const s = lapicSetHwEnabled(initialLapic(1), false)
  assert.equal(lapicSetX2apic(s, true), s)
})

// ---------------------------------------------------------------- ICR
test('decodeIcr: fields of ICR low/high (kvm_icr_to_lapic_irq; SDM 11.6.1 Figure 11-12)', () => {
  // vector 0x30 | Fixed | logical (bit 11) | assert (bit 14) | all-but-self (19:18 = 11)
  assert.deepEqual(decodeIcr(0x000c4830, 0x03000000, false), {
    vector: 0x30, deliveryMode: 'Fixed', destMode: 'logical', level: 1, trigger: 'edge', shorthand: 'allButSelf', dest: 3,
  })
  // NMI (10:8 = 100), physical, level-triggered (bit 15), self; xAPIC dest = bits 63:56 only
  assert.deepEqual(decodeIcr(0x0004c4ff, 0x12ffffff, false), {
    vector: 0xff, deliveryMode: 'NMI', destMode: 'physical', level: 1, trigger: 'level', shorthand: 'self', dest: 0x12,
  })
  // LowestPriority (001), x2APIC: dest = all of icr_high; delivery status bit 12 ignored
  assert.deepEqual(decodeIcr(0x00081141, 0xfffe0001, true), {
    vector: 0x41, deliveryMode: 'LowestPriority', destMode: 'physical', level: 0, trigger: 'edge', shorthand: 'all', dest: 0xfffe0001,
  })
  assert.equal(decodeIcr(0x500, 0, false).deliveryMode, 'INIT')
  assert.equal(decodeIcr(0x600, 0, false).deliveryMode, 'StartUp')
  assert.equal(decodeIcr(0x200, 0, false).deliveryMode, 'SMI')
  assert.equal(decodeIcr(0x700, 0, false).deliveryMode, 'ExtINT')
  assert.throws(() => decodeIcr(0x300, 0, false), RangeError) // APIC_DM_REMRD
})

test('encodeIcr is the inverse of decodeIcr (property)', () => {
  const modes: DeliveryMode[] = ['Fixed', 'LowestPriority', 'SMI', 'NMI', 'INIT', 'StartUp', 'ExtINT']
  const msg = (x2apic: boolean) =>
    fc.record({
      vector: fc.integer({ min: 0, max: 255 }),
      deliveryMode: fc.constantFrom(...modes),
      destMode: fc.constantFrom('physical' as const, 'logical' as const),
      dest: x2apic ? fc.integer({ min: 0, max: 0xffffffff }) : fc.integer({ min: 0, max: 0xff }),
      trigger: fc.constantFrom('edge' as const, 'level' as const),
      level: fc.constantFrom(0 as const, 1 as const),
      shorthand: fc.constantFrom('none' as const, 'self' as const, 'all' as const, 'allButSelf' as const),
    })
  for (const x2apic of [false, true]) {
    check(fc.property(msg(x2apic), (m: LapicMessage) => {
      const { low, high } = encodeIcr(m, x2apic)
      assert.deepEqual(decodeIcr(low, high, x2apic), { ...m })
    }))
  }
  // and encode(decode(icr)) keeps exactly the architectural fields
  check(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.boolean(), (low, high, x2apic) => {
    fc.pre(((low >>> 8) & 7) !== 3)
    const r = encodeIcr(decodeIcr(low, high, x2apic), x2apic)
    assert.equal(r.low, (low & 0x000ccfff) >>> 0) // 19:18, 15, 14, 11, 10:8, 7:0
    assert.equal(r.high, x2apic ? high >>> 0 : (high & 0xff000000) >>> 0)
  }))
})

test('encodeIcr rejects a destination that does not fit xAPIC bits 63:56', () => {
  assert.throws(() => encodeIcr({ vector: 1, deliveryMode: 'Fixed', destMode: 'physical', dest: 0x100, trigger: 'edge', level: 1, shorthand: 'none' }, false), RangeError)
})

// ---------------------------------------------------------------- reducer properties
const regs: LapicReg[] = ['ID', 'TPR', 'LDR', 'DFR', 'SVR', 'LVT0']
const modes: DeliveryMode[] = ['Fixed', 'LowestPriority', 'SMI', 'NMI', 'INIT', 'StartUp', 'ExtINT']
const arbEvent: fc.Arbitrary<LapicEvent> = fc.oneof(
  fc.record({
    _tag: fc.constant('LapicIrqAccepted' as const),
    deliveryMode: fc.constantFrom(...modes),
    vector: fc.integer({ min: 16, max: 255 }),
    level: fc.constantFrom(0 as const, 1 as const),
    trigger: fc.constantFrom('edge' as const, 'level' as const),
  }),
  fc.record({
    _tag: fc.constant('LapicRegWritten' as const),
    reg: fc.constantFrom(...regs),
    value: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0x1ff, 0xff, 0x700, 0x10700, 0x01000000, 0, 0x20)),
  }),
  fc.record({ _tag: fc.constant('LapicModeSet' as const), x2apic: fc.boolean() }),
  fc.constant({ _tag: 'LapicEoiWritten' as const }),
  fc.constant({ _tag: 'LapicInterruptAcked' as const }),
)

test('reduceLapic never mutates its (deep-frozen) inputs, is deterministic, and keeps the hash consistent (property)', () => {
  check(fc.property(fc.integer({ min: 0, max: 20 }), fc.array(arbEvent, { maxLength: 40 }), fc.boolean(), (id, events, track) => {
    let s = deepFreeze(initialLapic(id))
    let t = initialLapic(id)
    for (const e of events) {
      deepFreeze(e)
      const before = structure(s)
      const n = reduceLapic(s, e, { trackArbPrio: track })
      assert.equal(structure(s), before)
      t = reduceLapic(t, e, { trackArbPrio: track })
      assert.equal(structure(n), structure(t))
      // incremental hash == hash of a freshly built record with the same fields
      const fresh = LapicR.make(n)
      assert.equal(n.h1, fresh.h1)
      assert.equal(n.h2, fresh.h2)
      // an unchanged state is the same object
      if (structure(n) === before) assert.equal(n, s)
      s = deepFreeze(n)
    }
  }))
})

test('every acked vector has a class strictly above the PPR before the ack (apic_has_interrupt_for_ppr; SDM 11.8.3, property)', () => {
  check(fc.property(fc.array(arbEvent, { maxLength: 40 }), (events) => {
    let s = lapicWriteReg(initialLapic(1), 'SVR', 0x1ff)
    for (const e of events) {
      if (e._tag === 'LapicInterruptAcked') {
        const ppr = lapicPpr(s)
        const r = lapicAck(s)
        if (r.vector !== -1) assert.ok((r.vector & 0xf0) > ppr)
        s = r.state
      } else s = reduceLapic(s, e)
    }
  }))
})
