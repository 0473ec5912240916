/**
 * The in-kernel 8259A PIC pair as KVM emulates it (arch/x86/kvm/i8259.c,
 * torvalds/linux ≈ v6.18; the file is a port of QEMU's i8259 and has been
 * stable since 2012 apart from locking). Registers are 8-bit masks; the
 * master is `pics[0]` (ports 0x20/0x21, ELCR 0x4d0), the slave `pics[1]`
 * (0xa0/0xa1, ELCR 0x4d1), cascaded on master IRQ2.
 *
 * Where KVM differs from the 8259A data sheet, this follows KVM:
 *  - ICW1 (`pic_ioport_write` → `kvm_pic_reset`) keeps level IRR bits, clears
 *    edge IRR bits and, when some vCPU accepts PIC interrupts, clears the ISR
 *    bits of the pins whose edge IRR was pending (running their ack notifiers);
 *    it does not re-evaluate the output line.
 *  - ICW1's LTIM and SNGL bits are ignored (only ELCR selects level mode);
 *    ICW3 is accepted and ignored; special mask mode is stored but unused.
 *  - the ELCR write (`elcr_ioport_write`) does not re-evaluate the output.
 *  - `output` (the INTR line, `kvm_pic.output`) changes only where KVM calls
 *    `pic_update_irq`, and INTA (`kvm_pic_read_irq`) lowers it first.
 * Every function returns the same object when nothing changes.
 */
import type { Hashed } from '../core/hash.js'
import { recordType } from '../core/Record.js'
import type { PicEvent, PicPort } from './events.js'

interface PicChipFields {
  readonly irr: number
  readonly imr: number
  readonly isr: number
  readonly elcr: number
  /** Edge detector: the last level seen on each pin (`last_irr`). */
  readonly lastIrr: number
  /** Writable ELCR bits: master 0xf8, slave 0xde (`kvm_create_pic`). */
  readonly elcrMask: number
  /** Rotation: the pin with the lowest priority is `priorityAdd - 1` (`priority_add`). */
  readonly priorityAdd: number
  readonly irqBase: number
  /** OCW3 RR/RIS: false reads IRR at the command port, true reads ISR. */
  readonly readRegSelect: boolean
  readonly poll: boolean
  readonly specialMask: boolean
  /** 0 normal, 1 expects ICW2, 2 expects ICW3, 3 expects ICW4. */
  readonly initState: number
  readonly init4: boolean
  readonly autoEoi: boolean
  readonly rotateOnAutoEoi: boolean
  readonly specialFullyNestedMode: boolean
}
export type PicChip = PicChipFields & Hashed

const ChipR = recordType<PicChipFields>('PicChip', [
  'irr', 'imr', 'isr', 'elcr', 'lastIrr', 'elcrMask', 'priorityAdd', 'irqBase', 'readRegSelect', 'poll',
  'specialMask', 'initState', 'init4', 'autoEoi', 'rotateOnAutoEoi', 'specialFullyNestedMode',
])

interface PicFields {
  readonly master: PicChip
  readonly slave: PicChip
  /** The INTR line to the CPU (`kvm_pic.output`), read by `kvm_cpu_has_extint`. */
  readonly output: boolean
}
export type PicState = PicFields & Hashed
const PicR = recordType<PicFields>('Pic', ['master', 'slave', 'output'])

const freshChip = (elcrMask: number): PicChip =>
  ChipR.make({
    irr: 0, imr: 0, isr: 0, elcr: 0, lastIrr: 0, elcrMask, priorityAdd: 0, irqBase: 0, readRegSelect: false,
    poll: false, specialMask: false, initState: 0, init4: false, autoEoi: false, rotateOnAutoEoi: false,
    specialFullyNestedMode: false,
  })

/** `kvm_create_pic`: zeroed state (kzalloc), ELCR masks 0xf8 (master) and 0xde (slave). */
export const initialPic = (): PicState => PicR.make({ master: freshChip(0xf8), slave: freshChip(0xde), output: false })

/** Options that come from outside the PIC. */
export interface PicOptions {
  /** Does some vCPU accept PIC interrupts (`kvm_apic_accept_pic_intr`)? Used by ICW1's `kvm_pic_reset`. Default true. */
  readonly picIntrAccepted?: boolean
}

