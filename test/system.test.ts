// System-level tests of the x86 substrate: run-loop rules, purity, totality, determinism, hashing.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { buildX86, type X86Params } from '../models/x86-irqchip.js'
import { hashStats } from '../model/core/hash.js'
import { Table } from '../model/core/Table.js'
import { VectorSet } from '../model/core/VectorSet.js'
import { eventTags, type Event } from '../model/Event.js'
import type { SystemModel, SystemState } from '../model/System.js'
import { VcpuId } from '../model/ids.js'
import { check, deepFreeze, structure } from './helpers.js'

const defaults: X86Params = { vcpus: 2, edges: 1, levels: 1, msis: 1, ipis: 1, irqfd: 1, cli: 1 }
const { system } = buildX86(defaults)
const v0 = VcpuId.make(0)
const v1 = VcpuId.make(1)

const run = (m: SystemModel, events: Event[], from = m.initial): SystemState => {
  let s = from
  for (const e of events) {
    assert.ok(m.enabled(s).some((x) => structure(x) === structure(e)), `not enabled: ${JSON.stringify(e)}`)
    s = m.reduce(s, e)
  }
  return s
}

/** A random walk over enabled events, choosing by the given indices (fast-check drives them). */
const walk = (m: SystemModel, choices: number[]): { states: SystemState[]; events: Event[] } => {
  const states = [m.initial]
  const events: Event[] = []
  let s = m.initial
  for (const c of choices) {
    const en = m.enabled(s)
    if (en.length === 0) break
    const e = en[c % en.length]!
    s = m.reduce(s, e)
    events.push(e)
    states.push(s)
  }
  return { states, events }
}

test('MSI: fixed MSI to vCPU 1 sets IRR and is injected at the next entry (kvm_set_msi → __apic_accept_irq; vcpu_enter_guest)', () => {
  const s1 = run(system, [{ _tag: 'MsiSignalled', msi: 0 }])
  assert.ok(VectorSet.has(Table.get(s1.lapics, 1).irr, 0x61))
  const s2 = run(system, [{ _tag: 'VcpuEntered', vcpu: v1 }], s1)
  const c = Table.get(s2.vcpus, 1)
  assert.equal(c.handler, 0x61)
  assert.equal(c.ifFlag, false, 'the interrupt gate clears IF (SDM 6.12.1.3)')
  assert.ok(VectorSet.has(Table.get(s2.lapics, 1).isr, 0x61))
  assert.ok(!VectorSet.has(Table.get(s2.lapics, 1).irr, 0x61))
})

test('kick: an interrupt for a vCPU in guest mode moves it to EXITING (kvm_vcpu_kick), and the exit is then enabled', () => {
  const s1 = run(system, [{ _tag: 'VcpuEntered', vcpu: v1 }, { _tag: 'MsiSignalled', msi: 0 }])
  assert.equal(Table.get(s1.vcpus, 1).run, 'exiting')
  assert.ok(system.enabled(s1).some((e) => e._tag === 'VcpuExited' && e.vcpu === 1))
})

test('interrupt window: with IF clear at entry nothing is injected and the window exit waits for STI and the shadow (x86.c kvm_check_and_inject_events)', () => {
  const s1 = run(system, [
    { _tag: 'VcpuEntered', vcpu: v1 },
    { _tag: 'GuestIfChanged', vcpu: v1, enabled: false },
    { _tag: 'MsiSignalled', msi: 0 },
    { _tag: 'VcpuExited', vcpu: v1 },
    { _tag: 'VcpuEntered', vcpu: v1 },
  ])
  const c = Table.get(s1.vcpus, 1)
  assert.equal(c.handler, -1, 'not injected while IF=0')
  assert.equal(c.irqWindow, true)
  assert.ok(!system.enabled(s1).some((e) => e._tag === 'VcpuExited' && e.vcpu === 1), 'no window exit while IF=0')
  const s2 = run(system, [{ _tag: 'GuestIfChanged', vcpu: v1, enabled: true }], s1)
  assert.ok(!system.enabled(s2).some((e) => e._tag === 'VcpuExited' && e.vcpu === 1), 'STI shadow blocks for one instruction (SDM 6.8.3)')
  const s3 = run(system, [{ _tag: 'GuestStepped', vcpu: v1 }, { _tag: 'VcpuExited', vcpu: v1 }, { _tag: 'VcpuEntered', vcpu: v1 }], s2)
  assert.equal(Table.get(s3.vcpus, 1).handler, 0x61)
})

