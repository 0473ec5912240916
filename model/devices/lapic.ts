/**
 * The local APIC as KVM emulates it (the in-kernel LAPIC, irqchip modes KERNEL and SPLIT).
 *
 * Source followed: torvalds/linux `arch/x86/kvm/lapic.c` and `lapic.h` at snapshot 000d75b0b186
 * (≈v6.18+, the version where `__kvm_irq_delivery_to_apic` moved from irq.c into lapic.c; the host
 * trace formats in ../shared/traces/host are 6.18), constants from `arch/x86/include/asm/apicdef.h`,
 * hardware rules from the Intel SDM vol. 3A ch. 11 (APIC). Where KVM and the SDM differ, KVM wins and
 * the difference is noted.
 *
 * Scope: IRR/ISR/TMR, TPR/PPR, SVR (software enable), LVT0 (LINT0: ExtINT / masked), ID, LDR, DFR,
 * the x2APIC mode switch, NMI pending, EOI and acknowledge, and the ICR encoding. Not modelled: the
 * timer and the other LVTs, ESR, APICv/posted interrupts (the PIR is folded into the IRR: the model is
 * the non-APICv `kvm_lapic_set_irr` path of `vmx_deliver_interrupt`), Hyper-V SynIC auto-EOI, PV EOI,
 * INIT/SIPI processing (`kvm_apic_accept_events`), SMM, and `KVM_CAP_X2APIC_API`'s 32-bit xAPIC IDs.
 *
 * Representation choices:
 * - `vcpuId` is `vcpu->vcpu_id`. KVM hard-wires the x2APIC ID to it (`kvm_x2apic_id`).
 * - `id` is the APIC ID *value*, unshifted: in xAPIC mode the 8-bit ID that KVM keeps in bits 31:24
 *   of the ID register (`kvm_xapic_id` = reg >> 24); in x2APIC mode the 32-bit ID (= `vcpuId`).
 * - `ldr`, `dfr` are the raw 32-bit register values (unsigned numbers, `>>> 0`).
 * - PPR is not stored: KVM recomputes it (`__apic_update_ppr`) before every use (has-interrupt, ack,
 *   EOI, TPR write, PPR read), so a derived `lapicPpr` is exact.
 */
import { recordType } from '../core/Record.js'
import type { Hashed } from '../core/hash.js'
import { VectorSet } from '../core/VectorSet.js'
import type { DeliveryMode, LapicEvent, LapicReg } from './events.js'
import type { LapicMessage } from './message.js'

// ---------------------------------------------------------------- constants (apicdef.h, lapic.h)
/** `APIC_LVT_MASKED` (1 << 16). */
export const APIC_LVT_MASKED = 0x10000
/** `APIC_SPIV_APIC_ENABLED` (1 << 8): the SVR software-enable bit. */
export const APIC_SPIV_APIC_ENABLED = 0x100
/** `APIC_DFR_FLAT` and `APIC_DFR_CLUSTER`: the only DFR values `kvm_apic_match_logical_addr` recognises. */
export const APIC_DFR_FLAT = 0xffffffff
export const APIC_DFR_CLUSTER = 0x0fffffff
/** `APIC_BROADCAST` (xAPIC) and `X2APIC_BROADCAST` (lapic.h). */
export const APIC_BROADCAST = 0xff
export const X2APIC_BROADCAST = 0xffffffff
/** `APIC_MODE_EXTINT`, the LVT delivery-mode value 7 (`GET_APIC_DELIVERY_MODE(x)` = (x >> 8) & 7). */
const APIC_MODE_EXTINT = 7
/**
 * `apic_lvt_mask[LVT_LINT0]` = `LINT_MASK` = `LVT_MASK | APIC_MODE_MASK | APIC_INPUT_POLARITY |
 * APIC_LVT_REMOTE_IRR | APIC_LVT_LEVEL_TRIGGER`, `LVT_MASK` = `APIC_LVT_MASKED | APIC_SEND_PENDING |
 * APIC_VECTOR_MASK`: 0x10000 | 0x1000 | 0xff | 0x700 | 0x2000 | 0x4000 | 0x8000.
 */