/** What one PIC step did, besides the new state. */
export interface PicStep {
  readonly state: PicState
  /** Global IRQs (0..15) whose ISR bit was cleared, in order: each runs the ack notifiers (`pic_clear_isr`). */
  readonly acked: ReadonlyArray<number>
  /** Value of a port read, vector of an INTA. */
  readonly value?: number
  /** INTA only: the global IRQ delivered (7 or 15 when spurious). */
  readonly irq?: number
}

// ------------------------------------------------------------------ working copy (local to one step)
type Chip = { -readonly [K in keyof PicChipFields]: PicChipFields[K] }
interface Work { chips: [Chip, Chip]; output: boolean; acked: number[] }

const open = (s: PicState): Work => ({ chips: [{ ...fieldsOf(s.master) }, { ...fieldsOf(s.slave) }], output: s.output, acked: [] })
const fieldsOf = (c: PicChip): PicChipFields => {
  const { h1: _h1, h2: _h2, ...f } = c
  return f
}
/** Rebuild the hashed state, reusing every unchanged node. */
const close = (s: PicState, w: Work): PicState =>
  PicR.update(s, { master: ChipR.update(s.master, w.chips[0]), slave: ChipR.update(s.slave, w.chips[1]), output: w.output })

/** `get_priority`: the rotated priority (0 = highest) of the best bit in `mask`, 8 if none. */
const getPriority = (c: Chip, mask: number): number => {
  if (mask === 0) return 8
  let p = 0
  while ((mask & (1 << ((p + c.priorityAdd) & 7))) === 0) p++
  return p
}

/** `pic_get_irq`: the pin this chip requests, or -1 (a request must beat the highest in-service priority). */
const getIrq = (c: Chip, isMaster: boolean): number => {
  const p = getPriority(c, c.irr & ~c.imr)
  if (p === 8) return -1
  // Special fully nested mode: the master ignores its cascade ISR bit so the slave can nest.
  const cur = getPriority(c, isMaster && c.specialFullyNestedMode ? c.isr & ~4 : c.isr)
  return p < cur ? (p + c.priorityAdd) & 7 : -1
}

/** `pic_set_irq1`: level pins follow the line; edge pins latch IRR on a 0→1 change of `last_irr`. Returns KVM's ret (-1 masked, 0 coalesced, 1 delivered). */
const setIrq1 = (c: Chip, irq: number, level: 0 | 1): number => {
  const mask = 1 << irq
  let ret = 1
  if (c.elcr & mask) {
    if (level) {
      ret = c.irr & mask ? 0 : 1
      c.irr |= mask
      c.lastIrr |= mask
    } else {
      c.irr &= ~mask
      c.lastIrr &= ~mask
    }
  } else if (level) {
    if ((c.lastIrr & mask) === 0) {
      ret = c.irr & mask ? 0 : 1
      c.irr |= mask
    }
    c.lastIrr |= mask
  } else c.lastIrr &= ~mask
  return c.imr & mask ? -1 : ret
}

/** `pic_update_irq`: a slave request pulses master IRQ2 (edge); the master's request drives INTR (`pic_irq_request`). */
const updateIrq = (w: Work): void => {
  if (getIrq(w.chips[1], false) >= 0) {
    setIrq1(w.chips[0], 2, 1)
    setIrq1(w.chips[0], 2, 0)
  }
  w.output = getIrq(w.chips[0], true) >= 0
}

/** `pic_clear_isr`: clear the ISR bit and run the ack notifiers of the global IRQ. */
const clearIsr = (w: Work, which: 0 | 1, irq: number): void => {
  w.chips[which].isr &= ~(1 << irq)
  w.acked.push(which === 0 ? irq : irq + 8)
}

/** `pic_intack`: ISR set; edge IRR cleared (a level IRR stays: the line is still high); auto-EOI clears ISR at once. */
const intack = (w: Work, which: 0 | 1, irq: number): void => {
  const c = w.chips[which]
  c.isr |= 1 << irq
  if (!(c.elcr & (1 << irq))) c.irr &= ~(1 << irq)
  if (c.autoEoi) {
    if (c.rotateOnAutoEoi) c.priorityAdd = (irq + 1) & 7
    clearIsr(w, which, irq)
  }
}