test('IOAPIC level line: delivered, remote IRR set, EOI broadcast with line still high re-delivers (ioapic.c kvm_ioapic_update_eoi_one)', () => {
  let s = run(system, [{ _tag: 'LineAsserted', source: 1 }])
  assert.deepEqual(system.enabled(s).filter((e) => e._tag === 'IoapicPinServiced'), [{ _tag: 'IoapicPinServiced', pin: 10 }])
  s = run(system, [{ _tag: 'IoapicPinServiced', pin: 10 }, { _tag: 'VcpuEntered', vcpu: v0 }], s)
  assert.equal(Table.get(s.vcpus, 0).handler, 0x51)
  assert.equal(Table.get(s.ioapic.pins, 10).remoteIrr, true)
  s = run(system, [{ _tag: 'GuestEoiWritten', vcpu: v0 }], s)
  assert.ok(VectorSet.has(s.pendingEoi, 0x51), 'level vector EOI is forwarded to the IOAPIC')
  s = run(system, [{ _tag: 'IoapicEoiBroadcast', vector: 0x51 }], s)
  assert.equal(Table.get(s.ioapic.pins, 10).remoteIrr, false)
  assert.ok(system.enabled(s).some((e) => e._tag === 'IoapicPinServiced' && e.pin === 10), 'line still high: serviceable again')
  assert.equal(s.ghost.redelivered, true)
})

test('PIC ExtINT: edge on GSI 4 reaches vCPU 0 through LVT0 ExtINT and INTA returns base+4 (i8259.c kvm_pic_read_irq; lapic.c kvm_apic_accept_pic_intr)', () => {
  const s = run(system, [{ _tag: 'LineAsserted', source: 0 }, { _tag: 'VcpuEntered', vcpu: v0 }])
  const c = Table.get(s.vcpus, 0)
  assert.equal(c.handler, 0x20 + 4)
  assert.equal(c.handlerSource, 'pic')
  assert.ok(system.enabled(s).some((e) => e._tag === 'GuestPicWritten' && e.port === 0x20 && e.value === 0x20), 'the handler EOIs the master')
  // vCPU 1 has LVT0 masked: it never takes the PIC interrupt
  const s1 = run(system, [{ _tag: 'LineAsserted', source: 0 }, { _tag: 'VcpuEntered', vcpu: v1 }])
  assert.equal(Table.get(s1.vcpus, 1).handler, -1)
})

test('IPI: vCPU 1 sends fixed vector 0x71 to APIC id 0 (lapic.c kvm_apic_send_ipi)', () => {
  const s = run(system, [{ _tag: 'VcpuEntered', vcpu: v1 }, { _tag: 'GuestIcrWritten', vcpu: v1, low: 0x71, high: 0 }])
  assert.ok(VectorSet.has(Table.get(s.lapics, 0).irr, 0x71))
  assert.ok(!VectorSet.has(Table.get(s.lapics, 1).irr, 0x71))
})

test('resamplefd: EOI of the irqfd level vector lowers the resampler source and signals resamplefd; the VMM re-signals while the device needs service (eventfd.c irqfd_resampler_ack)', () => {
  let s = run(system, [{ _tag: 'IrqfdSignalled', irqfd: 0 }, { _tag: 'IoapicPinServiced', pin: 11 }, { _tag: 'VcpuEntered', vcpu: v1 }])
  assert.equal(Table.get(s.vcpus, 1).handler, 0x59)
  s = run(system, [{ _tag: 'GuestEoiWritten', vcpu: v1 }, { _tag: 'IoapicEoiBroadcast', vector: 0x59 }], s)
  assert.equal(Table.get(s.lines, 11), 0, 'resampler de-asserted its source')
  assert.ok(system.enabled(s).some((e) => e._tag === 'ResamplefdRead'))
  s = run(system, [{ _tag: 'ResamplefdRead', irqfd: 0 }], s)
  assert.notEqual(Table.get(s.lines, 11), 0, 'device not yet acked by the guest: the VMM re-asserts')
})