const LINT_MASK = 0x1f7ff
/** `APIC_LDR_MASK` (0xFF << 24). */
const APIC_LDR_MASK = 0xff000000
/** SVR bits KVM keeps: `mask = 0x3ff` in `kvm_lapic_reg_write` (APIC_SPIV). Bit 12 (directed EOI) is
 * kept only when the LVR advertises it (x2APIC guest with a userspace IOAPIC); not modelled. */
const SPIV_MASK = 0x3ff

// ---------------------------------------------------------------- state
export type LapicFields = {
  /** `vcpu->vcpu_id`: fixed; KVM's x2APIC ID (`kvm_x2apic_id`). */
  readonly vcpuId: number
  /** The APIC ID value: xAPIC 8-bit ID (register bits 31:24), or the 32-bit x2APIC ID. */
  readonly id: number
  readonly irr: VectorSet
  readonly isr: VectorSet
  /** Trigger mode register: set for level-triggered accepted vectors (`__apic_accept_irq`). */
  readonly tmr: VectorSet
  /** `APIC_TASKPRI`, bits 7:0. */
  readonly tpr: number
  /** `APIC_SPIV` & 0x3ff: spurious vector 7:0, APIC software enable 8, focus 9. */
  readonly svr: number
  /** `APIC_LVT0` (LINT0): vector 7:0, delivery mode 10:8, polarity 13, remote IRR 14, trigger 15, mask 16. */
  readonly lvt0: number
  /** `APIC_LDR` (raw 32 bits). xAPIC: logical ID in 31:24. x2APIC: read-only, `kvm_apic_calc_x2apic_ldr(id)`. */
  readonly ldr: number
  /** `APIC_DFR` (raw 32 bits; bits 27:0 always 1: the write handler ORs in 0x0FFFFFFF). */
  readonly dfr: number
  /** IA32_APIC_BASE.EXTD (`apic_x2apic_mode`). */
  readonly x2apic: boolean
  /** IA32_APIC_BASE.EN (`kvm_apic_hw_enabled`). */
  readonly hwEnabled: boolean
  /**
   * An NMI is pending for this vCPU. KVM counts them (`kvm_inject_nmi` → `nmi_queued`, then
   * `process_nmi` folds into `nmi_pending` with a limit of 2, or 1 while an NMI is in service). This
   * model keeps one pending NMI here and leaves the in-service NMI to the vCPU (`handlerSource`
   * 'nmi'), which gives the same limit of two; further NMIs coalesce, as on hardware (SDM 6.7.1).
   */
  readonly nmiPending: boolean
  /**
   * `vcpu->arch.apic_arb_prio`: incremented by every LowestPriority acceptance and read only by the
   * non-hashing lowest-priority policy (`vector_hashing=0`). Architecturally invisible (APIC_ARBPRI
   * reads return 0 in `__apic_read`), so it stays 0 unless acceptance is asked to track it
   * (`LapicOptions.trackArbPrio`), which keeps the state space finite under the default policy.
   */
  readonly arbPrio: number
}
export type LapicState = LapicFields & Hashed

export const LapicR = recordType<LapicFields>('Lapic', [
  'vcpuId', 'id', 'irr', 'isr', 'tmr', 'tpr', 'svr', 'lvt0', 'ldr', 'dfr', 'x2apic', 'hwEnabled', 'nmiPending',
  'arbPrio',
])

export interface LapicOptions {
  /** Count `apic_arb_prio` on LowestPriority acceptance (needed only for the 'arbitration' policy). Default false. */
  readonly trackArbPrio?: boolean
}