/** `kvm_pic_reset` as ICW1 runs it. */
const icw1Reset = (w: Work, which: 0 | 1, opts: PicOptions): void => {
  const c = w.chips[which]
  const edgeIrr = c.irr & ~c.elcr
  c.lastIrr = 0
  c.irr &= c.elcr
  c.imr = 0
  c.priorityAdd = 0
  c.specialMask = false
  c.readRegSelect = false
  if (!c.init4) {
    c.specialFullyNestedMode = false
    c.autoEoi = false
  }
  c.initState = 1
  if (opts.picIntrAccepted === false) return
  for (let irq = 0; irq < 8; irq++) if (edgeIrr & (1 << irq)) clearIsr(w, which, irq)
}

/** `pic_ioport_write`: command port (ICW1, OCW2, OCW3) and data port (OCW1, ICW2-4). */
const ioportWrite = (w: Work, which: 0 | 1, dataPort: boolean, val: number, opts: PicOptions): void => {
  const c = w.chips[which]
  if (!dataPort) {
    if (val & 0x10) {
      // ICW1
      c.init4 = (val & 1) === 1
      icw1Reset(w, which, opts)
    } else if (val & 0x08) {
      // OCW3
      if (val & 0x04) c.poll = true
      if (val & 0x02) c.readRegSelect = (val & 1) === 1
      if (val & 0x40) c.specialMask = ((val >> 5) & 1) === 1
    } else {
      // OCW2
      const cmd = val >> 5
      switch (cmd) {
        case 0:
        case 4:
          c.rotateOnAutoEoi = cmd >> 2 === 1
          break
        case 1: // non-specific EOI
        case 5: { // rotate on non-specific EOI
          const p = getPriority(c, c.isr)
          if (p !== 8) {
            const irq = (p + c.priorityAdd) & 7
            if (cmd === 5) c.priorityAdd = (irq + 1) & 7
            clearIsr(w, which, irq)
            updateIrq(w)
          }
          break
        }
        case 3: // specific EOI
          clearIsr(w, which, val & 7)
          updateIrq(w)
          break
        case 6: // set priority
          c.priorityAdd = (val + 1) & 7
          updateIrq(w)
          break
        case 7: { // rotate on specific EOI
          const irq = val & 7
          c.priorityAdd = (irq + 1) & 7
          clearIsr(w, which, irq)
          updateIrq(w)
          break
        }
        default:
          break // cmd 2: no operation
      }
    }
    return
  }
  switch (c.initState) {
    case 0: // OCW1: the IMR (mask notifiers are not modelled)
      c.imr = val & 0xff
      updateIrq(w)
      break
    case 1: // ICW2
      c.irqBase = val & 0xf8
      c.initState = 2
      break
    case 2: // ICW3 (ignored)
      c.initState = c.init4 ? 3 : 0
      break
    case 3: // ICW4: SFNM bit 4, AEOI bit 1
      c.specialFullyNestedMode = ((val >> 4) & 1) === 1
      c.autoEoi = ((val >> 1) & 1) === 1
      c.initState = 0
      break
  }
}

/** `pic_poll_read`: the poll command acknowledges the best request like INTA (without setting ISR) and returns the pin. */
const pollRead = (w: Work, which: 0 | 1): number => {
  const c = w.chips[which]
  let ret = getIrq(c, which === 0)
  if (ret >= 0) {
    if (which === 1) {
      w.chips[0].isr &= ~4
      w.chips[0].irr &= ~4
    }
    c.irr &= ~(1 << ret)
    clearIsr(w, which, ret)
    if (which === 1 || ret !== 2) updateIrq(w)
  } else {
    ret = 7
    updateIrq(w)
  }
  return ret
}

const chipOf = (port: PicPort): 0 | 1 => (port === 0xa0 || port === 0xa1 || port === 0x4d1 ? 1 : 0)

