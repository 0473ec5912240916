/**
 * NAIVE reference model of KVM's 8259 PIC pair, written directly from
 * arch/x86/kvm/i8259.c (torvalds/linux) and the 8259A data sheet, independently
 * of model/devices/pic.ts. Every register is a boolean[8]; priorities are found
 * by linear scans. It imports nothing from model/.
 *
 * Each step copies the whole state and edits the copy, so inputs are never
 * mutated (the caller may freeze them).
 *
 * Where KVM and the data sheet disagree, this follows KVM:
 *  - ICW1 does not clear ISR and does not re-evaluate the output line
 *    (`pic_ioport_write` → `kvm_pic_reset`); when some vCPU accepts PIC interrupts
 *    it clears the ISR bits of the pins whose EDGE IRR bits were pending
 *    (`kvm_pic_reset`: `edge_irr = irr & ~elcr`, `pic_clear_isr` per bit). That
 *    "some vCPU accepts" is an input of this device: `RefPicOptions.picIntrAccepted`.
 *  - special mask mode (OCW3) is stored but never used by `pic_get_irq`.
 *  - ICW1 LTIM (level) and SNGL bits are ignored (printk only); only ELCR selects level.
 *  - ICW3 is accepted and ignored; the cascade is always IRQ2 of the master.
 */
import { at, bitsOf, filled, valueOf } from './bits.js'

// ----------------------------------------------------------------------------- events (own copies)
export type RefPicPort = 0x20 | 0x21 | 0xa0 | 0xa1 | 0x4d0 | 0x4d1

export type RefPicEvent =
  | { readonly _tag: 'PicLineSet'; readonly irq: number; readonly level: 0 | 1 }
  | { readonly _tag: 'PicPortWritten'; readonly port: RefPicPort; readonly value: number }
  | { readonly _tag: 'PicPortRead'; readonly port: RefPicPort }
  | { readonly _tag: 'PicAcknowledged' }

// ----------------------------------------------------------------------------- state
export interface RefPicChip {
  readonly irr: readonly boolean[]
  readonly imr: readonly boolean[]
  readonly isr: readonly boolean[]
  readonly elcr: readonly boolean[]
  /** edge detector: the last level seen on each pin (`last_irr`). */
  readonly lastIrr: readonly boolean[]
  /** which ELCR bits are writable: master 0xf8, slave 0xde (`kvm_pic_init`). */
  readonly elcrMask: readonly boolean[]
  readonly priorityAdd: number
  readonly irqBase: number
  /** OCW3 RR/RIS: false = read IRR, true = read ISR. */
  readonly readRegSelect: boolean
  readonly poll: boolean
  readonly specialMask: boolean
  /** 0 = normal, 1 = expect ICW2, 2 = expect ICW3, 3 = expect ICW4. */
  readonly initState: number
  readonly init4: boolean
  readonly autoEoi: boolean
  readonly rotateOnAutoEoi: boolean
  readonly specialFullyNestedMode: boolean
}

export interface RefPic {
  /** [master, slave] */
  readonly chips: readonly RefPicChip[]
  /** INTR line to the CPU (`kvm_pic.output`). */
  readonly output: boolean
}

export interface RefPicOptions {
  /** Does some vCPU accept PIC interrupts (`kvm_apic_accept_pic_intr`)? Used only by ICW1 (`kvm_pic_reset`). Default true. */
  readonly picIntrAccepted?: boolean
}

/** What happened in a step, for the differential view and the coverage counter. */
export interface RefPicNotes {
  /** value returned by a port read */
  read?: number
  /** vector returned by INTA */
  vector?: number
  /** global IRQ numbers (0..15) whose ISR bit was cleared (`pic_clear_isr` → ack notifiers), in order */
  acked: number[]
  spurious7?: boolean
  spurious15?: boolean
  cascade?: boolean
  autoEoi?: boolean
  rotation?: boolean
  specificEoi?: boolean
  nonSpecificEoi?: boolean
  edgeRaised?: boolean
  levelRaised?: boolean
  poll?: boolean
  icw1?: boolean
  icw4?: boolean
}

export interface RefPicStep {
  readonly state: RefPic
  readonly notes: RefPicNotes
}