export interface InitialLapicOptions {
  /** This vCPU is the reset BSP (`kvm_vcpu_is_reset_bsp`: vcpu_id == kvm->arch.bsp_vcpu_id, default 0). Default: id === 0. */
  readonly bsp?: boolean
  /** `KVM_X86_QUIRK_LINT0_REENABLED` (enabled unless userspace disables it). Default true. */
  readonly lint0Reenabled?: boolean
}

/**
 * The state after `kvm_lapic_reset(vcpu, false)` (lapic.c) of vCPU `id`:
 * IA32_APIC_BASE = default base | EN (hw enabled, xAPIC mode); xAPIC ID = vcpu_id (`kvm_apic_set_xapic_id`,
 * truncated to 8 bits); every LVT = APIC_LVT_MASKED, except that the reset BSP's LVT0 becomes ExtINT,
 * unmasked (`SET_APIC_DELIVERY_MODE(0, APIC_MODE_EXTINT)` = 0x700) under the default-on quirk
 * KVM_X86_QUIRK_LINT0_REENABLED (QEMU's `apic_reset_common` does the same for the BSP);
 * DFR = 0xFFFFFFFF (flat); SVR = 0xFF (software disabled, spurious vector 0xFF); TPR = 0; LDR = 0;
 * IRR = ISR = TMR = 0; `apic_arb_prio` = 0.
 */
export const initialLapic = (id: number, opts: InitialLapicOptions = {}): LapicState => {
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new RangeError(`vCPU id ${id} is not a u32`)
  const bsp = opts.bsp ?? id === 0
  const lint0 = bsp && (opts.lint0Reenabled ?? true) ? APIC_MODE_EXTINT << 8 : APIC_LVT_MASKED
  return LapicR.make({
    vcpuId: id,
    id: id & 0xff,
    irr: VectorSet.empty,
    isr: VectorSet.empty,
    tmr: VectorSet.empty,
    tpr: 0,
    svr: 0xff,
    lvt0: lint0,
    ldr: 0,
    dfr: APIC_DFR_FLAT,
    x2apic: false,
    hwEnabled: true,
    nmiPending: false,
    arbPrio: 0,
  })
}

// ---------------------------------------------------------------- queries
/** `kvm_apic_sw_enabled` (lapic.h): `apic->sw_enabled`, i.e. SVR bit 8 (`apic_set_spiv`). */
export const lapicSwEnabled = (s: LapicState): boolean => (s.svr & APIC_SPIV_APIC_ENABLED) !== 0

/** `apic_enabled` (lapic.c): software AND hardware enabled. */
export const lapicEnabled = (s: LapicState): boolean => lapicSwEnabled(s) && s.hwEnabled

/**
 * `__apic_update_ppr` (lapic.c): isrv = highest ISR vector or 0;
 * PPR = (TPR & 0xF0) >= (isrv & 0xF0) ? TPR & 0xFF : isrv & 0xF0. (SDM 11.8.3.1.)
 */
export const lapicPpr = (s: LapicState): number => {
  const isr = VectorSet.highest(s.isr)
  const isrv = isr !== -1 ? isr : 0
  return (s.tpr & 0xf0) >= (isrv & 0xf0) ? s.tpr & 0xff : isrv & 0xf0
}

/**
 * `kvm_apic_has_interrupt` (lapic.c): -1 unless `kvm_apic_present` (hw enabled); otherwise
 * `apic_has_interrupt_for_ppr`: the highest IRR vector h if `(h & 0xF0) > PPR`, else -1.
 * There is no software-enable check: a software-disabled APIC still reports vectors already in its
 * IRR (SDM 11.4.7.2: pending IRR/ISR bits are held and must be handled or masked by the CPU).
 */
export const lapicHasInterrupt = (s: LapicState): number => {
  if (!s.hwEnabled) return -1
  const h = VectorSet.highest(s.irr)
  if (h === -1 || (h & 0xf0) <= lapicPpr(s)) return -1
  return h
}

