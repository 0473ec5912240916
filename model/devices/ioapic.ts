/**
 * KVM's in-kernel IOAPIC (82093AA emulation, arch/x86/kvm/ioapic.c, torvalds/linux
 * ≈ v6.18): 24 pins, each with a 64-bit redirection entry, a shared IRR, and a
 * remote IRR per level-triggered entry.
 *
 * KVM services a pin synchronously inside `ioapic_set_irq`; this model splits
 * the decision from the delivery so the delivery interleaves with everything
 * else, as the System's internal `IoapicPinServiced` event:
 *  - level pin: pending exactly while IRR ∧ ¬mask ∧ ¬remoteIRR. That is when
 *    KVM services it: on assert (`ioapic_set_irq` → `ioapic_service`), on
 *    unmask (`ioapic_write_indirect`), after EOI (`__kvm_ioapic_update_eoi`).
 *  - edge pin: a 0→1 change of IRR while unmasked makes one delivery pending
 *    (`ioapic_set_irq`: `old_irr == irr` is coalesced; `ioapic_service` returns
 *    -1, and the edge is lost, while masked). The message is built from the
 *    entry as it is at service; a pending edge is not cancelled by masking but
 *    waits for unmask, since KVM delivers it before any later write can run.
 *  - service builds {vector, delivery mode, dest mode, dest id, trigger, level 1}
 *    and sets remote IRR for a level entry (`ioapic_service`: KVM sets it only if
 *    some LAPIC accepted; this model assumes a configured destination exists).
 *  - EOI for a vector (`__kvm_ioapic_update_eoi`, trigger level, no directed EOI):
 *    every pin with that vector runs its ack notifiers; a level entry's remote IRR
 *    is cleared and, if IRR is still set and unmasked, the pin is pending again.
 *  - entry write (`ioapic_write_indirect`): one 32-bit half; remote IRR (bit 14)
 *    and delivery status (bit 12) are read-only; an edge entry clears remote IRR.
 *  - polarity (bit 13) is stored only: KVM's callers pass the asserted level.
 * Not modelled: RTC (GSI 8) EOI tracking, the 10,000-EOI storm delay
 * (`IOAPIC_SUCCESSIVE_IRQ_MAX_COUNT`), IOREGSEL/ID/version registers, mask notifiers.
 */
import type { Hashed } from '../core/hash.js'
import { recordType } from '../core/Record.js'
import { Table } from '../core/Table.js'
import type { DeliveryMode, IoapicEvent } from './events.js'
import type { LapicMessage } from './message.js'

export const IOAPIC_PINS = 24

interface RedirFields {
  /** Bits 0..31 as the guest wrote them, with bits 12 and 14 maintained by the device. */
  readonly low: number
  /** Bits 32..63 (destination in 63:56). */
  readonly high: number
  readonly vector: number
  readonly trigger: 'edge' | 'level'
  readonly masked: boolean
  readonly remoteIrr: boolean
}
export type RedirEntry = RedirFields & Hashed
const RedirR = recordType<RedirFields>('IoapicEntry', ['low', 'high', 'vector', 'trigger', 'masked', 'remoteIrr'])

const entryOf = (low: number, high: number): RedirEntry =>
  RedirR.make({
    low: low >>> 0,
    high: high >>> 0,
    vector: low & 0xff,
    trigger: (low >>> 15) & 1 ? 'level' : 'edge',
    masked: ((low >>> 16) & 1) === 1,
    remoteIrr: ((low >>> 14) & 1) === 1,
  })

interface IoapicFields {
  readonly pins: Table<RedirEntry>
  /** Bit per pin: the asserted input level (`ioapic->irr`). */
  readonly irr: number
  /** Bit per pin: an edge delivery decided at a rising edge and not yet serviced. */
  readonly edgePending: number
}
export type IoapicState = IoapicFields & Hashed
const IoapicR = recordType<IoapicFields>('Ioapic', ['pins', 'irr', 'edgePending'])

/** `kvm_ioapic_reset`: every entry masked, IRR clear. */
export const initialIoapic = (): IoapicState =>
  IoapicR.make({ pins: Table.fill(IOAPIC_PINS, () => entryOf(1 << 16, 0)), irr: 0, edgePending: 0 })

/** Delivery-mode field (bits 10:8); KVM passes the raw code on (`delivery_mode << 8`); 3 (remote read) has no mode. */
const MODES: ReadonlyArray<DeliveryMode | undefined> = ['Fixed', 'LowestPriority', 'SMI', undefined, 'NMI', 'INIT', 'StartUp', 'ExtINT']

/** Decoded fields of an entry, for the CLI, traces and tests. */
export const ioapicEntryFields = (e: RedirEntry) => ({
  vector: e.vector,
  deliveryMode: MODES[(e.low >>> 8) & 7],
  destMode: ((e.low >>> 11) & 1 ? 'logical' : 'physical') as 'physical' | 'logical',
  deliveryStatus: ((e.low >>> 12) & 1) === 1,
  polarity: ((e.low >>> 13) & 1 ? 'activeLow' : 'activeHigh') as 'activeHigh' | 'activeLow',
  remoteIrr: e.remoteIrr,
  trigger: e.trigger,
  masked: e.masked,
  dest: (e.high >>> 24) & 0xff,
})

const bit = (m: number, i: number): boolean => ((m >>> i) & 1) === 1
const validPin = (pin: number): boolean => Number.isInteger(pin) && pin >= 0 && pin < IOAPIC_PINS