/** Run one device event, reporting acks and read values. */
export const picStep = (s: PicState, e: PicEvent, opts: PicOptions = {}): PicStep => {
  const w = open(s)
  let value: number | undefined
  switch (e._tag) {
    case 'PicLineSet': {
      // kvm_pic_set_irq
      if (e.irq < 0 || e.irq > 15) return { state: s, acked: [] }
      setIrq1(w.chips[e.irq >> 3 === 0 ? 0 : 1], e.irq & 7, e.level)
      updateIrq(w)
      break
    }
    case 'PicPortWritten': {
      const which = chipOf(e.port)
      if (e.port === 0x4d0 || e.port === 0x4d1) w.chips[which].elcr = e.value & w.chips[which].elcrMask // elcr_ioport_write
      else ioportWrite(w, which, (e.port & 1) === 1, e.value & 0xff, opts)
      break
    }
    case 'PicPortRead': {
      const which = chipOf(e.port)
      const c = w.chips[which]
      if (e.port === 0x4d0 || e.port === 0x4d1) value = c.elcr // elcr_ioport_read
      else if (c.poll) {
        // pic_ioport_read: a pending poll command makes the next read a poll read
        value = pollRead(w, which)
        c.poll = false
      } else value = (e.port & 1) === 0 ? (c.readRegSelect ? c.isr : c.irr) : c.imr
      break
    }
    case 'PicAcknowledged': {
      const r = readIrq(w)
      return { state: close(s, w), acked: w.acked, value: r.intno, irq: r.irq }
    }
  }
  const state = close(s, w)
  return value === undefined ? { state, acked: w.acked } : { state, acked: w.acked, value }
}

/** `kvm_pic_read_irq`: INTA. Returns the vector; a request that vanished reads as spurious IRQ7 (master) or IRQ15 (slave). */
const readIrq = (w: Work): { intno: number; irq: number } => {
  w.output = false
  let irq = getIrq(w.chips[0], true)
  let intno: number
  if (irq >= 0) {
    intack(w, 0, irq)
    if (irq === 2) {
      let irq2 = getIrq(w.chips[1], false)
      if (irq2 >= 0) intack(w, 1, irq2)
      else irq2 = 7
      intno = w.chips[1].irqBase + irq2
      irq = irq2 + 8
    } else intno = w.chips[0].irqBase + irq
  } else {
    irq = 7
    intno = w.chips[0].irqBase + irq
  }
  updateIrq(w)
  return { intno, irq }
}

/** The device reducer: total over `PicEvent`. */
export const reducePic = (s: PicState, e: PicEvent, opts: PicOptions = {}): PicState => picStep(s, e, opts).state

/** INTA: new state, the vector, the global IRQ (7 or 15 when spurious) and the IRQs acked by auto-EOI. */
export const picAck = (s: PicState): { readonly state: PicState; readonly vector: number; readonly irq: number; readonly acked: ReadonlyArray<number> } => {
  const r = picStep(s, { _tag: 'PicAcknowledged' })
  return { state: r.state, vector: r.value ?? -1, irq: r.irq ?? 7, acked: r.acked }
}

/** A guest OUT to a PIC/ELCR port. */
export const picWrite = (s: PicState, port: PicPort, value: number, opts: PicOptions = {}): { readonly state: PicState; readonly acked: ReadonlyArray<number> } => {
  const r = picStep(s, { _tag: 'PicPortWritten', port, value }, opts)
  return { state: r.state, acked: r.acked }
}

/** A guest IN from a PIC/ELCR port. */
export const picRead = (s: PicState, port: PicPort): { readonly state: PicState; readonly value: number; readonly acked: ReadonlyArray<number> } => {
  const r = picStep(s, { _tag: 'PicPortRead', port })
  return { state: r.state, value: r.value ?? 0, acked: r.acked }
}

/** The INTR line (`kvm_pic.output`): what `kvm_cpu_has_extint` reports for an in-kernel PIC. */
export const picOutput = (s: PicState): boolean => s.output

/** Which pin a chip would request now (`pic_get_irq`), for invariants and the trace validator. */
export const picRequest = (s: PicState, which: 0 | 1): number => getIrq({ ...fieldsOf(which === 0 ? s.master : s.slave) }, which === 0)