/**
 * `kvm_apic_accept_pic_intr` (lapic.c): the vCPU takes PIC (ExtINT) interrupts if its APIC is
 * hardware-disabled, or LVT0 is unmasked with delivery mode ExtINT. No software-enable check.
 */
export const lapicAcceptPicIntr = (s: LapicState): boolean =>
  !s.hwEnabled || ((s.lvt0 & APIC_LVT_MASKED) === 0 && ((s.lvt0 >>> 8) & 7) === APIC_MODE_EXTINT)

/** `kvm_apic_calc_x2apic_ldr` (lapic.c): ((id >> 4) << 16) | (1 << (id & 0xf)). */
export const x2apicLdr = (id: number): number => ((((id >>> 4) << 16) | (1 << (id & 0xf))) >>> 0)

// ---------------------------------------------------------------- transitions
/**
 * `kvm_cpu_get_interrupt` (irq.c) for the LAPIC: `kvm_apic_has_interrupt`, then
 * `kvm_apic_ack_interrupt` (lapic.c): clear the IRR bit, set the ISR bit (raising PPR). TMR is left
 * alone (it is read at EOI). Returns the same state and -1 when nothing is deliverable.
 */
export const lapicAck = (s: LapicState): { readonly state: LapicState; readonly vector: number } => {
  const vector = lapicHasInterrupt(s)
  if (vector === -1) return { state: s, vector }
  return { state: LapicR.update(s, { irr: VectorSet.remove(s.irr, vector), isr: VectorSet.add(s.isr, vector) }), vector }
}

/**
 * `apic_set_eoi` (lapic.c): vector = highest ISR (`apic_find_highest_isr`); `trace_kvm_eoi(apic,
 * vector)`; if -1 (ISR empty, e.g. the "check timer" EOI in setup_IO_APIC; real traces show
 * `kvm_eoi: apicid 0 vector -1`) nothing else happens (same object). Otherwise the ISR bit is
 * cleared (PPR drops) and `kvm_ioapic_send_eoi` forwards the EOI with trigger mode TMR[vector]:
 * `level` is that bit. SDM 11.8.5: EOI clears the highest-priority ISR bit.
 */
export const lapicEoi = (s: LapicState): { readonly state: LapicState; readonly vector: number; readonly level: boolean } => {
  const vector = VectorSet.highest(s.isr)
  if (vector === -1) return { state: s, vector, level: false }
  return { state: LapicR.set(s, 'isr', VectorSet.remove(s.isr, vector)), vector, level: VectorSet.has(s.tmr, vector) }
}

/** The fields of a message `__apic_accept_irq` reads. */
export interface LapicIrq {
  readonly deliveryMode: DeliveryMode
  readonly vector: number
  readonly level: 0 | 1
  readonly trigger: 'edge' | 'level'
}

export interface LapicAcceptResult {
  readonly state: LapicState
  /** `__apic_accept_irq`'s return value (1 = added, 0 = discarded). */
  readonly accepted: boolean
  /**
   * Fixed/LowestPriority: the vector was already in the IRR (the new one merges with it); NMI: one was
   * already pending. Not part of KVM's result in this version (older kernels returned
   * `!apic_test_and_set_irr` and traced "(coalesced)", recalled); for invariants and statistics.
   */
  readonly coalesced: boolean
}

