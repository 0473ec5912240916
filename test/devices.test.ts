// Unit tests of the 8259 pair, the IOAPIC and MSI decode, one or more per rule, each citing its source.
// Expected values are worked out by hand from the cited rule.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { initialPic, picAck, picRead, picStep, picWrite, reducePic, type PicState } from '../model/devices/pic.js'
import type { PicPort } from '../model/devices/events.js'
import { initialIoapic, ioapicEoi, ioapicService, ioapicServiceable, ioapicSetLine, ioapicWriteEntry } from '../model/devices/ioapic.js'
import { Table } from '../model/core/Table.js'
import { decodeMsi, encodeMsi } from '../model/devices/msi.js'
import { check } from './helpers.js'

const writes = (s: PicState, ws: [number, number][]): PicState => ws.reduce((st, [p, v]) => picWrite(st, p as PicPort, v).state, s)
/** ICW1 (ICW4 needed), ICW2 base, ICW3, ICW4 (8086 mode, AEOI per flag) on both chips; all unmasked. */
const programmed = (aeoi = false): PicState =>
  writes(initialPic(), [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, aeoi ? 0x03 : 0x01], [0xa0, 0x11], [0xa1, 0x28], [0xa1, 0x02], [0xa1, aeoi ? 0x03 : 0x01], [0x21, 0], [0xa1, 0]])
const line = (s: PicState, irq: number, level: 0 | 1): PicState => reducePic(s, { _tag: 'PicLineSet', irq, level })

test('PIC ICW1-4: irq base from ICW2 & 0xf8, init4, auto-EOI from ICW4 bit 1, back to normal mode (i8259.c pic_ioport_write)', () => {
  const s = programmed(true)
  assert.equal(s.master.irqBase, 0x20)
  assert.equal(s.slave.irqBase, 0x28)
  assert.equal(s.master.autoEoi, true)
  assert.equal(s.master.init4, true)
  assert.equal(s.master.initState, 0)
  assert.equal(writes(initialPic(), [[0x21, 0x00]]).master.initState, 0, 'a data write with no ICW1 is OCW1')
})

test('PIC edge: IRR latches on 0→1 of the line (last_irr), INTA returns base+irq, sets ISR and clears the edge IRR (pic_set_irq1, pic_intack)', () => {
  let s = line(programmed(), 4, 1)
  assert.equal(s.master.irr, 1 << 4)
  assert.equal(s.output, true)
  s = line(s, 4, 0)
  assert.equal(s.master.irr, 1 << 4, 'an edge stays latched after the line drops')
  const a = picAck(s)
  assert.equal(a.vector, 0x24)
  assert.equal(a.irq, 4)
  assert.equal(a.state.master.isr, 1 << 4)
  assert.equal(a.state.master.irr, 0)
  assert.equal(a.state.output, false)
})

test('PIC level (ELCR): IRR follows the line and survives INTA; ELCR writes are masked by 0xf8 / 0xde (elcr_ioport_write, kvm_create_pic)', () => {
  let s = writes(programmed(), [[0x4d0, 0xff], [0x4d1, 0xff]])
  assert.equal(s.master.elcr, 0xf8)
  assert.equal(s.slave.elcr, 0xde)
  s = line(s, 3, 1)
  const a = picAck(s)
  assert.equal(a.vector, 0x23)
  assert.equal(a.state.master.irr & 8, 8, 'level IRR is not cleared by INTA')
  assert.equal(line(a.state, 3, 0).master.irr & 8, 0, 'and drops with the line')
})

test('PIC non-specific EOI clears the highest-priority ISR bit and runs its ack notifier; specific EOI clears the named one (OCW2 cmd 1 / 3)', () => {
  let s = line(line(programmed(), 5, 1), 3, 1)
  s = picAck(s).state // IRQ3 (higher priority)
  assert.equal(s.master.isr, 1 << 3)
  const ns = picWrite(s, 0x20, 0x20)
  assert.equal(ns.state.master.isr, 0)
  assert.deepEqual(ns.acked, [3])
  const sp = picWrite(s, 0x20, 0x60 | 3)
  assert.equal(sp.state.master.isr, 0)
  assert.deepEqual(sp.acked, [3])
})

