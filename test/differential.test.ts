// Differential tests: the model's PIC and IOAPIC against the naive references in test/reference/
// (boolean arrays, linear scans, written from the kernel source independently of model/), driven by
// the same random event sequences. After every step all registers, read values, INTA vectors, acked
// IRQs, serviceable pins and messages must agree. The test also counts how often each event kind and
// device mode occurred and fails if any never did, so a generator that stops reaching a mode is caught.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { initialPic, picStep, type PicChip, type PicState } from '../model/devices/pic.js'
import type { PicEvent, PicPort, IoapicEvent } from '../model/devices/events.js'
import { initialIoapic, ioapicEoi, ioapicService, ioapicServiceable, ioapicSetLine, ioapicWriteEntry, type IoapicState } from '../model/devices/ioapic.js'
import { Table } from '../model/core/Table.js'
import { refPicInitial, refPicStep, reg8, type RefPic, type RefPicChip, type RefPicNotes } from './reference/pic.js'
import { refIoapicEntryWords, refIoapicInitial, refIoapicServiceable, refIoapicStep, type RefIoapic } from './reference/ioapic.js'
import { check, deepFreeze } from './helpers.js'

// ------------------------------------------------------------------ PIC
const ports: PicPort[] = [0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1]
/** Values that mean something to the 8259: ICW1, ICW4 (AEOI/SFNM), OCW2 commands, OCW3 read/poll, plus any byte. */
const meaningful = fc.oneof(
  fc.constantFrom(0x11, 0x10, 0x13, 0x01, 0x03, 0x13 & 0x1f, 0x11 | 0x10),
  fc.integer({ min: 0, max: 7 }).map((l) => 0x60 | l), // specific EOI
  fc.constantFrom(0x20, 0xa0, 0x80, 0x00), // non-specific EOI, rotate on NS EOI, set/clear rotate-on-AEOI
  fc.integer({ min: 0, max: 7 }).map((l) => 0xe0 | l), // rotate on specific EOI
  fc.integer({ min: 0, max: 7 }).map((l) => 0xc0 | l), // set priority
  fc.constantFrom(0x0a, 0x0b, 0x0c, 0x68, 0x48), // OCW3: read IRR/ISR, poll, special mask
  fc.integer({ min: 0, max: 255 }),
)
const picEvent: fc.Arbitrary<PicEvent> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ _tag: fc.constant('PicLineSet' as const), irq: fc.integer({ min: 0, max: 15 }), level: fc.constantFrom(0 as const, 1 as const) }) },
  { weight: 3, arbitrary: fc.record({ _tag: fc.constant('PicPortWritten' as const), port: fc.constantFrom(...ports), value: meaningful }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant('PicPortRead' as const), port: fc.constantFrom(...ports) }) },
  { weight: 2, arbitrary: fc.constant({ _tag: 'PicAcknowledged' as const }) },
)
/** A prefix that initialises both chips (ICW1-4, base 0x20/0x28, unmask all), so the runs see a working PIC. */
const init: PicEvent[] = [
  [0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0xa0, 0x11], [0xa1, 0x28], [0xa1, 0x02], [0xa1, 0x01], [0x21, 0x00], [0xa1, 0x00],
].map(([port, value]) => ({ _tag: 'PicPortWritten' as const, port: port as PicPort, value: value! }))

const chipView = (c: PicChip) => ({
  irr: c.irr, imr: c.imr, isr: c.isr, elcr: c.elcr, lastIrr: c.lastIrr, priorityAdd: c.priorityAdd, irqBase: c.irqBase,
  readRegSelect: c.readRegSelect, poll: c.poll, specialMask: c.specialMask, initState: c.initState, init4: c.init4,
  autoEoi: c.autoEoi, rotateOnAutoEoi: c.rotateOnAutoEoi, specialFullyNestedMode: c.specialFullyNestedMode,
})
const refChipView = (c: RefPicChip) => ({
  irr: reg8(c.irr), imr: reg8(c.imr), isr: reg8(c.isr), elcr: reg8(c.elcr), lastIrr: reg8(c.lastIrr), priorityAdd: c.priorityAdd,
  irqBase: c.irqBase, readRegSelect: c.readRegSelect, poll: c.poll, specialMask: c.specialMask, initState: c.initState,
  init4: c.init4, autoEoi: c.autoEoi, rotateOnAutoEoi: c.rotateOnAutoEoi, specialFullyNestedMode: c.specialFullyNestedMode,
})
const picView = (s: PicState) => ({ master: chipView(s.master), slave: chipView(s.slave), output: s.output })
const refPicView = (s: RefPic) => ({ master: refChipView(s.chips[0]!), slave: refChipView(s.chips[1]!), output: s.output })