/**
 * `__apic_accept_irq(apic, delivery_mode, vector, level, trig_mode)` (lapic.c):
 * - LowestPriority: `apic_arb_prio++` (only if tracked, see `LapicFields.arbPrio`), then as Fixed.
 * - Fixed: dropped (result 0) if `trig_mode && !level` (a level de-assert message) or if
 *   `!apic_enabled(apic)` (software- or hardware-disabled: KVM's "FIXME add logic for vcpu on reset";
 *   SDM 11.4.7.2 says a software-disabled APIC does not accept fixed interrupts either). Otherwise
 *   result 1: TMR[vector] := trig_mode, then `deliver_interrupt` sets IRR[vector] (non-APICv path:
 *   `kvm_lapic_set_irr` + KVM_REQ_EVENT + kick). The result is 1 even if the vector was already
 *   pending (`coalesced`); older kernels returned `!apic_test_and_set_irr` (recalled).
 * - NMI: result 1, `kvm_inject_nmi` (→ `nmiPending`). Accepted even when software-disabled (SDM 11.4.7.2).
 * - INIT: result 1 unless a level de-assert (`!trig_mode || level`); KVM latches
 *   `pending_events = KVM_APIC_INIT` for `kvm_apic_accept_events` (vCPU reset). Not modelled: state unchanged.
 * - StartUp: result 1, latches KVM_APIC_SIPI and `sipi_vector`. Not modelled: state unchanged.
 * - SMI: result 1 when `kvm_inject_smi` succeeds (CONFIG_KVM_SMM). Not modelled: state unchanged.
 * - ExtINT: result 0, nothing ("Already handled by kvm_apic_accept_pic_intr()").
 */
export const lapicAccept = (s: LapicState, m: LapicIrq, opts: LapicOptions = {}): LapicAcceptResult => {
  switch (m.deliveryMode) {
    case 'LowestPriority':
    case 'Fixed': {
      const s1 = m.deliveryMode === 'LowestPriority' && opts.trackArbPrio ? LapicR.set(s, 'arbPrio', s.arbPrio + 1) : s
      if (m.trigger === 'level' && m.level === 0) return { state: s1, accepted: false, coalesced: false }
      if (!lapicEnabled(s1)) return { state: s1, accepted: false, coalesced: false }
      const tmr = m.trigger === 'level' ? VectorSet.add(s1.tmr, m.vector) : VectorSet.remove(s1.tmr, m.vector)
      const coalesced = VectorSet.has(s1.irr, m.vector)
      return { state: LapicR.update(s1, { tmr, irr: VectorSet.add(s1.irr, m.vector) }), accepted: true, coalesced }
    }
    case 'NMI':
      return { state: LapicR.set(s, 'nmiPending', true), accepted: true, coalesced: s.nmiPending }
    case 'INIT':
      return { state: s, accepted: m.trigger === 'edge' || m.level === 1, coalesced: false }
    case 'StartUp':
    case 'SMI':
      return { state: s, accepted: true, coalesced: false }
    case 'ExtINT':
      return { state: s, accepted: false, coalesced: false }
  }
}

/** The vCPU injected the pending NMI (`inject_pending_event` → `vmx_inject_nmi`, nmi_pending--). Same object if none. */
export const lapicNmiTaken = (s: LapicState): LapicState => LapicR.set(s, 'nmiPending', false)

/**
 * `kvm_lapic_reg_write` (lapic.c) for the modelled registers. The write reaches it only while the
 * APIC is hardware-enabled (`apic_mmio_write` drops MMIO writes when `!kvm_apic_hw_enabled`; x2APIC
 * MSRs need x2APIC mode, which needs EN), so a write to a hw-disabled APIC is a no-op here.
 * - ID: xAPIC: `kvm_apic_set_xapic_id(apic, val >> 24)` (8 bits). x2APIC: read-only (ret 1, #GP): no-op.
 * - TPR: `apic_set_tpr(apic, val & 0xff)` (PPR follows, derived).
 * - LDR: xAPIC: `val & APIC_LDR_MASK`. x2APIC: read-only: no-op.
 * - DFR: xAPIC: `val | 0x0FFFFFFF`. x2APIC: not present: no-op.
 * - SVR: `apic_set_spiv(apic, val & 0x3ff)`; if the enable bit is clear, every LVT gets
 *   APIC_LVT_MASKED (here: LVT0). Setting the bit does not unmask anything (SDM 11.4.7.2).
 * - LVT0: `apic_manage_nmi_watchdog`; `val |= APIC_LVT_MASKED` while software-disabled; `val &= LINT_MASK`.
 */
