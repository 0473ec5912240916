/**
 * System events: facts, past tense, `_tag`-ged, one closed union.
 *
 * Three kinds of actor produce them:
 * - the environment (devices and the VMM): line changes, MSIs, irqfd signals;
 * - the guest on each vCPU: instructions that touch interrupt state;
 * - the kernel: vCPU entry/exit/wake, and internal follow-up work recorded
 *   in the state (an IOAPIC pin to turn into a LAPIC message, an EOI to
 *   broadcast to the IOAPIC), which `enabled` offers so it interleaves with
 *   everything else.
 * Indices (`source`, `msi`, `irqfd`) refer to the System's configuration.
 */
import type { VcpuId } from './ids.js'
import type { PicPort, LapicReg } from './devices/events.js'

export type Event =
  // ---------------------------------------------------------------- environment
  /** Device source `source` raised its line: `kvm_set_irq(kvm, irq_source_id, gsi, 1)` (KVM_IRQ_LINE, irqchip.c). */
  | { readonly _tag: 'LineAsserted'; readonly source: number }
  /** Device source `source` lowered its line: `kvm_set_irq(…, 0)`. */
  | { readonly _tag: 'LineDeasserted'; readonly source: number }
  /** The VMM signalled MSI number `msi` of the configuration (KVM_SIGNAL_MSI → `kvm_set_msi`). */
  | { readonly _tag: 'MsiSignalled'; readonly msi: number }
  /** The VMM (or a device backend) wrote the irqfd's eventfd: `irqfd_inject` (virt/kvm/eventfd.c). */
  | { readonly _tag: 'IrqfdSignalled'; readonly irqfd: number }
  /** The VMM read a signalled resamplefd and re-signals the irqfd if its device still needs service. */
  | { readonly _tag: 'ResamplefdRead'; readonly irqfd: number }
  // ---------------------------------------------------------------- internal follow-up (kernel)
  /** The IOAPIC serviced a pending pin: `ioapic_service` → `kvm_irq_delivery_to_apic`. */
  | { readonly _tag: 'IoapicPinServiced'; readonly pin: number }
  /** A LAPIC EOI for a level vector reached the IOAPIC: `kvm_ioapic_send_eoi` → `kvm_ioapic_update_eoi`. */
  | { readonly _tag: 'IoapicEoiBroadcast'; readonly vector: number }
  // ---------------------------------------------------------------- kernel, per vCPU
  /** `vcpu_enter_guest`: events checked (injecting at most one interrupt, `kvm_check_and_inject_events`) and guest entered. */
  | { readonly _tag: 'VcpuEntered'; readonly vcpu: VcpuId }
  /** A VM exit (kick IPI, or interrupt-window exit) back to the kernel's run loop. */
  | { readonly _tag: 'VcpuExited'; readonly vcpu: VcpuId }
  /** A halted vCPU became runnable (`kvm_vcpu_has_events`) and left `kvm_vcpu_halt` (`kvm_vcpu_wakeup`). */
  | { readonly _tag: 'VcpuWoken'; readonly vcpu: VcpuId }
  // ---------------------------------------------------------------- guest, per vCPU
  /** CLI (enabled=false) or STI (enabled=true; STI also opens a one-instruction shadow, SDM vol. 2B STI). */
  | { readonly _tag: 'GuestIfChanged'; readonly vcpu: VcpuId; readonly enabled: boolean }
  /** The instruction after STI retired: the interrupt shadow ends. */
  | { readonly _tag: 'GuestStepped'; readonly vcpu: VcpuId }
  /** HLT. */
  | { readonly _tag: 'GuestHalted'; readonly vcpu: VcpuId }
  /** The handler read its device's status register, which makes a level-triggered device drop its line. */
  | { readonly _tag: 'GuestDeviceAcked'; readonly vcpu: VcpuId }
  /** A write to the LAPIC EOI register (xAPIC 0xB0, x2APIC MSR 0x80B): `apic_set_eoi`. */
  | { readonly _tag: 'GuestEoiWritten'; readonly vcpu: VcpuId }
  /** A guest OUT to a PIC/ELCR port (ICW/OCW, e.g. OCW2 non-specific EOI 0x20 to port 0x20). */
  | { readonly _tag: 'GuestPicWritten'; readonly vcpu: VcpuId; readonly port: PicPort; readonly value: number }
  /** A guest write of one half of IOAPIC redirection entry `pin`. */
  | { readonly _tag: 'GuestIoapicWritten'; readonly vcpu: VcpuId; readonly pin: number; readonly half: 'low' | 'high'; readonly value: number }
  /** A guest write of a LAPIC register other than EOI and ICR. */
  | { readonly _tag: 'GuestLapicWritten'; readonly vcpu: VcpuId; readonly reg: LapicReg; readonly value: number }
  /** A guest write of the ICR (xAPIC: ICR high then low, the low write sends; x2APIC: one MSR write): `kvm_apic_send_ipi`. */
  | { readonly _tag: 'GuestIcrWritten'; readonly vcpu: VcpuId; readonly low: number; readonly high: number }
  /** IRET at the end of the handler: IF restored to 1. */
  | { readonly _tag: 'GuestIretExecuted'; readonly vcpu: VcpuId }