const picModes = ['edge-raised', 'level-raised', 'auto-eoi', 'rotation', 'specific-eoi', 'non-specific-eoi', 'poll', 'cascade', 'spurious-7', 'spurious-15', 'icw1', 'icw4', 'PicLineSet', 'PicPortWritten', 'PicPortRead', 'PicAcknowledged'] as const
const countNotes = (counts: Map<string, number>, e: PicEvent, n: RefPicNotes): void => {
  const bump = (k: string): void => void counts.set(k, (counts.get(k) ?? 0) + 1)
  bump(e._tag)
  if (n.edgeRaised) bump('edge-raised')
  if (n.levelRaised) bump('level-raised')
  if (n.autoEoi) bump('auto-eoi')
  if (n.rotation) bump('rotation')
  if (n.specificEoi) bump('specific-eoi')
  if (n.nonSpecificEoi) bump('non-specific-eoi')
  if (n.poll) bump('poll')
  if (n.cascade) bump('cascade')
  if (n.spurious7) bump('spurious-7')
  if (n.spurious15) bump('spurious-15')
  if (n.icw1) bump('icw1')
  if (n.icw4) bump('icw4')
}

test('PIC: model and naive reference agree on every register, read, INTA vector and ack after every step; every mode occurs', () => {
  const counts = new Map<string, number>()
  check(fc.property(fc.array(picEvent, { minLength: 20, maxLength: 120 }), fc.boolean(), (events, withInit) => {
    let m = initialPic()
    let r = refPicInitial()
    const seq = withInit ? [...init, ...events] : events
    for (const e of seq) {
      deepFreeze(m)
      deepFreeze(r)
      const ms = picStep(m, e)
      const rs = refPicStep(r, e)
      countNotes(counts, e, rs.notes)
      assert.deepEqual(picView(ms.state), refPicView(rs.state), `state after ${JSON.stringify(e)}`)
      assert.deepEqual([...ms.acked], rs.notes.acked, `acked IRQs after ${JSON.stringify(e)}`)
      if (e._tag === 'PicPortRead') assert.equal(ms.value, rs.notes.read, `read of ${e.port}`)
      if (e._tag === 'PicAcknowledged') assert.equal(ms.value, rs.notes.vector, 'INTA vector')
      m = ms.state
      r = rs.state
    }
  }), { numRuns: 400 })
  const missing = picModes.filter((k) => !counts.get(k))
  assert.deepEqual(missing, [], `PIC modes never exercised: ${missing.join(', ')}; counts ${JSON.stringify(Object.fromEntries(counts))}`)
})