// mutable working copy
interface Chip {
  irr: boolean[]
  imr: boolean[]
  isr: boolean[]
  elcr: boolean[]
  lastIrr: boolean[]
  elcrMask: boolean[]
  priorityAdd: number
  irqBase: number
  readRegSelect: boolean
  poll: boolean
  specialMask: boolean
  initState: number
  init4: boolean
  autoEoi: boolean
  rotateOnAutoEoi: boolean
  specialFullyNestedMode: boolean
}
interface Pair {
  chips: Chip[]
  output: boolean
}

function freshChip(elcrMask: number): RefPicChip {
  return {
    irr: filled(8, false),
    imr: filled(8, false),
    isr: filled(8, false),
    elcr: filled(8, false),
    lastIrr: filled(8, false),
    elcrMask: bitsOf(elcrMask, 8),
    priorityAdd: 0,
    irqBase: 0,
    readRegSelect: false,
    poll: false,
    specialMask: false,
    initState: 0,
    init4: false,
    autoEoi: false,
    rotateOnAutoEoi: false,
    specialFullyNestedMode: false,
  }
}

/** `kvm_pic_init`: everything zero (kzalloc), ELCR masks 0xf8 / 0xde. */
export function refPicInitial(): RefPic {
  return { chips: [freshChip(0xf8), freshChip(0xde)], output: false }
}

function copyChip(c: RefPicChip): Chip {
  return {
    irr: [...c.irr],
    imr: [...c.imr],
    isr: [...c.isr],
    elcr: [...c.elcr],
    lastIrr: [...c.lastIrr],
    elcrMask: [...c.elcrMask],
    priorityAdd: c.priorityAdd,
    irqBase: c.irqBase,
    readRegSelect: c.readRegSelect,
    poll: c.poll,
    specialMask: c.specialMask,
    initState: c.initState,
    init4: c.init4,
    autoEoi: c.autoEoi,
    rotateOnAutoEoi: c.rotateOnAutoEoi,
    specialFullyNestedMode: c.specialFullyNestedMode,
  }
}

/** 8-bit register value of a chip register (bit i = element i). */
export function reg8(r: readonly boolean[]): number {
  return valueOf(r)
}

// ----------------------------------------------------------------------------- the rules

/** `pic_set_irq1`: level pins follow the line; edge pins latch a 0→1 transition. */
function setIrq1(c: Chip, irq: number, level: boolean): void {
  if (c.elcr[irq] === true) {
    if (level) {
      c.irr[irq] = true
      c.lastIrr[irq] = true
    } else {
      c.irr[irq] = false
      c.lastIrr[irq] = false
    }
  } else {
    if (level) {
      if (c.lastIrr[irq] !== true) c.irr[irq] = true
      c.lastIrr[irq] = true
    } else {
      c.lastIrr[irq] = false
    }
  }
}

/** `get_priority`: the rank (0 = highest) of the best pin in `set`, 8 if none; pin of rank r is (r + priorityAdd) mod 8. */
function getPriority(c: Chip, set: readonly boolean[]): number {
  for (let rank = 0; rank < 8; rank++) {
    const pin = (rank + c.priorityAdd) % 8
    if (set[pin] === true) return rank
  }
  return 8
}

/** `pic_get_irq`: the pin this chip wants to raise, or -1. */
function getIrq(p: Pair, which: number): number {
  const c = at(p.chips, which)
  const requested: boolean[] = []
  for (let i = 0; i < 8; i++) requested.push(c.irr[i] === true && c.imr[i] !== true)
  const rank = getPriority(c, requested)
  if (rank === 8) return -1
  const inService = [...c.isr]
  if (c.specialFullyNestedMode && which === 0) inService[2] = false
  const current = getPriority(c, inService)
  if (rank < current) return (rank + c.priorityAdd) % 8
  return -1
}

/** `pic_update_irq`: a slave request pulses master IRQ2; the master's request drives the output. */
function updateIrq(p: Pair): void {
  const irq2 = getIrq(p, 1)
  if (irq2 >= 0) {
    const m = at(p.chips, 0)
    setIrq1(m, 2, true)
    setIrq1(m, 2, false)
  }
  const irq = getIrq(p, 0)
  p.output = irq >= 0
}