const serviceable = (s: IoapicState, pin: number): boolean => {
  const e = Table.get(s.pins, pin)
  if (e.masked) return false
  return e.trigger === 'level' ? bit(s.irr, pin) && !e.remoteIrr : bit(s.edgePending, pin)
}

/** Pins an `IoapicPinServiced` would turn into a LAPIC message now, ascending. */
export const ioapicServiceable = (s: IoapicState): number[] => {
  const out: number[] = []
  if (s.irr === 0 && s.edgePending === 0) return out
  for (let pin = 0; pin < IOAPIC_PINS; pin++) if (serviceable(s, pin)) out.push(pin)
  return out
}

/**
 * `kvm_ioapic_set_irq` with the ORed line level. `coalesced` is the IOAPIC's own
 * verdict (`ret == 0` in `ioapic_set_irq`): an edge re-asserted while IRR is set.
 */
export const ioapicSetLine = (s: IoapicState, pin: number, level: 0 | 1): { readonly state: IoapicState; readonly coalesced: boolean } => {
  if (!validPin(pin)) return { state: s, coalesced: false }
  const mask = 1 << pin
  if (level === 0) return { state: IoapicR.set(s, 'irr', (s.irr & ~mask) >>> 0), coalesced: false }
  const e = Table.get(s.pins, pin)
  const old = bit(s.irr, pin)
  const irr = (s.irr | mask) >>> 0
  if (e.trigger === 'edge') {
    if (old) return { state: s, coalesced: true }
    const edgePending = e.masked ? s.edgePending : (s.edgePending | mask) >>> 0
    return { state: IoapicR.update(s, { irr, edgePending }), coalesced: false }
  }
  return { state: IoapicR.set(s, 'irr', irr), coalesced: false }
}

/** `ioapic_service`: the message for a serviceable pin; a level entry's remote IRR is set. */
export const ioapicService = (s: IoapicState, pin: number): { readonly state: IoapicState; readonly message: LapicMessage | undefined } => {
  if (!validPin(pin) || !serviceable(s, pin)) return { state: s, message: undefined }
  const e = Table.get(s.pins, pin)
  const f = ioapicEntryFields(e)
  if (f.deliveryMode === undefined) return { state: s, message: undefined }
  const message: LapicMessage = {
    vector: f.vector, deliveryMode: f.deliveryMode, destMode: f.destMode, dest: f.dest, trigger: f.trigger, level: 1, shorthand: 'none',
  }
  if (e.trigger === 'level') {
    const ne = RedirR.update(e, { low: (e.low | (1 << 14)) >>> 0, remoteIrr: true })
    return { state: IoapicR.set(s, 'pins', Table.set(s.pins, pin, ne)), message }
  }
  return { state: IoapicR.set(s, 'edgePending', (s.edgePending & ~(1 << pin)) >>> 0), message }
}

/**
 * `__kvm_ioapic_update_eoi` for a level-triggered EOI of `vector`: `acked` are the pins
 * whose ack notifiers run (every pin with that vector), `reserviced` the level pins that
 * are pending again because their line is still high.
 */
export const ioapicEoi = (s: IoapicState, vector: number): {
  readonly state: IoapicState; readonly acked: ReadonlyArray<number>; readonly reserviced: ReadonlyArray<number>
} => {
  const acked: number[] = []
  const reserviced: number[] = []
  let pins = s.pins
  for (let pin = 0; pin < IOAPIC_PINS; pin++) {
    const e = Table.get(pins, pin)
    if (e.vector !== vector) continue
    acked.push(pin)
    if (e.trigger !== 'level') continue
    if (e.remoteIrr) pins = Table.set(pins, pin, RedirR.update(e, { low: (e.low & ~(1 << 14)) >>> 0, remoteIrr: false }))
    if (!e.masked && bit(s.irr, pin)) reserviced.push(pin)
  }
  return { state: IoapicR.set(s, 'pins', pins), acked, reserviced }
}

/** `ioapic_write_indirect` for a redirection-entry half. */
export const ioapicWriteEntry = (s: IoapicState, pin: number, half: 'low' | 'high', value: number): IoapicState => {
  if (!validPin(pin)) return s
  const e = Table.get(s.pins, pin)
  const keep = e.low & ((1 << 12) | (1 << 14))
  let low = half === 'low' ? ((value & ~((1 << 12) | (1 << 14))) | keep) >>> 0 : e.low
  const high = half === 'high' ? value >>> 0 : e.high
  if (!((low >>> 15) & 1)) low = (low & ~(1 << 14)) >>> 0 // an edge entry clears remote IRR
  if (low === e.low && high === e.high) return s
  return IoapicR.set(s, 'pins', Table.set(s.pins, pin, entryOf(low, high)))
}

/** The device reducer, total over `IoapicEvent`. */
export const reduceIoapic = (s: IoapicState, e: IoapicEvent): IoapicState => {
  switch (e._tag) {
    case 'IoapicLineSet':
      return ioapicSetLine(s, e.pin, e.level).state
    case 'IoapicEntryWritten':
      return ioapicWriteEntry(s, e.pin, e.half, e.value)
    case 'IoapicPinServiced':
      return ioapicService(s, e.pin).state
    case 'IoapicEoiReceived':
      return ioapicEoi(s, e.vector).state
  }
}
