/**
 * The x86 interrupt substrate for N vCPUs: KVM's in-kernel irqchip (8259
 * pair, IOAPIC, one LAPIC per vCPU), MSI, IPIs, irqfd with resamplefd, and
 * the vCPU run loop, composed as one pure reducer.
 *
 * `makeSystem(config)` returns the model: `initial`, `enabled(s)` (every
 * event some actor can take next, in a canonical order: environment, then
 * internal follow-up work, then per vCPU the kernel and then the guest) and
 * `reduce(s, e)` (total on every event: an event that is not enabled where
 * it is applied leaves the state unchanged, returning the same object).
 *
 * Follow-up work is state, not a call stack: an IOAPIC pin with a pending
 * request is `ioapicServiceable`, an EOI that must reach the IOAPIC sits in
 * `pendingEoi`; `enabled` offers both as internal events, so they interleave
 * with every other actor as they do in the kernel, where they run on other
 * threads' time or after dropping locks (spec §5.1 atomicity notes).
 *
 * The guest is a well-behaved OS, bounded by budgets: an idle loop (`sti;
 * hlt`), optional CLI/STI sections and IPIs, and an interrupt handler that
 * acknowledges its device, EOIs the interrupt controller it came from, and
 * IRETs. Arbitrary register writes are still accepted by `reduce` (trace
 * replay and tests use them); the checker's guest just does not invent them.
 */
import type { Hashed } from './core/hash.js'
import { recordType } from './core/Record.js'
import { Table } from './core/Table.js'
import { VectorSet } from './core/VectorSet.js'
import type { Event } from './Event.js'
import { VcpuId } from './ids.js'
import { VcpuR, initialVcpu, interruptAllowed, type VcpuState } from './Vcpu.js'
import type { PicPort } from './devices/events.js'
import type { LapicMessage } from './devices/message.js'
import { initialPic, picAck, picOutput, picWrite, reducePic, type PicState } from './devices/pic.js'
import {
  initialIoapic, ioapicEoi, ioapicService, ioapicServiceable, ioapicSetLine, reduceIoapic, type IoapicState,
} from './devices/ioapic.js'
import {
  initialLapic, lapicAccept, lapicAcceptPicIntr, lapicAck, lapicEoi, lapicHasInterrupt, lapicPpr, reduceLapic,
  decodeIcr, lapicNmiTaken, type LapicState,
} from './devices/lapic.js'
import { deliverToApics, destinations } from './delivery/destination.js'
import { decodeMsi } from './devices/msi.js'

// ------------------------------------------------------------------ configuration

/** A device behind a GSI, driving its line through `kvm_set_irq` with irq source id `sourceId`. */
export interface SourceConfig {
  readonly gsi: number
  /** irq_source_id (0 = KVM_USERSPACE_IRQ_SOURCE_ID, what KVM_IRQ_LINE uses). */
  readonly sourceId: number
  /** edge: the VMM pulses the line (1 then 0); level: the line stays high until the guest acks the device. */
  readonly trigger: 'edge' | 'level'
  /** How many interrupts the device raises in a run. */
  readonly budget: number
}
export interface MsiConfig { readonly address: number; readonly data: number; readonly budget: number }
export interface IrqfdConfig {
  readonly gsi: number
  /** KVM_IRQFD_FLAG_RESAMPLE: level-triggered via the resampler's irq source id. */
  readonly resample: boolean
  /** How many times the device behind it needs service in a run. */
  readonly budget: number
}
export interface IpiConfig { readonly low: number; readonly high: number }
export interface IoapicPinSetup { readonly pin: number; readonly low: number; readonly high: number }

export interface SystemConfig {
  readonly vcpus: number
  readonly sources: ReadonlyArray<SourceConfig>
  readonly msis: ReadonlyArray<MsiConfig>
  readonly irqfds: ReadonlyArray<IrqfdConfig>
  /** Per vCPU: the ICR this guest writes when it sends an IPI (undefined: it sends none). */
  readonly ipis: ReadonlyArray<IpiConfig | undefined>
  readonly ipiBudget: number
  readonly cliBudget: number
  /** Guest set-up applied before the run (as the guest's firmware/OS would): */
  readonly setup: {
    /** PIC port writes (ICW1-4, OCW1, ELCR), in order. */
    readonly pic: ReadonlyArray<{ readonly port: PicPort; readonly value: number }>
    readonly ioapic: ReadonlyArray<IoapicPinSetup>
    /** Per-vCPU LAPIC register writes (SVR, LVT0, TPR, LDR, DFR), in order. */
    readonly lapic: ReadonlyArray<ReadonlyArray<{ readonly reg: 'ID' | 'TPR' | 'LDR' | 'DFR' | 'SVR' | 'LVT0'; readonly value: number }>>
    readonly x2apic?: boolean
  }
}

/** KVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID (include/linux/kvm_host.h). */
export const RESAMPLE_SOURCE_ID = 1
/** KVM_USERSPACE_IRQ_SOURCE_ID (include/linux/kvm_host.h). */
export const USERSPACE_SOURCE_ID = 0

// ------------------------------------------------------------------ state

type GhostFields = {
  /** Some PIC INTA returned a spurious IRQ 7/15. */
  readonly spurious: boolean
  /** Some ISR held two vectors at once (a nested, higher-priority interrupt). */
  readonly nested: boolean
  /** An EOI found its level line still asserted and the IOAPIC delivered it again. */
  readonly redelivered: boolean
  /** An edge interrupt arrived while the same vector was already pending (coalesced). */
  readonly coalesced: boolean
}
export type Ghost = GhostFields & Hashed
const GhostR = recordType<GhostFields>('Ghost', ['spurious', 'nested', 'redelivered', 'coalesced'])

export interface SystemFields {
  readonly vcpus: Table<VcpuState>
  readonly lapics: Table<LapicState>
  readonly pic: PicState
  readonly ioapic: IoapicState
  /** Per GSI, bitmask of irq source ids asserting it (`kvm_irq_line_state`). */
  readonly lines: Table<number>
  /** Per source: remaining interrupts. */
  readonly budgets: Table<number>
  /** Per source: bit set while its line is asserted. */
  readonly asserted: number
  /** Per source: bit set once the guest acknowledged the device (a level device then drops its line). */
  readonly acked: number
  readonly msiBudgets: Table<number>
  readonly irqfdBudgets: Table<number>
  /** Per irqfd: bit set while the device behind it needs service. */
  readonly irqfdNeed: number
  /** Per irqfd: bit set while its resamplefd has been signalled and not yet read. */
  readonly resamplePending: number
  /** EOIs waiting to be broadcast to the IOAPIC. */
  readonly pendingEoi: VectorSet
  readonly ghost: Ghost
}
export type SystemState = SystemFields & Hashed

export const SystemR = recordType<SystemFields>('System', [
  'vcpus', 'lapics', 'pic', 'ioapic', 'lines', 'budgets', 'asserted', 'acked', 'msiBudgets', 'irqfdBudgets',
  'irqfdNeed', 'resamplePending', 'pendingEoi', 'ghost',
])

// ------------------------------------------------------------------ helpers

const bit = (m: number, i: number): boolean => ((m >>> i) & 1) === 1
const setBit = (m: number, i: number, on: boolean): number => (on ? m | (1 << i) : m & ~(1 << i))
const guestRunning = (v: VcpuState): boolean => v.run === 'inGuest' || v.run === 'exiting'

export interface SystemModel {
  readonly config: SystemConfig
  readonly initial: SystemState
  readonly enabled: (s: SystemState) => ReadonlyArray<Event>
  readonly reduce: (s: SystemState, e: Event) => SystemState
  /** `kvm_cpu_has_injectable_intr` (irq.c), without APICv: ExtINT from the PIC or a LAPIC vector above PPR. */
  readonly hasInjectable: (s: SystemState, v: number) => boolean
}

