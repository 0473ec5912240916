/**
 * NAIVE reference model of KVM's in-kernel IOAPIC (82093AA), written from
 * arch/x86/kvm/ioapic.c (torvalds/linux) independently of model/devices/ioapic.ts.
 * 24 pins; every redirection entry is kept as the raw 64 bits (two boolean[32]
 * halves) exactly as the guest wrote them, and fields are read out of those bits.
 * It imports nothing from model/.
 *
 * Rules (kernel function in brackets):
 *  - reset: every entry masked, everything else zero [kvm_ioapic_reset].
 *  - line low: IRR bit cleared [ioapic_set_irq].
 *  - line high: IRR bit set. Edge entries: only a 0→1 change of IRR attempts a
 *    delivery (a re-assert while IRR is set is coalesced); level entries attempt one
 *    on every assert [ioapic_set_irq → ioapic_service].
 *  - an attempt fails if the entry is masked, or is level-triggered with remote IRR
 *    set [ioapic_service]. A failed edge attempt is lost (KVM does not retry an edge
 *    on unmask); level entries are retried on unmask [ioapic_write_indirect] and on
 *    EOI [__kvm_ioapic_update_eoi]. So a level pin is pending exactly while
 *    IRR ∧ ¬mask ∧ ¬remoteIRR.
 *  - this model defers the delivery to an explicit `IoapicPinServiced` event (the
 *    System's internal event). An edge delivery decided at the rising edge stays
 *    pending until it is serviced (KVM delivers it under the IOAPIC lock at once, so
 *    later writes cannot cancel it); the message uses the entry as it is at service.
 *  - service: message {vector, delivery mode, dest mode, dest id, trigger, level 1,
 *    no shorthand}; a level entry sets remote IRR [ioapic_service; remote IRR is set
 *    when kvm_irq_delivery_to_apic returns non-zero — this device model assumes it
 *    does].
 *  - entry write: one 32-bit half replaced; remote IRR (bit 14) and delivery status
 *    (bit 12) are read-only and keep their old values; an edge-triggered result clears
 *    remote IRR [ioapic_write_indirect].
 *  - EOI for vector v (trigger level, no directed EOI): every pin whose entry has
 *    vector v is acked (ack notifiers); remote IRR cleared; if unmasked and IRR set it
 *    is delivered again [__kvm_ioapic_update_eoi].
 *  - polarity (bit 13) is stored only: KVM receives the asserted/deasserted level of
 *    the pin, it does not invert the line.
 *  - not modelled: RTC (GSI 8) coalescing, the 10000-EOI storm delay, IOREGSEL,
 *    ID/version registers.
 */
import { at, bitsOf, filled, valueOf } from './bits.js'

export const REF_IOAPIC_PINS = 24

// ----------------------------------------------------------------------------- events (own copies)
export type RefDeliveryMode = 'Fixed' | 'LowestPriority' | 'SMI' | 'NMI' | 'INIT' | 'StartUp' | 'ExtINT'

export type RefIoapicEvent =
  | { readonly _tag: 'IoapicLineSet'; readonly pin: number; readonly level: 0 | 1 }
  | { readonly _tag: 'IoapicEntryWritten'; readonly pin: number; readonly half: 'low' | 'high'; readonly value: number }
  | { readonly _tag: 'IoapicPinServiced'; readonly pin: number }
  | { readonly _tag: 'IoapicEoiReceived'; readonly vector: number }

export interface RefMessage {
  readonly vector: number
  readonly deliveryMode: RefDeliveryMode
  readonly destMode: 'physical' | 'logical'
  readonly dest: number
  readonly trigger: 'edge' | 'level'
  readonly level: 0 | 1
  readonly shorthand: 'none' | 'self' | 'all' | 'allButSelf'
}

// ----------------------------------------------------------------------------- state
export interface RefIoapicEntry {
  /** bits 0..31 as written (bit 12 and 14 maintained by the device) */
  readonly low: readonly boolean[]
  /** bits 32..63 as written */
  readonly high: readonly boolean[]
}

export interface RefIoapic {
  readonly entries: readonly RefIoapicEntry[]
  readonly irr: readonly boolean[]
  /** an edge delivery decided at a rising edge and not yet serviced */
  readonly edgePending: readonly boolean[]
}

export interface RefIoapicNotes {
  message?: RefMessage
  /** pins acked by an EOI (vector match), ascending */
  acked: number[]
  /** pins whose remote IRR an EOI cleared, ascending */
  remoteIrrCleared: number[]
  edgeServiced?: boolean
  levelServiced?: boolean
  coalesced?: boolean
}

export interface RefIoapicStep {
  readonly state: RefIoapic
  readonly notes: RefIoapicNotes
}

/** Decoded view of an entry. */
export interface RefIoapicFields {
  readonly vector: number
  readonly deliveryMode: RefDeliveryMode | 'reserved'
  readonly destMode: 'physical' | 'logical'
  readonly deliveryStatus: boolean
  readonly polarity: 'activeHigh' | 'activeLow'
  readonly remoteIrr: boolean
  readonly trigger: 'edge' | 'level'
  readonly masked: boolean
  readonly dest: number
}

/**
 * Delivery-mode field (bits 10:8). KVM forwards the raw code as the APIC delivery mode
 * (`ioapic_service`: `delivery_mode << 8`), so 6 becomes a StartUp message although the
 * 82093AA calls it reserved; 3 (APIC_DM_REMRD) has no DeliveryMode in the event vocabulary.
 */