export const lapicWriteReg = (s: LapicState, reg: LapicReg, value: number): LapicState => {
  if (!s.hwEnabled) return s
  const v = value >>> 0
  switch (reg) {
    case 'ID':
      return s.x2apic ? s : LapicR.set(s, 'id', (v >>> 24) & 0xff)
    case 'TPR':
      return LapicR.set(s, 'tpr', v & 0xff)
    case 'LDR':
      return s.x2apic ? s : LapicR.set(s, 'ldr', (v & APIC_LDR_MASK) >>> 0)
    case 'DFR':
      return s.x2apic ? s : LapicR.set(s, 'dfr', (v | 0x0fffffff) >>> 0)
    case 'SVR': {
      const svr = v & SPIV_MASK
      const lvt0 = (svr & APIC_SPIV_APIC_ENABLED) === 0 ? (s.lvt0 | APIC_LVT_MASKED) >>> 0 : s.lvt0
      return LapicR.update(s, { svr, lvt0 })
    }
    case 'LVT0': {
      const masked = lapicSwEnabled(s) ? v : v | APIC_LVT_MASKED
      return LapicR.set(s, 'lvt0', (masked & LINT_MASK) >>> 0)
    }
  }
}

/**
 * IA32_APIC_BASE.EXTD changed (`kvm_apic_set_base` → `__kvm_apic_set_base`, lapic.c):
 * - on: requires EN (EXTD without EN is LAPIC_MODE_INVALID, rejected: no-op).
 *   `kvm_apic_set_x2apic_id(apic, vcpu_id)`: ID := vcpu_id, LDR := `kvm_apic_calc_x2apic_ldr(vcpu_id)`.
 * - off: x2APIC → xAPIC is rejected for the guest (#GP) but allowed host-initiated (KVM_SET_MSRS);
 *   the model applies it. With EN set, `kvm_apic_set_xapic_id(apic, vcpu_id)` (8 bits); the LDR is
 *   left as the x2APIC value (KVM does not reset it).
 */
export const lapicSetX2apic = (s: LapicState, x2apic: boolean): LapicState => {
  if (x2apic === s.x2apic) return s
  if (x2apic) {
    if (!s.hwEnabled) return s
    return LapicR.update(s, { x2apic: true, id: s.vcpuId, ldr: x2apicLdr(s.vcpuId) })
  }
  return LapicR.update(s, s.hwEnabled ? { x2apic: false, id: s.vcpuId & 0xff } : { x2apic: false })
}

/**
 * IA32_APIC_BASE.EN changed (`__kvm_apic_set_base`): enabling sets the xAPIC ID to vcpu_id
 * (`kvm_apic_set_xapic_id`); disabling also leaves x2APIC mode (EN=0 with EXTD=1 is invalid) and
 * keeps every other register (KVM does not reset the APIC here; real hardware differs, SDM 11.4.3).
 * Not a `LapicEvent` (no event in events.ts toggles EN); for Systems and tests that need it.
 */
export const lapicSetHwEnabled = (s: LapicState, enabled: boolean): LapicState => {
  if (enabled === s.hwEnabled) return s
  return enabled
    ? LapicR.update(s, { hwEnabled: true, id: s.vcpuId & 0xff })
    : LapicR.update(s, { hwEnabled: false, x2apic: false })
}

/** The LAPIC reducer: total over `LapicEvent`; returns the same object when nothing changes. */
export const reduceLapic = (s: LapicState, e: LapicEvent, opts: LapicOptions = {}): LapicState => {
  switch (e._tag) {
    case 'LapicIrqAccepted':
      return lapicAccept(s, e, opts).state
    case 'LapicRegWritten':
      return lapicWriteReg(s, e.reg, e.value)
    case 'LapicModeSet':
      return lapicSetX2apic(s, e.x2apic)
    case 'LapicEoiWritten':
      // `apic_mmio_write` drops the write to a hw-disabled APIC (see lapicWriteReg).
      return s.hwEnabled ? lapicEoi(s).state : s
    case 'LapicInterruptAcked':
      return lapicAck(s).state
  }
}