export const makeSystem = (config: SystemConfig): SystemModel => {
  const n = config.vcpus
  if (!Number.isInteger(n) || n < 1 || n > 8) throw new RangeError(`vcpus ${n} is not in 1..8`)
  if (config.sources.length > 30 || config.irqfds.length > 30) throw new RangeError('at most 30 sources and 30 irqfds')
  const vid = (i: number): VcpuId => VcpuId.make(i)

  // -------------------------------------------------------------- lines and routing (default routing)
  /** `kvm_setup_default_irq_routing` (irq_comm.c): GSI 0-15 → PIC pin and IOAPIC pin; 16-23 → IOAPIC pin. */
  const setGsi = (s: SystemState, gsi: number, sourceId: number, level: 0 | 1): SystemState => {
    const before = Table.get(s.lines, gsi)
    const after = setBit(before, sourceId, level === 1)
    const lines = Table.set(s.lines, gsi, after)
    const lineLevel: 0 | 1 = after !== 0 ? 1 : 0
    let pic = s.pic
    let ioapic = s.ioapic
    let ghost = s.ghost
    if (gsi < 16) pic = reducePic(pic, { _tag: 'PicLineSet', irq: gsi, level: lineLevel })
    if (gsi < 24) {
      const r = ioapicSetLine(ioapic, gsi, lineLevel)
      ioapic = r.state
      if (r.coalesced && lineLevel === 1) ghost = GhostR.set(ghost, 'coalesced', true)
    }
    let next = SystemR.update(s, { lines, pic, ioapic, ghost })
    return picChanged(s, next)
  }

  /** `pic_unlock`/`pic_irq_request`: when the PIC output rises, kick the first vCPU whose LAPIC accepts PIC interrupts. */
  const picChanged = (before: SystemState, s: SystemState): SystemState => {
    if (before.pic === s.pic || !picOutput(s.pic) || picOutput(before.pic)) return s
    for (let i = 0; i < n; i++) if (lapicAcceptPicIntr(Table.get(s.lapics, i))) return kick(s, i)
    return s
  }

  /** `kvm_make_request(KVM_REQ_EVENT)` + `kvm_vcpu_kick`: IN_GUEST_MODE → EXITING_GUEST_MODE. */
  const kick = (s: SystemState, i: number): SystemState => {
    const v = Table.get(s.vcpus, i)
    const nv = VcpuR.update(v, { reqEvent: true, run: v.run === 'inGuest' ? 'exiting' : v.run })
    return nv === v ? s : SystemR.set(s, 'vcpus', Table.set(s.vcpus, i, nv))
  }

  /** `kvm_irq_delivery_to_apic` then `__apic_accept_irq` at each destination; each accepting vCPU is kicked. */
  const deliver = (s: SystemState, source: number | undefined, m: LapicMessage): SystemState => {
    let ghost = s.ghost
    if (m.trigger === 'edge' && (m.deliveryMode === 'Fixed' || m.deliveryMode === 'LowestPriority'))
      for (const d of destinations(s.lapics.items, source, m))
        if (VectorSet.has(Table.get(s.lapics, d).irr, m.vector)) ghost = GhostR.set(ghost, 'coalesced', true)
    const r = deliverToApics(s.lapics, source, m)
    let next = SystemR.update(s, { lapics: r.lapics, ghost })
    for (const d of r.delivered) next = kick(next, d)
    return next
  }

  const hasExtInt = (s: SystemState, i: number): boolean => lapicAcceptPicIntr(Table.get(s.lapics, i)) && picOutput(s.pic)
  const hasInjectable = (s: SystemState, i: number): boolean => hasExtInt(s, i) || lapicHasInterrupt(Table.get(s.lapics, i)) >= 0
  /** `kvm_vcpu_has_events`: an NMI, or an interrupt that is both injectable and allowed. */
  const hasEvents = (s: SystemState, i: number): boolean =>
    Table.get(s.lapics, i).nmiPending || (interruptAllowed(Table.get(s.vcpus, i)) && hasInjectable(s, i))

  /** Which sources a handler for (`source`, vector, irq) services: the devices behind the routed pin. */
  const servedBy = (s: SystemState, v: VcpuState, gsi: number): boolean => {
    if (v.handlerSource === 'pic') return gsi === v.handlerIrq
    if (v.handlerSource === 'lapic' && gsi < 24) {
      const e = Table.get(s.ioapic.pins, gsi)
      return e.vector === v.handler
    }
    return false
  }

  /** Whether the PIC handler on vCPU `v` still has an ISR bit to EOI, and which port to write. */
  const picEoiPort = (s: SystemState, v: VcpuState): PicPort | undefined => {
    if (v.handlerSource !== 'pic') return undefined
    const irq = v.handlerIrq
    if (irq >= 8 && bit(s.pic.slave.isr, irq - 8)) return 0xa0
    if (bit(s.pic.master.isr, irq >= 8 ? 2 : irq)) return 0x20
    return undefined
  }
  const deviceNeedsAck = (s: SystemState, v: VcpuState): boolean => {
    if (v.deviceAcked || v.handler < 0) return false
    for (let k = 0; k < config.sources.length; k++) {
      const src = config.sources[k]!
      if (src.trigger === 'level' && bit(s.asserted, k) && !bit(s.acked, k) && servedBy(s, v, src.gsi)) return true
    }
    for (let f = 0; f < config.irqfds.length; f++)
      if (bit(s.irqfdNeed, f) && servedBy(s, v, config.irqfds[f]!.gsi)) return true
    return false
  }

  const setVcpu = (s: SystemState, i: number, v: VcpuState): SystemState => SystemR.set(s, 'vcpus', Table.set(s.vcpus, i, v))
  const setLapic = (s: SystemState, i: number, l: LapicState): SystemState => SystemR.set(s, 'lapics', Table.set(s.lapics, i, l))

  /** Ack notifiers for a GSI (`kvm_notify_acked_irq`): the irqfd resampler lowers its line and signals resamplefds. */
  const ackNotify = (s: SystemState, gsi: number): SystemState => {
    let next = s
    let signalled = false
    for (let f = 0; f < config.irqfds.length; f++) {
      const fd = config.irqfds[f]!
      if (!fd.resample || fd.gsi !== gsi) continue
      if (!signalled) {
        next = setGsi(next, gsi, RESAMPLE_SOURCE_ID, 0) // irqfd_resampler_ack: kvm_set_irq(resample source, gsi, 0)
        signalled = true
      }
      next = SystemR.set(next, 'resamplePending', setBit(next.resamplePending, f, true))
    }
    return next
  }

  // -------------------------------------------------------------- initial state
  const initial = ((): SystemState => {
    let pic = initialPic()
    for (const w of config.setup.pic) pic = reducePic(pic, { _tag: 'PicPortWritten', port: w.port, value: w.value })
    let ioapic = initialIoapic()
    for (const p of config.setup.ioapic) {
      ioapic = reduceIoapic(ioapic, { _tag: 'IoapicEntryWritten', pin: p.pin, half: 'high', value: p.high })
      ioapic = reduceIoapic(ioapic, { _tag: 'IoapicEntryWritten', pin: p.pin, half: 'low', value: p.low })
    }
    const lapics = Table.fill(n, (i) => {
      let l = initialLapic(i)
      if (config.setup.x2apic) l = reduceLapic(l, { _tag: 'LapicModeSet', x2apic: true })
      for (const w of config.setup.lapic[i] ?? []) l = reduceLapic(l, { _tag: 'LapicRegWritten', reg: w.reg, value: w.value })
      return l
    })
    return SystemR.make({
      vcpus: Table.fill(n, (i) => initialVcpu(config.cliBudget, config.ipis[i] ? config.ipiBudget : 0)),
      lapics,
      pic,
      ioapic,
      lines: Table.fill(24, () => 0),
      budgets: Table.of(config.sources.map((x) => x.budget)),
      asserted: 0,
      acked: 0,
      msiBudgets: Table.of(config.msis.map((x) => x.budget)),
      irqfdBudgets: Table.of(config.irqfds.map((x) => x.budget)),
      irqfdNeed: 0,
      resamplePending: 0,
      pendingEoi: VectorSet.empty,
      ghost: GhostR.make({ spurious: false, nested: false, redelivered: false, coalesced: false }),
    })
  })()

  // -------------------------------------------------------------- enabled
  const enabled = (s: SystemState): Event[] => {
    const out: Event[] = []
    for (let k = 0; k < config.sources.length; k++) {
      const src = config.sources[k]!
      if (!bit(s.asserted, k) && Table.get(s.budgets, k) > 0) out.push({ _tag: 'LineAsserted', source: k })
      if (bit(s.asserted, k) && (src.trigger === 'edge' || bit(s.acked, k))) out.push({ _tag: 'LineDeasserted', source: k })
    }
    for (let m = 0; m < config.msis.length; m++) if (Table.get(s.msiBudgets, m) > 0) out.push({ _tag: 'MsiSignalled', msi: m })
    for (let f = 0; f < config.irqfds.length; f++)
      if (!bit(s.irqfdNeed, f) && Table.get(s.irqfdBudgets, f) > 0) out.push({ _tag: 'IrqfdSignalled', irqfd: f })
    for (let f = 0; f < config.irqfds.length; f++) if (bit(s.resamplePending, f)) out.push({ _tag: 'ResamplefdRead', irqfd: f })
    for (const pin of ioapicServiceable(s.ioapic)) out.push({ _tag: 'IoapicPinServiced', pin })
    for (const vector of VectorSet.toArray(s.pendingEoi)) out.push({ _tag: 'IoapicEoiBroadcast', vector })
    for (let i = 0; i < n; i++) {
      const v = Table.get(s.vcpus, i)
      const vcpu = vid(i)
      if (v.run === 'outside') out.push({ _tag: 'VcpuEntered', vcpu })
      if (v.run === 'exiting' || (v.run === 'inGuest' && v.irqWindow && interruptAllowed(v))) out.push({ _tag: 'VcpuExited', vcpu })
      if (v.run === 'halted' && hasEvents(s, i)) out.push({ _tag: 'VcpuWoken', vcpu })
      if (!guestRunning(v)) continue
      if (v.handler < 0) {
        if (v.ifFlag && v.cliBudget > 0 && !v.shadow) out.push({ _tag: 'GuestIfChanged', vcpu, enabled: false })
        if (!v.ifFlag) out.push({ _tag: 'GuestIfChanged', vcpu, enabled: true })
      }
      if (v.shadow) out.push({ _tag: 'GuestStepped', vcpu })
      if (v.handler < 0 && v.ifFlag) out.push({ _tag: 'GuestHalted', vcpu })
      if (deviceNeedsAck(s, v)) out.push({ _tag: 'GuestDeviceAcked', vcpu })
      if (v.handlerSource === 'lapic' && !v.eoiDone) out.push({ _tag: 'GuestEoiWritten', vcpu })
      const port = picEoiPort(s, v)
      if (port !== undefined) out.push({ _tag: 'GuestPicWritten', vcpu, port, value: 0x20 })
      const ipi = config.ipis[i]
      if (ipi && v.ipiBudget > 0 && v.handler < 0) out.push({ _tag: 'GuestIcrWritten', vcpu, low: ipi.low, high: ipi.high })
      if (v.handler >= 0 && (v.handlerSource !== 'lapic' || v.eoiDone) && port === undefined && !deviceNeedsAck(s, v))
        out.push({ _tag: 'GuestIretExecuted', vcpu })
    }
    return out
  }

  // -------------------------------------------------------------- reduce
  const reduce = (s: SystemState, e: Event): SystemState => {
    switch (e._tag) {
      case 'LineAsserted': {
        const src = config.sources[e.source]
        if (!src || bit(s.asserted, e.source) || Table.get(s.budgets, e.source) <= 0) return s
        const next = SystemR.update(s, {
          asserted: setBit(s.asserted, e.source, true),
          acked: setBit(s.acked, e.source, false),
          budgets: Table.set(s.budgets, e.source, Table.get(s.budgets, e.source) - 1),
        })
        return setGsi(next, src.gsi, src.sourceId, 1)
      }
      case 'LineDeasserted': {
        const src = config.sources[e.source]
        if (!src || !bit(s.asserted, e.source)) return s
        const next = SystemR.set(s, 'asserted', setBit(s.asserted, e.source, false))
        return setGsi(next, src.gsi, src.sourceId, 0)
      }
      case 'MsiSignalled': {
        const m = config.msis[e.msi]
        if (!m || Table.get(s.msiBudgets, e.msi) <= 0) return s
        const msg = decodeMsi(m.address, m.data)
        const next = SystemR.set(s, 'msiBudgets', Table.set(s.msiBudgets, e.msi, Table.get(s.msiBudgets, e.msi) - 1))
        return msg ? deliver(next, undefined, msg) : next
      }
      case 'IrqfdSignalled': {
        const f = config.irqfds[e.irqfd]
        if (!f || bit(s.irqfdNeed, e.irqfd) || Table.get(s.irqfdBudgets, e.irqfd) <= 0) return s
        const next = SystemR.update(s, {
          irqfdNeed: setBit(s.irqfdNeed, e.irqfd, true),
          irqfdBudgets: Table.set(s.irqfdBudgets, e.irqfd, Table.get(s.irqfdBudgets, e.irqfd) - 1),
        })
        return irqfdInject(next, f)
      }
      case 'ResamplefdRead': {
        const f = config.irqfds[e.irqfd]
        if (!f || !bit(s.resamplePending, e.irqfd)) return s
        const next = SystemR.set(s, 'resamplePending', setBit(s.resamplePending, e.irqfd, false))
        // The VMM re-signals the irqfd while its device still needs service (VFIO's INTx unmask path).
        return bit(next.irqfdNeed, e.irqfd) ? irqfdInject(next, f) : next
      }
      case 'IoapicPinServiced': {
        if (!ioapicServiceable(s.ioapic).includes(e.pin)) return s
        const r = ioapicService(s.ioapic, e.pin)
        const next = SystemR.set(s, 'ioapic', r.state)
        return r.message ? deliver(next, undefined, r.message) : next
      }
      case 'IoapicEoiBroadcast': {
        if (!VectorSet.has(s.pendingEoi, e.vector)) return s
        const r = ioapicEoi(s.ioapic, e.vector)
        let next = SystemR.update(s, { ioapic: r.state, pendingEoi: VectorSet.remove(s.pendingEoi, e.vector) })
        if (r.reserviced.length > 0) next = SystemR.set(next, 'ghost', GhostR.set(next.ghost, 'redelivered', true))
        for (const pin of r.acked) next = ackNotify(next, pin)
        return next
      }
      case 'VcpuEntered':
        return enter(s, e.vcpu)
      case 'VcpuExited': {
        const v = Table.get(s.vcpus, e.vcpu)
        if (!(v.run === 'exiting' || (v.run === 'inGuest' && v.irqWindow && interruptAllowed(v)))) return s
        return setVcpu(s, e.vcpu, VcpuR.set(v, 'run', 'outside'))
      }
      case 'VcpuWoken': {
        const v = Table.get(s.vcpus, e.vcpu)
        if (v.run !== 'halted' || !hasEvents(s, e.vcpu)) return s
        return setVcpu(s, e.vcpu, VcpuR.set(v, 'run', 'outside'))
      }
      default:
        return guest(s, e)
    }
  }

  /** irqfd_inject (eventfd.c): resample → level via the resampler's source id; otherwise a pulse from the userspace source id. */
  const irqfdInject = (s: SystemState, f: IrqfdConfig): SystemState =>
    f.resample ? setGsi(s, f.gsi, RESAMPLE_SOURCE_ID, 1) : setGsi(setGsi(s, f.gsi, USERSPACE_SOURCE_ID, 1), f.gsi, USERSPACE_SOURCE_ID, 0)

  /**
   * `vcpu_enter_guest` E2: `kvm_check_and_inject_events`. One event per entry: an NMI first, else the
   * highest interrupt if `interrupt_allowed` (ExtINT before the LAPIC, `kvm_cpu_get_interrupt`), and
   * `enable_irq_window` if something injectable remains. The interrupt gate clears IF.
   */
  const enter = (s: SystemState, i: number): SystemState => {
    const v = Table.get(s.vcpus, i)
    if (v.run !== 'outside') return s
    let next = s
    let nv = VcpuR.update(v, { run: 'inGuest', reqEvent: false, irqWindow: false })
    const l = Table.get(s.lapics, i)
    if (l.nmiPending) {
      // inject_pending_event: an NMI is injected before any interrupt (x86.c kvm_check_and_inject_events).
      next = setLapic(next, i, lapicNmiTaken(l))
      nv = VcpuR.set(nv, 'irqWindow', hasInjectable(next, i))
      return setVcpu(next, i, nv)
    }
    if (hasInjectable(s, i)) {
      if (interruptAllowed(v) && v.handler < 0) {
        if (hasExtInt(s, i)) {
          const r = picAck(s.pic)
          next = picChanged(next, SystemR.set(next, 'pic', r.state))
          const spurious = !(r.irq >= 8 ? bit(r.state.slave.isr, r.irq - 8) || bit(r.state.master.isr, 2) : bit(r.state.master.isr, r.irq))
          if (spurious && (r.irq === 7 || r.irq === 15)) next = SystemR.set(next, 'ghost', GhostR.set(next.ghost, 'spurious', true))
          for (const irq of r.acked) next = ackNotify(next, irq)
          nv = VcpuR.update(nv, { handler: r.vector, handlerSource: 'pic', handlerIrq: r.irq, ifFlag: false, eoiDone: false, deviceAcked: false })
        } else {
          const r = lapicAck(l)
          next = setLapic(next, i, r.state)
          if (VectorSet.size(r.state.isr) >= 2) next = SystemR.set(next, 'ghost', GhostR.set(next.ghost, 'nested', true))
          nv = VcpuR.update(nv, { handler: r.vector, handlerSource: 'lapic', handlerIrq: -1, ifFlag: false, eoiDone: false, deviceAcked: false })
        }
        nv = VcpuR.set(nv, 'irqWindow', hasInjectable(next, i))
      } else {
        nv = VcpuR.set(nv, 'irqWindow', true)
      }
    }
    return setVcpu(next, i, nv)
  }

  const guest = (s: SystemState, e: Exclude<Event, { _tag: 'LineAsserted' | 'LineDeasserted' | 'MsiSignalled' | 'IrqfdSignalled' | 'ResamplefdRead' | 'IoapicPinServiced' | 'IoapicEoiBroadcast' | 'VcpuEntered' | 'VcpuExited' | 'VcpuWoken' }>): SystemState => {
    const i = e.vcpu
    const v = Table.get(s.vcpus, i)
    if (!guestRunning(v)) return s
    switch (e._tag) {
      case 'GuestIfChanged':
        if (e.enabled === v.ifFlag) return s
        return setVcpu(s, i, e.enabled
          ? VcpuR.update(v, { ifFlag: true, shadow: true })
          : VcpuR.update(v, { ifFlag: false, cliBudget: Math.max(0, v.cliBudget - 1) }))
      case 'GuestStepped':
        return setVcpu(s, i, VcpuR.set(v, 'shadow', false))
      case 'GuestHalted':
        return setVcpu(s, i, VcpuR.update(v, { run: 'halted', shadow: false }))
      case 'GuestDeviceAcked': {
        if (v.handler < 0) return s
        let acked = s.acked
        let need = s.irqfdNeed
        for (let k = 0; k < config.sources.length; k++)
          if (config.sources[k]!.trigger === 'level' && bit(s.asserted, k) && servedBy(s, v, config.sources[k]!.gsi)) acked = setBit(acked, k, true)
        for (let f = 0; f < config.irqfds.length; f++) if (servedBy(s, v, config.irqfds[f]!.gsi)) need = setBit(need, f, false)
        return SystemR.update(setVcpu(s, i, VcpuR.set(v, 'deviceAcked', true)), { acked, irqfdNeed: need })
      }
      case 'GuestEoiWritten': {
        const l = Table.get(s.lapics, i)
        const r = lapicEoi(l)
        let next = setLapic(s, i, r.state)
        if (v.handlerSource === 'lapic' && !v.eoiDone) next = setVcpu(next, i, VcpuR.set(v, 'eoiDone', true))
        // kvm_ioapic_send_eoi: only vectors the IOAPIC handles (ioapic_handled_vectors) are forwarded.
        if (r.vector >= 0 && ioapicHandles(s.ioapic, r.vector)) next = SystemR.set(next, 'pendingEoi', VectorSet.add(next.pendingEoi, r.vector))
        return next
      }
      case 'GuestPicWritten': {
        const r = picWrite(s.pic, e.port, e.value)
        let next = picChanged(s, SystemR.set(s, 'pic', r.state))
        for (const irq of r.acked) next = ackNotify(next, irq)
        return next
      }
      case 'GuestIoapicWritten':
        return SystemR.set(s, 'ioapic', reduceIoapic(s.ioapic, { _tag: 'IoapicEntryWritten', pin: e.pin, half: e.half, value: e.value }))
      case 'GuestLapicWritten': {
        const l = Table.get(s.lapics, i)
        return picChanged(s, setLapic(s, i, reduceLapic(l, { _tag: 'LapicRegWritten', reg: e.reg, value: e.value })))
      }
      case 'GuestIcrWritten': {
        const l = Table.get(s.lapics, i)
        const msg = decodeIcr(e.low, e.high, l.x2apic)
        const next = setVcpu(s, i, VcpuR.set(v, 'ipiBudget', Math.max(0, v.ipiBudget - 1)))
        return deliver(next, i, msg)
      }
      case 'GuestIretExecuted':
        if (v.handler < 0) return s
        return setVcpu(s, i, VcpuR.update(v, { ifFlag: true, handler: -1, handlerSource: 'none', handlerIrq: -1, eoiDone: false, deviceAcked: false }))
    }
  }

  /** `ioapic_handled_vectors` approximated as: the vector of some IOAPIC redirection entry. */
  const ioapicHandles = (io: IoapicState, vector: number): boolean => io.pins.items.some((p) => p.vector === vector)

  return { config, initial, enabled, reduce, hasInjectable }
}

export { lapicPpr }