/** `pic_clear_isr` (the ack notifier is reported in `notes.acked`). */
function clearIsr(p: Pair, which: number, irq: number, notes: RefPicNotes): void {
  at(p.chips, which).isr[irq] = false
  notes.acked.push(which === 0 ? irq : irq + 8)
}

/** `pic_intack`: ISR set; edge IRR cleared (level IRR kept); auto-EOI clears ISR again (rotating if asked). */
function intack(p: Pair, which: number, irq: number, notes: RefPicNotes): void {
  const c = at(p.chips, which)
  c.isr[irq] = true
  if (c.elcr[irq] !== true) c.irr[irq] = false
  if (c.autoEoi) {
    notes.autoEoi = true
    if (c.rotateOnAutoEoi) {
      c.priorityAdd = (irq + 1) % 8
      notes.rotation = true
    }
    clearIsr(p, which, irq, notes)
  }
}

/** `kvm_pic_read_irq`: INTA. Output drops first, then the vector is chosen; spurious IRQ7 / IRQ15 if nothing is wanted. */
function readIrq(p: Pair, notes: RefPicNotes): number {
  p.output = false
  const master = at(p.chips, 0)
  const slave = at(p.chips, 1)
  let intno: number
  const irq = getIrq(p, 0)
  if (irq >= 0) {
    intack(p, 0, irq, notes)
    if (irq === 2) {
      let irq2 = getIrq(p, 1)
      if (irq2 >= 0) {
        intack(p, 1, irq2, notes)
        notes.cascade = true
      } else {
        irq2 = 7
        notes.spurious15 = true
      }
      intno = slave.irqBase + irq2
    } else {
      intno = master.irqBase + irq
    }
  } else {
    notes.spurious7 = true
    intno = master.irqBase + 7
  }
  updateIrq(p)
  return intno % 256
}

/** `kvm_pic_reset` as called by ICW1. */
function icw1Reset(p: Pair, which: number, opts: RefPicOptions, notes: RefPicNotes): void {
  const c = at(p.chips, which)
  const edgeIrr: boolean[] = []
  for (let i = 0; i < 8; i++) edgeIrr.push(c.irr[i] === true && c.elcr[i] !== true)
  c.lastIrr = filled(8, false)
  for (let i = 0; i < 8; i++) c.irr[i] = c.irr[i] === true && c.elcr[i] === true
  c.imr = filled(8, false)
  c.priorityAdd = 0
  c.specialMask = false
  c.readRegSelect = false
  if (!c.init4) {
    c.specialFullyNestedMode = false
    c.autoEoi = false
  }
  c.initState = 1
  if (opts.picIntrAccepted === false) return
  for (let i = 0; i < 8; i++) if (edgeIrr[i] === true) clearIsr(p, which, i, notes)
}

/** `pic_ioport_write`. */
function ioportWrite(p: Pair, which: number, dataPort: boolean, value: number, opts: RefPicOptions, notes: RefPicNotes): void {
  const c = at(p.chips, which)
  const v = bitsOf(value, 8)
  if (!dataPort) {
    if (v[4] === true) {
      // ICW1
      notes.icw1 = true
      c.init4 = v[0] === true
      icw1Reset(p, which, opts, notes)
    } else if (v[3] === true) {
      // OCW3
      if (v[2] === true) {
        c.poll = true
      }
      if (v[1] === true) c.readRegSelect = v[0] === true
      if (v[6] === true) c.specialMask = v[5] === true
    } else {
      // OCW2: cmd = bits 7..5
      const cmd = (v[7] ? 4 : 0) + (v[6] ? 2 : 0) + (v[5] ? 1 : 0)
      const level = (v[2] ? 4 : 0) + (v[1] ? 2 : 0) + (v[0] ? 1 : 0)
      if (cmd === 0 || cmd === 4) {
        c.rotateOnAutoEoi = cmd === 4
      } else if (cmd === 1 || cmd === 5) {
        notes.nonSpecificEoi = true
        const rank = getPriority(c, c.isr)
        if (rank !== 8) {
          const irq = (rank + c.priorityAdd) % 8
          if (cmd === 5) {
            c.priorityAdd = (irq + 1) % 8
            notes.rotation = true
          }
          clearIsr(p, which, irq, notes)
          updateIrq(p)
        }
      } else if (cmd === 3) {
        notes.specificEoi = true
        clearIsr(p, which, level, notes)
        updateIrq(p)
      } else if (cmd === 6) {
        notes.rotation = true
        c.priorityAdd = (level + 1) % 8
        updateIrq(p)
      } else if (cmd === 7) {
        notes.specificEoi = true
        notes.rotation = true
        c.priorityAdd = (level + 1) % 8
        clearIsr(p, which, level, notes)
        updateIrq(p)
      }
      // cmd 2: no operation
    }
  } else {
    if (c.initState === 0) {
      c.imr = v
      updateIrq(p)
    } else if (c.initState === 1) {
      // ICW2: vector base, low 3 bits dropped
      c.irqBase = value - (value % 8)
      c.initState = 2
    } else if (c.initState === 2) {
      // ICW3: ignored
      c.initState = c.init4 ? 3 : 0
    } else {
      // ICW4
      notes.icw4 = true
      c.specialFullyNestedMode = v[4] === true
      c.autoEoi = v[1] === true
      c.initState = 0
    }
  }
}