test('PIC priority: a request is delivered only above the highest in-service priority (pic_get_irq); rotation moves the lowest priority (OCW2 cmd 5/7, cmd 6)', () => {
  let s = picAck(line(programmed(), 3, 1)).state // IRQ3 in service
  s = line(s, 5, 1)
  assert.equal(s.output, false, 'IRQ5 has lower priority than in-service IRQ3')
  s = line(s, 1, 1)
  assert.equal(s.output, true, 'IRQ1 beats IRQ3')
  // rotate on specific EOI of 1: priority_add = 2, so IRQ2 is now the highest and IRQ1 the lowest
  const r = picWrite(programmed(), 0x20, 0xe0 | 1).state
  assert.equal(r.master.priorityAdd, 2)
  // set priority (cmd 6) with level 4: lowest priority IRQ4, priority_add = 5
  assert.equal(picWrite(programmed(), 0x20, 0xc4).state.master.priorityAdd, 5)
})

test('PIC auto-EOI: INTA clears ISR at once and runs the ack notifier; with rotate-on-AEOI priority_add = irq+1 (pic_intack)', () => {
  let s = programmed(true)
  s = picWrite(s, 0x20, 0x80).state // OCW2 cmd 4: rotate in AEOI mode
  const a = picAck(line(s, 6, 1))
  assert.equal(a.state.master.isr, 0)
  assert.deepEqual([...a.acked], [6])
  assert.equal(a.state.master.priorityAdd, 7)
})

test('PIC cascade: a slave request raises master IRQ2; INTA returns the slave vector and sets both ISR bits (pic_update_irq, kvm_pic_read_irq)', () => {
  const s = line(programmed(), 10, 1)
  assert.equal(s.master.irr & 4, 4)
  const a = picAck(s)
  assert.equal(a.vector, 0x2a)
  assert.equal(a.irq, 10)
  assert.equal(a.state.slave.isr, 1 << 2)
  assert.equal(a.state.master.isr, 1 << 2)
})

test('PIC spurious: INTA with no request answers IRQ7 of the master; a cascade with no slave request answers IRQ15 (kvm_pic_read_irq)', () => {
  const a = picAck(programmed())
  assert.equal(a.vector, 0x27)
  assert.equal(a.irq, 7)
  assert.equal(a.state.master.isr, 0, 'no ISR bit for a spurious IRQ7')
  // master IRR2 latched, but the slave line went away (level on slave pin, dropped)
  let s = writes(programmed(), [[0x4d1, 1 << 1]])
  s = line(line(s, 9, 1), 9, 0)
  const b = picAck(s)
  assert.equal(b.vector, 0x2f)
  assert.equal(b.irq, 15)
})

test('PIC OCW3: read IRR or ISR at the command port, IMR at the data port; poll acknowledges like INTA and returns the pin (pic_ioport_read, pic_poll_read)', () => {
  let s = line(programmed(), 4, 1)
  assert.equal(picRead(s, 0x20).value, 1 << 4, 'IRR by default')
  assert.equal(picRead(writes(s, [[0x21, 0x42]]), 0x21).value, 0x42)
  s = picWrite(s, 0x20, 0x0b).state // read ISR
  assert.equal(picRead(s, 0x20).value, 0)
  s = picWrite(s, 0x20, 0x0c).state // poll
  const p = picRead(s, 0x20)
  assert.equal(p.value, 4)
  assert.equal(p.state.master.irr, 0)
  assert.equal(p.state.master.poll, false)
})

test('PIC masked pin: IMR blocks the output but keeps IRR; unmask re-raises INTR (OCW1 → pic_update_irq)', () => {
  let s = writes(programmed(), [[0x21, 1 << 4]])
  s = line(s, 4, 1)
  assert.equal(s.output, false)
  assert.equal(s.master.irr, 1 << 4)
  assert.equal(picWrite(s, 0x21, 0).state.output, true)
})

test('PIC: updates that change nothing return the same object', () => {
  const s = programmed()
  assert.equal(line(s, 4, 0), s)
  assert.equal(picStep(s, { _tag: 'PicPortRead', port: 0x21 }).state, s)
})

const low = (vector: number, opts: { level?: boolean; masked?: boolean; mode?: number; logical?: boolean } = {}): number =>
  (vector | ((opts.mode ?? 0) << 8) | (opts.logical ? 1 << 11 : 0) | (opts.level ? 1 << 15 : 0) | (opts.masked ? 1 << 16 : 0)) >>> 0

test('IOAPIC reset: every entry masked (kvm_ioapic_reset)', () => {
  const s = initialIoapic()
  assert.equal(Table.size(s.pins), 24)
  assert.ok(s.pins.items.every((e) => e.masked))
  assert.equal(ioapicSetLine(s, 3, 1).state.edgePending, 0, 'a masked edge is lost')
})