export type EventTag = Event['_tag']
export type EventOf<T extends EventTag> = Extract<Event, { readonly _tag: T }>

type Ctor<T extends EventTag> = (fields: Omit<EventOf<T>, '_tag'>) => EventOf<T>
const ctor = <T extends EventTag>(tag: T): Ctor<T> => (fields) => ({ _tag: tag, ...fields }) as EventOf<T>

/** Event constructors (each returns the narrow variant) and an exhaustive `match`. */
export const Event = {
  LineAsserted: ctor('LineAsserted'),
  LineDeasserted: ctor('LineDeasserted'),
  MsiSignalled: ctor('MsiSignalled'),
  IrqfdSignalled: ctor('IrqfdSignalled'),
  ResamplefdRead: ctor('ResamplefdRead'),
  IoapicPinServiced: ctor('IoapicPinServiced'),
  IoapicEoiBroadcast: ctor('IoapicEoiBroadcast'),
  VcpuEntered: ctor('VcpuEntered'),
  VcpuExited: ctor('VcpuExited'),
  VcpuWoken: ctor('VcpuWoken'),
  GuestIfChanged: ctor('GuestIfChanged'),
  GuestStepped: ctor('GuestStepped'),
  GuestHalted: ctor('GuestHalted'),
  GuestDeviceAcked: ctor('GuestDeviceAcked'),
  GuestEoiWritten: ctor('GuestEoiWritten'),
  GuestPicWritten: ctor('GuestPicWritten'),
  GuestIoapicWritten: ctor('GuestIoapicWritten'),
  GuestLapicWritten: ctor('GuestLapicWritten'),
  GuestIcrWritten: ctor('GuestIcrWritten'),
  GuestIretExecuted: ctor('GuestIretExecuted'),
  match<R>(e: Event, handlers: { readonly [T in EventTag]: (e: EventOf<T>) => R }): R {
    return (handlers[e._tag] as (e: Event) => R)(e)
  },
}

/** All event tags, in the canonical order `enabled` uses between actors. */
export const eventTags: ReadonlyArray<EventTag> = [
  'LineAsserted', 'LineDeasserted', 'MsiSignalled', 'IrqfdSignalled', 'ResamplefdRead',
  'IoapicPinServiced', 'IoapicEoiBroadcast',
  'VcpuEntered', 'VcpuExited', 'VcpuWoken',
  'GuestIfChanged', 'GuestStepped', 'GuestHalted', 'GuestDeviceAcked', 'GuestEoiWritten', 'GuestPicWritten',
  'GuestIoapicWritten', 'GuestLapicWritten', 'GuestIcrWritten', 'GuestIretExecuted',
]

/** One-line rendering for timelines. */
export const formatEvent = (e: Event): string => {
  const { _tag, ...rest } = e as Event & Record<string, unknown>
  const parts = Object.entries(rest).map(([k, v]) =>
    typeof v === 'number' && (k === 'value' || k === 'low' || k === 'high' || k === 'port') ? `${k}=0x${v.toString(16)}` : `${k}=${String(v)}`)
  return parts.length ? `${_tag}(${parts.join(', ')})` : _tag
}

/** The timeline column of an event's actor. */
export const actorOf = (e: Event): string => {
  if ('vcpu' in e) return e._tag.startsWith('Guest') ? `guest${e.vcpu}` : `vcpu${e.vcpu}`
  switch (e._tag) {
    case 'IoapicPinServiced':
    case 'IoapicEoiBroadcast':
      return 'ioapic'
    case 'MsiSignalled':
    case 'IrqfdSignalled':
    case 'ResamplefdRead':
      return 'vmm'
    default:
      return 'devices'
  }
}