/** `pic_poll_read`: the poll command acknowledges the best request like INTA but returns the pin number. */
function pollRead(p: Pair, which: number, notes: RefPicNotes): number {
  notes.poll = true
  const c = at(p.chips, which)
  const ret = getIrq(p, which)
  if (ret >= 0) {
    if (which === 1) {
      const m = at(p.chips, 0)
      m.isr[2] = false
      m.irr[2] = false
    }
    c.irr[ret] = false
    clearIsr(p, which, ret, notes)
    if (which === 1 || ret !== 2) updateIrq(p)
    return ret
  }
  updateIrq(p)
  return 7
}

/** `pic_ioport_read`. */
function ioportRead(p: Pair, which: number, dataPort: boolean, notes: RefPicNotes): number {
  const c = at(p.chips, which)
  if (c.poll) {
    const r = pollRead(p, which, notes)
    c.poll = false
    return r
  }
  if (!dataPort) return valueOf(c.readRegSelect ? c.isr : c.irr)
  return valueOf(c.imr)
}

/** One device event. */
export function refPicStep(s: RefPic, e: RefPicEvent, opts: RefPicOptions = {}): RefPicStep {
  const p: Pair = { chips: s.chips.map(copyChip), output: s.output }
  const notes: RefPicNotes = { acked: [] }
  switch (e._tag) {
    case 'PicLineSet': {
      // `kvm_pic_set_irq`: irq 0..7 master, 8..15 slave
      const which = e.irq < 8 ? 0 : 1
      const pin = e.irq % 8
      const c = at(p.chips, which)
      if (e.level === 1) {
        if (c.elcr[pin] === true) notes.levelRaised = true
        else notes.edgeRaised = true
      }
      setIrq1(c, pin, e.level === 1)
      updateIrq(p)
      break
    }
    case 'PicPortWritten': {
      const value = e.value % 256
      if (e.port === 0x4d0 || e.port === 0x4d1) {
        // `elcr_ioport_write`
        const c = at(p.chips, e.port === 0x4d0 ? 0 : 1)
        const v = bitsOf(value, 8)
        for (let i = 0; i < 8; i++) c.elcr[i] = v[i] === true && c.elcrMask[i] === true
      } else {
        const which = e.port === 0x20 || e.port === 0x21 ? 0 : 1
        const dataPort = e.port === 0x21 || e.port === 0xa1
        ioportWrite(p, which, dataPort, value, opts, notes)
      }
      break
    }
    case 'PicPortRead': {
      if (e.port === 0x4d0 || e.port === 0x4d1) {
        notes.read = valueOf(at(p.chips, e.port === 0x4d0 ? 0 : 1).elcr)
      } else {
        const which = e.port === 0x20 || e.port === 0x21 ? 0 : 1
        const dataPort = e.port === 0x21 || e.port === 0xa1
        notes.read = ioportRead(p, which, dataPort, notes)
      }
      break
    }
    case 'PicAcknowledged': {
      notes.vector = readIrq(p, notes)
      break
    }
  }
  return { state: { chips: p.chips, output: p.output }, notes }
}