test('IOAPIC edge: a rising edge makes one delivery pending; a re-assert while IRR is set is coalesced (ioapic_set_irq)', () => {
  let s = ioapicWriteEntry(initialIoapic(), 2, 'low', low(0x30))
  const r1 = ioapicSetLine(s, 2, 1)
  assert.equal(r1.coalesced, false)
  assert.deepEqual(ioapicServiceable(r1.state), [2])
  const r2 = ioapicSetLine(r1.state, 2, 1)
  assert.equal(r2.coalesced, true)
  s = ioapicService(r2.state, 2).state
  assert.deepEqual(ioapicServiceable(s), [])
})

test('IOAPIC level: service sets remote IRR and builds the message; EOI clears it and re-services a still-high line (ioapic_service, __kvm_ioapic_update_eoi)', () => {
  let s = ioapicWriteEntry(initialIoapic(), 10, 'high', (1 << 24) >>> 0)
  s = ioapicWriteEntry(s, 10, 'low', low(0x51, { level: true }))
  s = ioapicSetLine(s, 10, 1).state
  const sv = ioapicService(s, 10)
  assert.deepEqual(sv.message, { vector: 0x51, deliveryMode: 'Fixed', destMode: 'physical', dest: 1, trigger: 'level', level: 1, shorthand: 'none' })
  assert.equal(Table.get(sv.state.pins, 10).remoteIrr, true)
  assert.deepEqual(ioapicServiceable(sv.state), [], 'remote IRR blocks re-delivery')
  const eoi = ioapicEoi(sv.state, 0x51)
  assert.deepEqual([...eoi.acked], [10])
  assert.deepEqual([...eoi.reserviced], [10])
  assert.equal(Table.get(eoi.state.pins, 10).remoteIrr, false)
  assert.deepEqual(ioapicServiceable(eoi.state), [10])
})

test('IOAPIC entry write: remote IRR and delivery status are read-only; making the entry edge clears remote IRR (ioapic_write_indirect)', () => {
  let s = ioapicWriteEntry(initialIoapic(), 1, 'low', low(0x40, { level: true }))
  s = ioapicService(ioapicSetLine(s, 1, 1).state, 1).state
  const again = ioapicWriteEntry(s, 1, 'low', low(0x40, { level: true, masked: true }))
  assert.equal(Table.get(again.pins, 1).remoteIrr, true, 'a write cannot clear remote IRR of a level entry')
  const edge = ioapicWriteEntry(s, 1, 'low', low(0x40))
  assert.equal(Table.get(edge.pins, 1).remoteIrr, false)
  assert.equal(ioapicWriteEntry(s, 1, 'low', Table.get(s.pins, 1).low), s, 'same words: same object')
})

test('MSI decode: destination 19:12, logical bit 2, vector, delivery mode, trigger; redirection hint → lowest priority; mode 3 → none (kvm_msi_to_lapic_irq)', () => {
  assert.deepEqual(decodeMsi(0xfee01000, 0x4061), { vector: 0x61, deliveryMode: 'Fixed', destMode: 'physical', dest: 1, trigger: 'edge', level: 1, shorthand: 'none' })
  assert.deepEqual(decodeMsi(0xfee0300c, 0xc431), { vector: 0x31, deliveryMode: 'NMI', destMode: 'logical', dest: 3, trigger: 'level', level: 1, shorthand: 'none' })
  assert.equal(decodeMsi(0xfee00008, 0x0030)!.deliveryMode, 'LowestPriority')
  assert.equal(decodeMsi(0xfee00000, 0x0330), undefined)
})

test('MSI encode/decode round trip (property)', () => {
  check(fc.property(
    fc.integer({ min: 0, max: 255 }), fc.constantFrom('Fixed', 'LowestPriority', 'SMI', 'NMI', 'INIT', 'StartUp', 'ExtINT' as const),
    fc.constantFrom('physical' as const, 'logical' as const), fc.integer({ min: 0, max: 255 }), fc.constantFrom('edge' as const, 'level' as const),
    (vector, deliveryMode, destMode, dest, trigger) => {
      const { address, data } = encodeMsi({ vector, deliveryMode, destMode, dest, trigger })
      assert.deepEqual(decodeMsi(address, data), { vector, deliveryMode, destMode, dest, trigger, level: 1, shorthand: 'none' })
    }))
})