// ---------------------------------------------------------------- ICR
/** Delivery mode encodings (ICR bits 10:8, SDM 11.6.1; `APIC_DM_*`). 3 is `APIC_DM_REMRD` (not a DeliveryMode). */
const DM_CODES: ReadonlyArray<DeliveryMode | undefined> = ['Fixed', 'LowestPriority', 'SMI', undefined, 'NMI', 'INIT', 'StartUp', 'ExtINT']
const SHORTHANDS: ReadonlyArray<LapicMessage['shorthand']> = ['none', 'self', 'all', 'allButSelf']

/** The 3-bit delivery-mode code of a `DeliveryMode` (also used by IOAPIC entries and MSI data). */
export const deliveryModeCode = (dm: DeliveryMode): number => DM_CODES.indexOf(dm)
/** The `DeliveryMode` of a 3-bit code; throws for 3 (`APIC_DM_REMRD`, KVM's PV-kick "remote read", not modelled). */
export const deliveryModeOf = (code: number): DeliveryMode => {
  const dm = DM_CODES[code & 7]
  if (dm === undefined) throw new RangeError(`delivery mode ${code & 7} (remote read / reserved) is not modelled`)
  return dm
}

/**
 * `kvm_icr_to_lapic_irq` (lapic.c), SDM 11.6.1 (Figure 11-12): vector 7:0, delivery mode 10:8,
 * destination mode 11 (1 = logical), level 14 (`APIC_INT_ASSERT`), trigger 15 (1 = level),
 * shorthand 19:18 (00 none, 01 self, 10 all including self, 11 all excluding self); destination
 * `icr_high` (63:32, x2APIC) or `GET_XAPIC_DEST_FIELD(icr_high)` = bits 63:56 (xAPIC). Other bits
 * (delivery status 12, reserved) are ignored. Throws for delivery mode 3 (see `deliveryModeOf`).
 */
export const decodeIcr = (low: number, high: number, x2apic: boolean): LapicMessage => ({
  vector: low & 0xff,
  deliveryMode: deliveryModeOf((low >>> 8) & 7),
  destMode: (low & 0x800) !== 0 ? 'logical' : 'physical',
  level: (low & 0x4000) !== 0 ? 1 : 0,
  trigger: (low & 0x8000) !== 0 ? 'level' : 'edge',
  shorthand: SHORTHANDS[(low >>> 18) & 3]!,
  dest: x2apic ? high >>> 0 : (high >>> 24) & 0xff,
})

/** The inverse of `decodeIcr` (reserved and status bits zero). Throws if a field does not fit (xAPIC dest > 0xFF). */
export const encodeIcr = (m: LapicMessage, x2apic: boolean): { readonly low: number; readonly high: number } => {
  if (!Number.isInteger(m.vector) || m.vector < 0 || m.vector > 255) throw new RangeError(`vector ${m.vector} is not in 0..255`)
  const maxDest = x2apic ? 0xffffffff : 0xff
  if (!Number.isInteger(m.dest) || m.dest < 0 || m.dest > maxDest) throw new RangeError(`destination ${m.dest} does not fit the ${x2apic ? 'x2APIC' : 'xAPIC'} ICR`)
  const low =
    m.vector |
    (deliveryModeCode(m.deliveryMode) << 8) |
    (m.destMode === 'logical' ? 0x800 : 0) |
    (m.level === 1 ? 0x4000 : 0) |
    (m.trigger === 'level' ? 0x8000 : 0) |
    (SHORTHANDS.indexOf(m.shorthand) << 18)
  return { low: low >>> 0, high: x2apic ? m.dest >>> 0 : (m.dest << 24) >>> 0 }
}