test('determinism and purity: reduce on deep-frozen states never throws, gives equal results twice, and never mutates its input', () => {
  check(fc.property(fc.array(fc.nat(1000), { maxLength: 60 }), (choices) => {
    const a = walk(system, choices)
    const b = walk(system, choices)
    assert.equal(structure(a.states.at(-1)), structure(b.states.at(-1)))
    let s = deepFreeze(system.initial)
    for (const e of a.events) {
      const before = structure(s)
      const next = system.reduce(s, deepFreeze(e))
      assert.equal(structure(s), before)
      s = deepFreeze(next)
    }
  }), { numRuns: 150 })
})

test('totality: every enabled event changes the state or is a documented no-op, and reduce accepts every event kind without throwing', () => {
  const seen = new Set<string>()
  // Long event chains (irqfd → IOAPIC → LAPIC → handler → EOI → resampler) are rare in walks over the
  // full default model, so walks also run on a narrow model with only the resample irqfd.
  const narrow = buildX86({ vcpus: 2, edges: 0, levels: 0, msis: 0, ipis: 0, irqfd: 2, cli: 0 }).system
  check(fc.property(fc.boolean(), fc.array(fc.nat(1000), { minLength: 40, maxLength: 160 }), (useNarrow, choices) => {
    const m = useNarrow ? narrow : system
    const { states, events } = walk(m, choices)
    events.forEach((e, i) => {
      seen.add(e._tag)
      const s = states[i]!
      const n = m.reduce(s, e)
      assert.notEqual(n, s, `enabled ${JSON.stringify(e)} left the state unchanged`)
      // a non-enabled event (same tag, other vCPU/index) must not throw
      m.reduce(s, { ...e, _tag: e._tag } as Event)
    })
  }), { numRuns: 300 })
  const never = eventTags.filter((t) => !seen.has(t) && !['GuestIoapicWritten', 'GuestLapicWritten'].includes(t))
  assert.deepEqual(never, [], `event kinds never enabled in random walks: ${never.join(', ')}`)
})

test('hashing: structurally equal states reached by different paths have equal 64-bit hashes; different ones differ', () => {
  const byHash = new Map<string, string>()
  check(fc.property(fc.array(fc.nat(1000), { maxLength: 40 }), (choices) => {
    for (const s of walk(system, choices).states) {
      const h = `${s.h1}:${s.h2}`
      const st = structure(s)
      const prev = byHash.get(h)
      if (prev !== undefined) assert.equal(prev, st, 'two different states share a 64-bit hash')
      byHash.set(h, st)
    }
  }), { numRuns: 200 })
  const byStructure = new Map<string, string>()
  for (const [h, st] of byHash) {
    const prev = byStructure.get(st)
    if (prev !== undefined) assert.equal(prev, h, 'equal states with different hashes: an incremental hash update is wrong')
    byStructure.set(st, h)
  }
})

test('hashing: a one-field change re-hashes only the path to that field (vCPU record → vCPU table → system)', () => {
  const s = run(system, [{ _tag: 'VcpuEntered', vcpu: v1 }, { _tag: 'GuestIfChanged', vcpu: v1, enabled: false }, { _tag: 'GuestIfChanged', vcpu: v1, enabled: true }])
  const before = hashStats.computations
  const n = system.reduce(s, { _tag: 'GuestStepped', vcpu: v1 }) // clears one boolean: vcpu.shadow
  const cost = hashStats.computations - before
  assert.equal(cost, 3, 'three nodes on the path: Vcpu, Table<Vcpu>, System')
  assert.equal(n.lapics, s.lapics, 'unchanged subtrees are shared, not copied')
  assert.equal(n.pic, s.pic)
  assert.equal(n.ioapic, s.ioapic)
  // a full build hashes every node
  const b0 = hashStats.computations
  buildX86(defaults)
  assert.ok(hashStats.computations - b0 > 20 * cost, `a full build costs ${hashStats.computations - b0} hashes`)
})

test('no-op updates return the same object', () => {
  const s = system.initial
  assert.equal(system.reduce(s, { _tag: 'VcpuExited', vcpu: v0 }), s, 'not exiting: no-op')
  assert.equal(system.reduce(s, { _tag: 'IoapicEoiBroadcast', vector: 0x51 }), s, 'no pending EOI: no-op')
  assert.equal(system.reduce(s, { _tag: 'GuestEoiWritten', vcpu: v0 }), s, 'guest not running: no-op')
})