const MODES: readonly (RefDeliveryMode | 'reserved')[] = ['Fixed', 'LowestPriority', 'SMI', 'reserved', 'NMI', 'INIT', 'StartUp', 'ExtINT']

export function refIoapicInitial(): RefIoapic {
  const entries: RefIoapicEntry[] = []
  for (let i = 0; i < REF_IOAPIC_PINS; i++) {
    const low = filled(32, false)
    low[16] = true // masked
    entries.push({ low, high: filled(32, false) })
  }
  return { entries, irr: filled(REF_IOAPIC_PINS, false), edgePending: filled(REF_IOAPIC_PINS, false) }
}

export function refIoapicFields(e: RefIoapicEntry): RefIoapicFields {
  const l = e.low
  return {
    vector: valueOf(l.slice(0, 8)),
    deliveryMode: at(MODES, valueOf(l.slice(8, 11))),
    destMode: l[11] === true ? 'logical' : 'physical',
    deliveryStatus: l[12] === true,
    polarity: l[13] === true ? 'activeLow' : 'activeHigh',
    remoteIrr: l[14] === true,
    trigger: l[15] === true ? 'level' : 'edge',
    masked: l[16] === true,
    dest: valueOf(e.high.slice(24, 32)),
  }
}

export function refIoapicEntryWords(e: RefIoapicEntry): { low: number; high: number } {
  return { low: valueOf(e.low), high: valueOf(e.high) }
}

/** Pins that an `IoapicPinServiced` would turn into a message now, ascending. */
export function refIoapicServiceable(s: RefIoapic): number[] {
  const out: number[] = []
  for (let pin = 0; pin < REF_IOAPIC_PINS; pin++) if (serviceable(s, pin)) out.push(pin)
  return out
}

function serviceable(s: RefIoapic, pin: number): boolean {
  const f = refIoapicFields(at(s.entries, pin))
  if (f.masked) return false
  if (f.trigger === 'level') return s.irr[pin] === true && !f.remoteIrr
  return s.edgePending[pin] === true
}

interface Work {
  entries: { low: boolean[]; high: boolean[] }[]
  irr: boolean[]
  edgePending: boolean[]
}

function copy(s: RefIoapic): Work {
  return {
    entries: s.entries.map((e) => ({ low: [...e.low], high: [...e.high] })),
    irr: [...s.irr],
    edgePending: [...s.edgePending],
  }
}

function freeze(w: Work): RefIoapic {
  return { entries: w.entries, irr: w.irr, edgePending: w.edgePending }
}

export function refIoapicStep(s: RefIoapic, e: RefIoapicEvent): RefIoapicStep {
  const w = copy(s)
  const notes: RefIoapicNotes = { acked: [], remoteIrrCleared: [] }
  switch (e._tag) {
    case 'IoapicLineSet': {
      if (e.pin < 0 || e.pin >= REF_IOAPIC_PINS) break
      if (e.level === 0) {
        w.irr[e.pin] = false
        break
      }
      const f = refIoapicFields(at(w.entries, e.pin))
      const old = w.irr[e.pin] === true
      w.irr[e.pin] = true
      if (f.trigger === 'edge') {
        if (old) {
          notes.coalesced = true
          break
        }
        // delivery attempt at the rising edge: fails (is lost) if masked
        if (!f.masked) w.edgePending[e.pin] = true
      }
      // level: pending is the state predicate IRR ∧ ¬mask ∧ ¬remoteIRR
      break
    }
    case 'IoapicEntryWritten': {
      if (e.pin < 0 || e.pin >= REF_IOAPIC_PINS) break
      const ent = at(w.entries, e.pin)
      const oldRemote = ent.low[14] === true
      const oldStatus = ent.low[12] === true
      if (e.half === 'low') ent.low = bitsOf(e.value, 32)
      else ent.high = bitsOf(e.value, 32)
      ent.low[14] = oldRemote
      ent.low[12] = oldStatus
      if (ent.low[15] !== true) ent.low[14] = false
      break
    }
    case 'IoapicPinServiced': {
      if (e.pin < 0 || e.pin >= REF_IOAPIC_PINS) break
      if (!serviceable(freeze(w), e.pin)) break
      const ent = at(w.entries, e.pin)
      const f = refIoapicFields(ent)
      if (f.deliveryMode === 'reserved') break
      notes.message = {
        vector: f.vector,
        deliveryMode: f.deliveryMode,
        destMode: f.destMode,
        dest: f.dest,
        trigger: f.trigger,
        level: 1,
        shorthand: 'none',
      }
      if (f.trigger === 'level') {
        ent.low[14] = true
        notes.levelServiced = true
      } else {
        w.edgePending[e.pin] = false
        notes.edgeServiced = true
      }
      break
    }
    case 'IoapicEoiReceived': {
      for (let pin = 0; pin < REF_IOAPIC_PINS; pin++) {
        const ent = at(w.entries, pin)
        const f = refIoapicFields(ent)
        if (f.vector !== e.vector) continue
        notes.acked.push(pin)
        if (f.trigger !== 'level') continue
        if (ent.low[14] === true) notes.remoteIrrCleared.push(pin)
        ent.low[14] = false
        // re-delivery when unmasked and IRR set: covered by the pending predicate
      }
      break
    }
  }
  return { state: freeze(w), notes }
}