// ------------------------------------------------------------------ IOAPIC
const redirLow = fc.record({
  vector: fc.constantFrom(0x30, 0x31, 0x51),
  mode: fc.constantFrom(0, 0, 0, 1, 4, 7, 3),
  logical: fc.boolean(),
  level: fc.boolean(),
  masked: fc.boolean(),
  junk: fc.constantFrom(0, 1 << 12, 1 << 14, 1 << 13),
}).map((f) => (f.vector | (f.mode << 8) | (f.logical ? 1 << 11 : 0) | (f.level ? 1 << 15 : 0) | (f.masked ? 1 << 16 : 0) | f.junk) >>> 0)
const pin = fc.integer({ min: 0, max: 3 })
const ioapicEvent: fc.Arbitrary<IoapicEvent> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ _tag: fc.constant('IoapicLineSet' as const), pin, level: fc.constantFrom(0 as const, 1 as const) }) },
  { weight: 2, arbitrary: fc.record({ _tag: fc.constant('IoapicEntryWritten' as const), pin, half: fc.constant('low' as const), value: redirLow }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant('IoapicEntryWritten' as const), pin, half: fc.constant('high' as const), value: fc.integer({ min: 0, max: 3 }).map((d) => (d << 24) >>> 0) }) },
  { weight: 3, arbitrary: fc.record({ _tag: fc.constant('IoapicPinServiced' as const), pin }) },
  { weight: 2, arbitrary: fc.record({ _tag: fc.constant('IoapicEoiReceived' as const), vector: fc.constantFrom(0x30, 0x31, 0x51) }) },
)
const ioView = (s: IoapicState) => ({
  entries: s.pins.items.map((e) => ({ low: e.low, high: e.high })),
  irr: s.irr,
  edgePending: s.edgePending,
})
const bits = (a: readonly boolean[]): number => a.reduce((acc, b, i) => (b ? acc | (1 << i) : acc), 0) >>> 0
const refIoView = (s: RefIoapic) => ({ entries: s.entries.map(refIoapicEntryWords), irr: bits(s.irr), edgePending: bits(s.edgePending) })

test('IOAPIC: model and naive reference agree on entries, IRR, serviceable pins, messages and acks after every step; every mode occurs', () => {
  const counts = new Map<string, number>()
  const bump = (k: string): void => void counts.set(k, (counts.get(k) ?? 0) + 1)
  check(fc.property(fc.array(ioapicEvent, { minLength: 20, maxLength: 100 }), (events) => {
    let m = initialIoapic()
    let r = refIoapicInitial()
    for (const e of events) {
      deepFreeze(m)
      deepFreeze(r)
      const rs = refIoapicStep(r, e)
      bump(e._tag)
      let next: IoapicState
      switch (e._tag) {
        case 'IoapicLineSet': {
          const x = ioapicSetLine(m, e.pin, e.level)
          assert.equal(x.coalesced, rs.notes.coalesced === true, 'coalesced')
          if (x.coalesced) bump('coalesced')
          next = x.state
          break
        }
        case 'IoapicEntryWritten':
          next = ioapicWriteEntry(m, e.pin, e.half, e.value)
          break
        case 'IoapicPinServiced': {
          const x = ioapicService(m, e.pin)
          assert.deepEqual(x.message, rs.notes.message, 'message')
          if (x.message) {
            bump(`delivery-${x.message.deliveryMode}`)
            bump(`dest-${x.message.destMode}`)
          }
          if (rs.notes.edgeServiced) bump('edge-serviced')
          if (rs.notes.levelServiced) bump('level-serviced')
          next = x.state
          break
        }
        case 'IoapicEoiReceived': {
          const x = ioapicEoi(m, e.vector)
          assert.deepEqual([...x.acked], rs.notes.acked, 'acked pins')
          if (rs.notes.remoteIrrCleared.length) bump('remote-irr-cleared')
          if (x.reserviced.length) bump('reserviced')
          next = x.state
          break
        }
      }
      r = rs.state
      assert.deepEqual(ioView(next), refIoView(r), `state after ${JSON.stringify(e)}`)
      assert.deepEqual(ioapicServiceable(next), refIoapicServiceable(r), 'serviceable pins')
      assert.equal(Table.size(next.pins), 24)
      m = next
    }
  }), { numRuns: 400 })
  const want = ['IoapicLineSet', 'IoapicEntryWritten', 'IoapicPinServiced', 'IoapicEoiReceived', 'coalesced', 'edge-serviced', 'level-serviced', 'remote-irr-cleared', 'reserviced',
    'delivery-Fixed', 'delivery-LowestPriority', 'delivery-NMI', 'delivery-ExtINT', 'dest-physical', 'dest-logical']
  const missing = want.filter((k) => !counts.get(k))
  assert.deepEqual(missing, [], `IOAPIC modes never exercised: ${missing.join(', ')}; counts ${JSON.stringify(Object.fromEntries(counts))}`)
})
