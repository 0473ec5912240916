/**
 * The x86 substrate's rules, stated from the hardware (Intel SDM vol. 3A
 * ch. 11 "Advanced Programmable Interrupt Controller", the 82093AA IOAPIC
 * data sheet) and from KVM's documented contract, not from the reducers'
 * code paths. Priority arithmetic here is re-derived from the SDM text on
 * purpose, so a mistake in the LAPIC module cannot hide behind itself.
 */
import { Table } from '../model/core/Table.js'
import { VectorSet } from '../model/core/VectorSet.js'
import type { Event } from '../model/Event.js'
import type { SystemState } from '../model/System.js'
import type { Property, StateProperty, StepProperty } from './Property.js'

/** SDM 11.8.3.1: PPR[7:4] = max(TPR[7:4], ISRV[7:4]); PPR[3:0] = TPR[3:0] if TPR[7:4] >= ISRV[7:4], else 0. */
export const sdmPpr = (tpr: number, isr: VectorSet): number => {
  const isrv = Math.max(0, VectorSet.highest(isr))
  return (tpr >> 4) >= (isrv >> 4) ? tpr & 0xff : isrv & 0xf0
}

const step = (p: Omit<StepProperty<SystemState, Event>, 'expectation'>): StepProperty<SystemState, Event> => ({ ...p, expectation: 'always' })
const state = (p: StateProperty<SystemState>): StateProperty<SystemState> => p

export const eoiClearsHighestIsr = step({
  name: 'eoi-clears-highest-isr',
  description: 'A write to the EOI register clears the highest-priority bit of the ISR, and only that bit; with the ISR empty it changes nothing.',
  source: 'SDM vol. 3A 11.8.5 "Signaling Interrupt Servicing Completion"; arch/x86/kvm/lapic.c apic_set_eoi',
  holdsStep: (b, e, a) => {
    if (e._tag !== 'GuestEoiWritten') return true
    const isrB = Table.get(b.lapics, e.vcpu).isr
    const isrA = Table.get(a.lapics, e.vcpu).isr
    const h = VectorSet.highest(isrB)
    return h < 0 ? VectorSet.equals(isrA, isrB) : VectorSet.equals(isrA, VectorSet.remove(isrB, h))
  },
})

/** The vector a VcpuEntered step injected, from the guest-visible handler it started, or -1. */
const injected = (b: SystemState, e: Event, a: SystemState): { vcpu: number; vector: number; source: string } | undefined => {
  if (e._tag !== 'VcpuEntered') return undefined
  const vb = Table.get(b.vcpus, e.vcpu)
  const va = Table.get(a.vcpus, e.vcpu)
  if (vb.handler === va.handler || va.handler < 0) return undefined
  return { vcpu: e.vcpu, vector: va.handler, source: va.handlerSource }
}

export const deliversHighestAbovePpr = step({
  name: 'lapic-delivers-highest-above-ppr',
  description: 'The LAPIC dispatches only its highest-priority pending vector, and only if its priority class is above the processor priority class.',
  source: 'SDM vol. 3A 11.8.3.1 "Task and Processor Priorities" and 11.8.4 "Interrupt Acceptance for Fixed Interrupts"',
  holdsStep: (b, e, a) => {
    const inj = injected(b, e, a)
    if (!inj || inj.source !== 'lapic') return true
    const l = Table.get(b.lapics, inj.vcpu)
    return inj.vector === VectorSet.highest(l.irr) && (inj.vector & 0xf0) > (sdmPpr(l.tpr, l.isr) & 0xf0)
  },
})

export const noDeliveryWithIfClear = step({
  name: 'no-delivery-while-interrupts-blocked',
  description: 'No maskable interrupt is delivered to a vCPU whose RFLAGS.IF is clear or that is in an STI interrupt shadow.',
  source: 'SDM vol. 3A 6.8.1 "Masking Maskable Hardware Interrupts" and 6.8.3 (STI shadow); vmx.c vmx_interrupt_blocked',
  holdsStep: (b, e, a) => {
    const inj = injected(b, e, a)
    if (!inj) return true
    const v = Table.get(b.vcpus, inj.vcpu)
    return v.ifFlag && !v.shadow
  },
})

export const pendingClearedOnlyByAcceptance = step({
  name: 'pending-cleared-only-by-acceptance',
  description: 'An accepted interrupt stays pending in the IRR until the processor takes it into service (IRR→ISR); a second identical edge while it is pending is coalesced, not lost and not duplicated.',
  source: 'SDM vol. 3A 11.8.4 (IRR/ISR handling; "the interrupt is held pending" and one IRR bit per vector)',
  holdsStep: (b, e, a) => {
    for (let i = 0; i < b.lapics.items.length; i++) {
      const lb = Table.get(b.lapics, i)
      const la = Table.get(a.lapics, i)
      if (lb.irr === la.irr) continue
      for (const v of VectorSet.toArray(lb.irr)) {
        if (VectorSet.has(la.irr, v)) continue
        // only acceptance into service may clear it: now in ISR, and ISR did not have it before
        if (!(VectorSet.has(la.isr, v) && !VectorSet.has(lb.isr, v))) return false
      }
    }
    return true
  },
})

export const levelRequestFollowsLine = state({
  name: 'level-request-follows-line',
  expectation: 'always',
  description: 'A level-triggered IOAPIC input (KVM passes the asserted level, whatever the polarity bit says) has a request pending exactly while its line is asserted by some source.',
  source: '82093AA data sheet, 3.2.4 (level-sensitive inputs: the request follows the input); KVM ORs per-source levels (irqchip.c kvm_irq_line_state)',
  holds: (s) => {
    for (let pin = 0; pin < 24; pin++) {
      const e = Table.get(s.ioapic.pins, pin)
      if (e.trigger !== 'level') continue
      const lineHigh = Table.get(s.lines, pin) !== 0
      const requested = ((s.ioapic.irr >>> pin) & 1) === 1
      if (lineHigh !== requested) return false
    }
    return true
  },
})

export const remoteIrrHasOwner = state({
  name: 'remote-irr-has-owner',
  expectation: 'always',
  description: 'A level pin whose Remote IRR is set has its interrupt somewhere between acceptance and EOI: pending or in service at a LAPIC, being handled, or its EOI on the way to the IOAPIC. Otherwise the pin is stuck and never delivers again.',
  source: '82093AA data sheet, redirection table bit 14 "Remote IRR" (set when the LAPIC accepts a level interrupt, reset when the EOI with a matching vector arrives)',
  holds: (s) => {
    for (let pin = 0; pin < 24; pin++) {
      const e = Table.get(s.ioapic.pins, pin)
      if (e.trigger !== 'level' || !e.remoteIrr) continue
      const v = e.vector
      let owned = VectorSet.has(s.pendingEoi, v)
      for (let i = 0; i < s.lapics.items.length && !owned; i++) {
        const l = Table.get(s.lapics, i)
        const c = Table.get(s.vcpus, i)
        owned = VectorSet.has(l.irr, v) || VectorSet.has(l.isr, v) || (c.handler === v && c.handlerSource === 'lapic')
      }
      if (!owned) return false
    }
    return true
  },
})

/** Nothing left to do: every device has raised all its interrupts and been serviced, and every controller is idle. */
export const quiescent = (s: SystemState): boolean => {
  if (s.asserted !== 0 || s.irqfdNeed !== 0 || s.resamplePending !== 0 || !VectorSet.isEmpty(s.pendingEoi) || s.ioapic.irr !== 0) return false
  if (s.budgets.items.some((b) => b > 0) || s.msiBudgets.items.some((b) => b > 0) || s.irqfdBudgets.items.some((b) => b > 0)) return false
  for (let i = 0; i < s.vcpus.items.length; i++) {
    const l = Table.get(s.lapics, i)
    const v = Table.get(s.vcpus, i)
    if (!VectorSet.isEmpty(l.irr) || !VectorSet.isEmpty(l.isr) || l.nmiPending || v.handler >= 0) return false
  }
  // A masked 8259 pin keeps its latched IRR bit forever (8259A: IMR masks the request, it does not clear IRR),
  // so an idle PIC is one with nothing in service and no unmasked request.
  const { master, slave } = s.pic
  return master.isr === 0 && slave.isr === 0 && (master.irr & ~master.imr & 0xff) === 0 && (slave.irr & ~slave.imr & 0xff) === 0
}

export const allInterruptsHandled = state({
  name: 'all-interrupts-handled',
  expectation: 'eventually',
  description: 'With the vCPUs, the kernel and the devices weakly fair, every interrupt the devices raise is eventually delivered, handled and EOIed, leaving every controller idle: no interrupt is lost and no line is left stuck.',
  source: 'KVM contract: an asserted, unmasked interrupt is delivered once the guest can take it (x86.c vcpu_enter_guest / kvm_vcpu_has_events)',
  holds: quiescent,
})

export const sometimesRedelivered = state({
  name: 'level-redelivered-after-eoi',
  expectation: 'sometimes',
  description: 'Witness: an EOI finds its level line still asserted and the IOAPIC delivers the interrupt again.',
  source: 'arch/x86/kvm/ioapic.c kvm_ioapic_update_eoi_one (remote_irr cleared, ioapic_service when irr still set)',
  holds: (s) => s.ghost.redelivered,
})

export const sometimesSpurious = state({
  name: 'spurious-pic-interrupt',
  expectation: 'sometimes',
  description: 'Witness: an INTA finds no request left (the line dropped before the acknowledge) and the 8259 answers with spurious IRQ 7/15.',
  source: '8259A data sheet ("if the IR input goes inactive before the acknowledge, a default IR7 is issued"); i8259.c kvm_pic_read_irq',
  holds: (s) => s.ghost.spurious,
})

export const sometimesCoalesced = state({
  name: 'edge-coalesced',
  expectation: 'sometimes',
  description: 'Witness: an edge interrupt arrives while the same vector is already pending and is coalesced into it.',
  source: 'SDM vol. 3A 11.8.4 (one IRR bit per vector); i8259.c pic_set_irq1 / ioapic.c ioapic_set_irq coalescing',
  holds: (s) => s.ghost.coalesced,
})

export const substrateProperties: ReadonlyArray<Property<SystemState, Event>> = [
  eoiClearsHighestIsr,
  deliversHighestAbovePpr,
  noDeliveryWithIfClear,
  pendingClearedOnlyByAcceptance,
  levelRequestFollowsLine,
  remoteIrrHasOwner,
  allInterruptsHandled,
  sometimesRedelivered,
  sometimesSpurious,
  sometimesCoalesced,
]
