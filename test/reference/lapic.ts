/**
 * NAIVE reference model of KVM's local APIC and of KVM's choice of destination LAPICs for an
 * interrupt message, written from the Intel SDM vol. 3A ch. 11 (APIC) and from torvalds/linux
 * arch/x86/kvm/lapic.c (where KVM's emulation decides), independently of model/devices/lapic.ts
 * and model/delivery/destination.ts. It imports nothing from model/.
 *
 * Style: IRR, ISR and TMR are arrays of 256 booleans; every search is a linear scan; register
 * fields are read and written with division and modulo (./bits.ts), never bitwise operators.
 * Each step copies the state it is given, so inputs are never mutated (callers freeze them).
 *
 * LAPIC rules. SDM = Intel SDM vol. 3A chapter 11 "Advanced Programmable Interrupt Controller (APIC)"
 * as numbered in current editions (editions before ~2021 call it chapter 10, same subsection
 * numbers). KVM function in brackets. Where the SDM is definite this reference follows it, even
 * where KVM does not ("SDM != KVM" below; test/lapic-reference.test.ts skips those cases and says
 * why). Where the SDM leaves a choice ("model-specific", "may") or the input cannot arise on real
 * hardware, it follows KVM and says so. Scope is the Pentium 4 / Xeon (xAPIC) and x2APIC behaviour;
 * the P6/Pentium rules the SDM lists separately are not modelled.
 *  - reset (11.4.7.1) [kvm_lapic_reset]: IRR = ISR = TMR = 0, TPR = 0, LDR = 0, DFR all ones (flat),
 *    SVR 0xFF (software disabled), every LVT masked; xAPIC ID = vcpu id (8 bits), hardware enabled
 *    (IA32_APIC_BASE.EN), xAPIC mode. KVM's quirk LINT0_REENABLED (default on) leaves the reset BSP's
 *    LINT0 = ExtINT unmasked, unlike 11.4.7.1; `lint0Reenabled: false` gives the SDM state.
 *  - PPR (11.8.3.1) [__apic_update_ppr]: ISRV = highest in-service vector (0 if none);
 *    PPR[7:4] = max(TPR[7:4], ISRV[7:4]); PPR[3:0] = TPR[3:0] if TPR[7:4] > ISRV[7:4], 0 if below.
 *    With equal classes the SDM says PPR[3:0] "may be either TPR[3:0] or 0 ... model-specific";
 *    KVM (and this reference) take TPR[3:0]. Delivery depends on the class only, so either is legal.
 *  - deliverable (11.8.3.1, 11.8.4) [apic_has_interrupt_for_ppr]: the highest IRR vector, and only
 *    if its class (bits 7:4) is above the PPR class ("the processor will deliver only those
 *    interrupts that have an interrupt-priority class higher than the processor-priority class").
 *    Nothing if the APIC is hardware-disabled (11.4.3: EN = 0 is a processor without an APIC)
 *    [kvm_apic_has_interrupt: !kvm_apic_present]. No software-enable test: 11.4.7.2 keeps pending
 *    IRR/ISR bits ("held and require masking or handling by the CPU").
 *  - acknowledge (11.8.4) [kvm_apic_ack_interrupt]: "the local APIC clears the highest priority IRR
 *    bit that is set and sets the corresponding ISR bit"; TMR is left alone (read at EOI).
 *  - EOI (11.8.5) [apic_set_eoi]: "the local APIC clears the highest priority bit in the ISR"; if
 *    its TMR bit is set the interrupt was level-triggered and an EOI message goes to the I/O APICs
 *    (11.8.4, last paragraph; 11.8.5). EOI-broadcast suppression (SVR bit 12) is not advertised, so
 *    not modelled. With ISR empty the SDM says nothing; nothing happens (KVM). A write to a
 *    hardware-disabled APIC is dropped (11.4.3: no APIC registers) [apic_mmio_write].
 *  - accept (11.8.4, 11.6.2.4) [__apic_accept_irq]: a Fixed or LowestPriority message sets IRR[v]
 *    and TMR[v] := (trigger is level) ("upon acceptance of an interrupt into the IRR, the
 *    corresponding TMR bit is cleared for edge-triggered interrupts and set for level-triggered");
 *    a vector already in the IRR is accepted and collapses into that bit ("coalesced"; a second
 *    copy may be in the ISR at the same time). LowestPriority first counts apic_arb_prio, only when
 *    asked to (KVM bookkeeping). Not accepted:
 *      - when the APIC is software-disabled (11.4.7.2: it "will respond normally to INIT, NMI, SMI,
 *        and SIPI messages", i.e. not to Fixed/LowestPriority) or hardware-disabled (11.4.3);
 *      - vectors 0..15 (11.5.2: illegal; 11.5.3: "the local APIC will never set an IRR bit in the
 *        range 0 to 15", it sets ESR "Received Illegal Vector" instead; ESR is not modelled).
 *        SDM != KVM: __apic_accept_irq has no such check and sets the IRR bit;
 *      - a level-triggered message with level 0 (KVM drops it). On hardware it cannot arise: the
 *        Level bit must be 1 for every delivery mode but INIT de-assert (11.6.1).
 *    NMI, SMI, INIT, SIPI and ExtINT bypass IRR and ISR (11.8.4 note). NMI: accepted, one pending
 *    NMI (coalesced if one was pending). INIT: accepted unless a level de-assert; the INIT reset
 *    itself (11.4.7.3) happens when the vCPU processes it, which neither this reference nor
 *    model/devices/lapic.ts models. StartUp and SMI: accepted, no APIC state here. ExtINT: not
 *    accepted here (KVM handles it on the PIC path, kvm_apic_accept_pic_intr).
 *  - register writes [kvm_lapic_reg_write], dropped while hardware-disabled (11.4.3):
 *    ID = bits 31:24 (xAPIC only; 11.4.6); TPR = bits 7:0 (11.8.3.1, bits 31:8 reserved);
 *    LDR = bits 31:24 (xAPIC only; 11.6.2.2); DFR = value with bits 27:0 forced to 1 (xAPIC only,
 *    11.6.2.2: reserved, all 1s); SVR = bits 9:0 (11.9: vector 7:0, enable 8, focus 9; bit 12
 *    only with LVR bit 24, not advertised). A write with bit 8 clear masks every LVT, and while
 *    software-disabled a write cannot clear an LVT mask bit (11.4.7.2: "The mask bits for all the
 *    LVT entries are set. Attempts to reset these bits will be ignored."); enabling unmasks nothing.
 *    LVT0 (11.5.1, Figure 11-8): vector 7:0, delivery mode 10:8, polarity 13, trigger 15, mask 16
 *    are written; bit 11 and 31:17 are reserved; delivery status (12) and remote IRR (14) are
 *    read-only, so a write keeps their old value (always 0 here: LINT0 signalling is not modelled).
 *    SDM != KVM: KVM's LINT_MASK (0x1F7FF) lets the guest write bits 12 and 14.
 *  - x2APIC on [kvm_apic_set_x2apic_id] (needs EN, 11.12.5.1): ID = vcpu id, LDR = cluster
 *    (id div 16) in bits 31:16 and bit (id mod 16) in 15:0 (11.12.10.2). Off: 11.12.5.1 makes
 *    x2APIC -> xAPIC with EN = 1 an invalid transition (#GP) for the guest; KVM allows it
 *    host-initiated (KVM_SET_MSRS) and so does this reference, for the routing references below:
 *    xAPIC ID = vcpu id mod 256; LDR kept. Hardware disable (EN = 0) leaves x2APIC mode too and
 *    keeps every register (11.4.3: state "may be lost", so keeping it is allowed); enable resets the
 *    xAPIC ID (KVM).
 *  - PIC interrupts reach this vCPU [kvm_apic_accept_pic_intr] iff the APIC is hardware-disabled
 *    or LVT0 is unmasked with delivery mode ExtINT (7) (11.5.1).
 *
 * Destination rules: see `refRoute`.
 */
import { at, bit, field, filled, highestTrue, withField } from './bits.js'

export type RefDeliveryMode = 'Fixed' | 'LowestPriority' | 'SMI' | 'NMI' | 'INIT' | 'StartUp' | 'ExtINT'
export type RefLapicReg = 'ID' | 'TPR' | 'LDR' | 'DFR' | 'SVR' | 'LVT0'

export interface RefIrq {
  readonly deliveryMode: RefDeliveryMode
  readonly vector: number
  readonly level: 0 | 1
  readonly trigger: 'edge' | 'level'
}

export type RefLapicEvent =
  | ({ readonly _tag: 'LapicIrqAccepted' } & RefIrq)
  | { readonly _tag: 'LapicRegWritten'; readonly reg: RefLapicReg; readonly value: number }
  | { readonly _tag: 'LapicModeSet'; readonly x2apic: boolean }
  | { readonly _tag: 'LapicEoiWritten' }
  | { readonly _tag: 'LapicInterruptAcked' }
  /** Not device events of the model's LapicEvent union, but LAPIC inputs all the same. */
  | { readonly _tag: 'LapicHwEnableSet'; readonly enabled: boolean }
  | { readonly _tag: 'LapicNmiTaken' }

export interface RefLapic {
  readonly vcpuId: number
  readonly id: number
  readonly irr: readonly boolean[]
  readonly isr: readonly boolean[]
  readonly tmr: readonly boolean[]
  readonly tpr: number
  readonly svr: number
  readonly lvt0: number
  readonly ldr: number
  readonly dfr: number
  readonly x2apic: boolean
  readonly hwEnabled: boolean
  readonly nmiPending: boolean
  readonly arbPrio: number
}

export interface RefLapicNotes {
  /** LapicIrqAccepted: __apic_accept_irq's result, and whether it merged with a pending one. */
  accepted?: boolean
  coalesced?: boolean
  /** LapicInterruptAcked: the vector moved to ISR, or -1. */
  acked?: number
  /** LapicEoiWritten: the vector cleared from ISR (-1 if none) and its TMR bit. */
  eoiVector?: number
  eoiLevel?: boolean
}

export interface RefLapicStep {
  readonly state: RefLapic
  readonly notes: RefLapicNotes
}

export interface RefLapicOptions {
  /** Count apic_arb_prio on LowestPriority acceptance (KVM's non-hashing lowest-priority policy). */
  readonly trackArbPrio?: boolean
}

const MASKED = 65536 // LVT bit 16
/** SDM 11.5.2: vectors 0..15 are illegal for the local APIC. */
const FIRST_LEGAL_VECTOR = 16
const EXTINT = 7
const TWO32 = 4294967296

const u32 = (v: number): number => {
  let x = Math.floor(v) % TWO32
  if (x < 0) x += TWO32
  return x
}
/** The priority class of a vector or priority value: bits 7:4. */
const cls = (v: number): number => field(v, 4, 4)

export function refLapicInitial(vcpuId: number, opts: { bsp?: boolean; lint0Reenabled?: boolean } = {}): RefLapic {
  const bsp = opts.bsp ?? vcpuId === 0
  const lint0Extint = bsp && (opts.lint0Reenabled ?? true)
  return {
    vcpuId,
    id: vcpuId % 256,
    irr: filled(256, false),
    isr: filled(256, false),
    tmr: filled(256, false),
    tpr: 0,
    svr: 0xff,
    lvt0: lint0Extint ? EXTINT * 256 : MASKED,
    ldr: 0,
    dfr: TWO32 - 1,
    x2apic: false,
    hwEnabled: true,
    nmiPending: false,
    arbPrio: 0,
  }
}

export function refSwEnabled(s: RefLapic): boolean {
  return bit(s.svr, 8)
}

/**
 * SDM 11.8.3.1: class = max(TPR class, ISRV class); sub-class TPR[3:0] when the TPR class is the
 * higher, 0 when the ISRV class is; equal classes are model-specific (TPR[3:0] here, as KVM).
 */
export function refPpr(s: RefLapic): number {
  const top = highestTrue(s.isr)
  const isrv = top === -1 ? 0 : top
  if (cls(s.tpr) >= cls(isrv)) return s.tpr
  return cls(isrv) * 16
}

/**
 * The vector the CPU would take now, or -1 (SDM 11.8.3.1: class above the PPR class; 11.8.4: the
 * highest IRR bit; 11.4.3: none while hardware-disabled) [kvm_apic_has_interrupt].
 */
export function refHasInterrupt(s: RefLapic): number {
  if (!s.hwEnabled) return -1
  const h = highestTrue(s.irr)
  if (h === -1) return -1
  return cls(h) > cls(refPpr(s)) ? h : -1
}

export function refAcceptPicIntr(s: RefLapic): boolean {
  if (!s.hwEnabled) return true
  return !bit(s.lvt0, 16) && field(s.lvt0, 8, 3) === EXTINT
}

/** kvm_apic_calc_x2apic_ldr, SDM 11.12.10.2: logical x2APIC ID = cluster << 16 | 1 << (id mod 16). */
export function refX2apicLdr(id: number): number {
  return Math.floor(id / 16) * 65536 + Math.pow(2, id % 16)
}

interface Work {
  vcpuId: number
  id: number
  irr: boolean[]
  isr: boolean[]
  tmr: boolean[]
  tpr: number
  svr: number
  lvt0: number
  ldr: number
  dfr: number
  x2apic: boolean
  hwEnabled: boolean
  nmiPending: boolean
  arbPrio: number
}

const copy = (s: RefLapic): Work => ({ ...s, irr: [...s.irr], isr: [...s.isr], tmr: [...s.tmr] })

/** __apic_accept_irq on a working copy. */
function accept(w: Work, m: RefIrq, opts: RefLapicOptions, notes: RefLapicNotes): void {
  notes.accepted = false
  notes.coalesced = false
  switch (m.deliveryMode) {
    case 'LowestPriority':
    case 'Fixed': {
      if (m.deliveryMode === 'LowestPriority' && opts.trackArbPrio === true) w.arbPrio = w.arbPrio + 1
      if (m.trigger === 'level' && m.level === 0) return
      // SDM 11.4.7.2 (software-disabled), 11.4.3 (hardware-disabled)
      if (!(bit(w.svr, 8) && w.hwEnabled)) return
      // SDM 11.5.2 / 11.5.3: an illegal vector (0..15) never reaches the IRR (SDM != KVM)
      if (m.vector < FIRST_LEGAL_VECTOR) return
      // SDM 11.8.4: IRR bit set (collapsing into a pending one), TMR bit := trigger mode
      notes.accepted = true
      notes.coalesced = w.irr[m.vector] === true
      w.tmr[m.vector] = m.trigger === 'level'
      w.irr[m.vector] = true
      return
    }
    case 'NMI':
      notes.accepted = true
      notes.coalesced = w.nmiPending
      w.nmiPending = true
      return
    case 'INIT':
      notes.accepted = m.trigger === 'edge' || m.level === 1
      return
    case 'StartUp':
    case 'SMI':
      notes.accepted = true
      return
    case 'ExtINT':
      return
  }
}

function writeReg(w: Work, reg: RefLapicReg, value: number): void {
  if (!w.hwEnabled) return
  const v = u32(value)
  switch (reg) {
    case 'ID':
      if (!w.x2apic) w.id = field(v, 24, 8)
      return
    case 'TPR':
      w.tpr = field(v, 0, 8)
      return
    case 'LDR':
      if (!w.x2apic) w.ldr = field(v, 24, 8) * 16777216
      return
    case 'DFR':
      if (!w.x2apic) w.dfr = withField(v, 0, 28, 268435455)
      return
    case 'SVR':
      // SDM 11.9 (bits 9:0), 11.4.7.2 (software disable sets every LVT mask bit)
      w.svr = field(v, 0, 10)
      if (!bit(v, 8)) w.lvt0 = withField(w.lvt0, 16, 1, 1)
      return
    case 'LVT0': {
      let x = v
      if (!bit(w.svr, 8)) x = withField(x, 16, 1, 1) // SDM 11.4.7.2: the mask cannot be cleared
      // SDM 11.5.1 (Figure 11-8): written: bits 0-7 (vector), 8-10 (mode), 13 (polarity), 15 (trigger),
      // 16 (mask); read-only, kept from the old value: 12 (delivery status), 14 (remote IRR) (SDM != KVM,
      // whose LINT_MASK makes them writable); bit 11 and 17-31 reserved (0).
      let out = 0
      for (const b of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 15, 16]) if (bit(x, b)) out += Math.pow(2, b)
      for (const b of [12, 14]) if (bit(w.lvt0, b)) out += Math.pow(2, b)
      w.lvt0 = out
      return
    }
  }
}

export function refLapicStep(s: RefLapic, e: RefLapicEvent, opts: RefLapicOptions = {}): RefLapicStep {
  const w = copy(s)
  const notes: RefLapicNotes = {}
  switch (e._tag) {
    case 'LapicIrqAccepted':
      accept(w, e, opts, notes)
      break
    case 'LapicRegWritten':
      writeReg(w, e.reg, e.value)
      break
    case 'LapicModeSet':
      if (e.x2apic === w.x2apic) break
      if (e.x2apic) {
        if (!w.hwEnabled) break // EXTD without EN is an invalid mode
        w.x2apic = true
        w.id = w.vcpuId
        w.ldr = refX2apicLdr(w.vcpuId)
      } else {
        w.x2apic = false
        if (w.hwEnabled) w.id = w.vcpuId % 256
      }
      break
    case 'LapicHwEnableSet':
      if (e.enabled === w.hwEnabled) break
      w.hwEnabled = e.enabled
      if (e.enabled) w.id = w.vcpuId % 256
      else w.x2apic = false
      break
    case 'LapicEoiWritten': {
      // SDM 11.8.5: clear the highest ISR bit; its TMR bit says level (EOI message to the I/O APICs)
      const v = w.hwEnabled ? highestTrue(w.isr) : -1
      notes.eoiVector = v
      notes.eoiLevel = v === -1 ? false : w.tmr[v] === true
      if (v !== -1) w.isr[v] = false
      break
    }
    case 'LapicInterruptAcked': {
      // SDM 11.8.4: the highest deliverable IRR bit moves to the ISR; TMR unchanged
      const v = refHasInterrupt(s)
      notes.acked = v
      if (v !== -1) {
        w.irr[v] = false
        w.isr[v] = true
      }
      break
    }
    case 'LapicNmiTaken':
      w.nmiPending = false
      break
  }
  return { state: w, notes }
}

// ============================================================================ destinations

export interface RefMessage {
  readonly vector: number
  readonly deliveryMode: RefDeliveryMode
  readonly destMode: 'physical' | 'logical'
  readonly dest: number
  readonly trigger: 'edge' | 'level'
  readonly level: 0 | 1
  readonly shorthand: 'none' | 'self' | 'all' | 'allButSelf'
}

export interface RefRouteOptions {
  /** 'vectorHashing' (kvm.vector_hashing=1, the default) or 'arbitration' (lowest apic_arb_prio). */
  readonly lowestPriority?: 'vectorHashing' | 'arbitration'
  /** KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK. */
  readonly x2apicBroadcastQuirkDisabled?: boolean
}

/** How the reference decided, for coverage counting. */
export type RefRouteKind =
  | 'self' | 'all' | 'allButSelf' | 'broadcast' | 'physical' | 'logical-flat' | 'logical-cluster' | 'x2apic-cluster'
  | 'logical-none' | 'logical-slow'

export interface RefRoute {
  readonly targets: number[]
  /** The message as accepted (a physical broadcast LowestPriority in the scan becomes Fixed). */
  readonly message: RefMessage
  readonly path: 'map' | 'scan'
  readonly kind: RefRouteKind
}

const XAPIC_BROADCAST = 255
const X2APIC_BROADCAST = TWO32 - 1
const DFR_FLAT = TWO32 - 1
const DFR_CLUSTER = 268435455 // 0x0FFFFFFF

/** The ID an APIC answers to physically: the x2APIC ID (= vcpu id) in x2APIC mode, else the xAPIC ID. */
const physicalId = (a: RefLapic): number => (a.x2apic ? a.vcpuId : a.id)

/** SDM 11.6.2.1 plus KVM's rules [kvm_apic_match_physical_addr]. */
function matchesPhysical(a: RefLapic, mda: number): boolean {
  if (mda === (a.x2apic ? X2APIC_BROADCAST : XAPIC_BROADCAST)) return true
  // KVM's hotplug hack: an MDA that cannot be an xAPIC ID is compared with the x2APIC ID
  if (a.x2apic || mda > 255) return mda === a.vcpuId
  return mda === a.id
}

/** SDM 11.6.2.2 (flat / cluster) and 11.12.10.2 (x2APIC cluster) [kvm_apic_match_logical_addr]. */
function matchesLogical(a: RefLapic, mda: number): boolean {
  if (mda === (a.x2apic ? X2APIC_BROADCAST : XAPIC_BROADCAST)) return true
  if (a.x2apic) {
    if (field(a.ldr, 16, 16) !== field(mda, 16, 16)) return false
    for (let b = 0; b < 16; b++) if (bit(a.ldr, b) && bit(mda, b)) return true
    return false
  }
  const logicalId = field(a.ldr, 24, 8)
  if (a.dfr === DFR_FLAT) {
    for (let b = 0; b < 8; b++) if (bit(logicalId, b) && bit(mda, b)) return true
    return false
  }
  if (a.dfr === DFR_CLUSTER) {
    if (field(logicalId, 4, 4) !== field(mda, 4, 28)) return false // every MDA bit above 3 names the cluster
    for (let b = 0; b < 4; b++) if (bit(logicalId, b) && bit(mda, b)) return true
    return false
  }
  return false // KVM recognises no other DFR model
}

/** Does vCPU `i` take the message in the scan [kvm_apic_match_dest, kvm_apic_mda]? */
function scanMatches(apics: readonly RefLapic[], i: number, source: number | undefined, m: RefMessage, opts: RefRouteOptions): boolean {
  const a = at(apics, i)
  switch (m.shorthand) {
    case 'self':
      return i === source
    case 'all':
      return true
    case 'allButSelf':
      return i !== source
    case 'none': {
      let mda = u32(m.dest)
      // the x2APIC broadcast quirk: a device message (no source) to 0xFF broadcasts to x2APIC targets
      if (opts.x2apicBroadcastQuirkDisabled !== true && source === undefined && mda === XAPIC_BROADCAST && a.x2apic) mda = X2APIC_BROADCAST
      return m.destMode === 'physical' ? matchesPhysical(a, mda) : matchesLogical(a, mda)
    }
  }
}

/** KVM's optimized map (kvm_recalculate_apic_map), as plain arrays. */
interface RefMap {
  readonly maxApicId: number
  /** physical ID -> vCPU index */
  readonly byPhysicalId: ReadonlyMap<number, number>
  readonly logical: 'none' | 'x2apic' | 'flat' | 'cluster' | 'disabled'
  /** flat: 8 slots; cluster: 16 clusters x 4 slots, indexed cluster * 4 + slot */
  readonly slots: readonly (number | undefined)[]
}

/** undefined when two present APICs share a physical ID (KVM then has no map at all). */
function buildMap(apics: readonly RefLapic[]): RefMap | undefined {
  let maxApicId = 255
  for (const a of apics) if (a.hwEnabled && a.vcpuId > maxApicId) maxApicId = a.vcpuId
  const byPhysicalId = new Map<number, number>()
  for (let i = 0; i < apics.length; i++) {
    const a = at(apics, i)
    if (!a.hwEnabled) continue
    if (byPhysicalId.has(physicalId(a))) return undefined
    byPhysicalId.set(physicalId(a), i)
  }
  // logical map: only software-enabled APICs with a non-zero LDR take part; all must agree on the model
  let logical: RefMap['logical'] = 'none'
  const slots: (number | undefined)[] = filled(64, undefined)
  for (let i = 0; i < apics.length; i++) {
    const a = at(apics, i)
    if (!a.hwEnabled || !refSwEnabled(a) || a.ldr === 0) continue
    const mode = a.x2apic ? 'x2apic' : a.dfr === DFR_FLAT ? 'flat' : 'cluster'
    if (logical === 'none') logical = mode
    else if (logical !== mode) return { maxApicId, byPhysicalId, logical: 'disabled', slots }
    if (mode === 'x2apic') continue // x2APIC logical IDs are derived from the physical ones
    const logicalId = field(a.ldr, 24, 8)
    const bits: number[] = []
    const width = mode === 'flat' ? 8 : 4
    for (let b = 0; b < width; b++) if (bit(logicalId, b)) bits.push(b)
    if (bits.length === 0) continue
    const slot = (mode === 'flat' ? 0 : field(logicalId, 4, 4) * 4) + at(bits, 0)
    if (bits.length !== 1 || slots[slot] !== undefined) return { maxApicId, byPhysicalId, logical: 'disabled', slots }
    slots[slot] = i
  }
  return { maxApicId, byPhysicalId, logical, slots }
}

/**
 * Where KVM delivers message `m` from vCPU `source` (undefined: a device, i.e. IOAPIC or MSI)
 * [__kvm_irq_delivery_to_apic, __kvm_irq_delivery_to_apic_fast, kvm_apic_map_get_dest_lapic]:
 *  1. shorthand self: the source (nothing without one).
 *  2. KVM's map decides when there is a map (no two present APICs with one physical ID), no other
 *     shorthand, the destination is not a broadcast (0xFF, or 0xFFFFFFFF from an x2APIC IPI; with
 *     the quirk disabled, 0xFFFFFFFF, or 0xFF unless the logical map is x2APIC), and, for a logical
 *     destination, a usable logical map (all software-enabled APICs with a non-zero LDR in one
 *     model, and each xAPIC logical ID a single bit in a free slot):
 *      - physical: the present APIC with that physical ID (nothing above max_apic_id);
 *      - logical x2APIC: cluster dest[31:16], members cluster*16 + i for bits i of dest[15:0] that
 *        exist (the map holds every present APIC by physical ID);
 *        flat: slot i for bits i of dest[7:0]; cluster: cluster dest[7:4], slot i for bits of dest[3:0];
 *        with no software-enabled APIC with a non-zero LDR: nobody;
 *      - LowestPriority picks one: vector hashing = the (vector mod k)-th set bit of the k-bit
 *        destination mask (nobody if no APIC is there); arbitration = the smallest apic_arb_prio.
 *     Targets come in bit order.
 *  3. Otherwise every present APIC (vCPU order) that matches (SDM 11.6.2, `scanMatches`); a
 *     physical LowestPriority to 0xFF becomes Fixed; for LowestPriority only software-enabled
 *     matches are candidates and one is chosen: the (vector mod n)-th, or the smallest arb prio.
 * Present means hardware-enabled (kvm_apic_present).
 */
export function refRoute(apics: readonly RefLapic[], source: number | undefined, m: RefMessage, opts: RefRouteOptions = {}): RefRoute {
  const hashing = (opts.lowestPriority ?? 'vectorHashing') === 'vectorHashing'
  if (m.shorthand === 'self') return { targets: source === undefined ? [] : [source], message: m, path: 'map', kind: 'self' }
  const dest = u32(m.dest)
  const map = m.shorthand === 'none' ? buildMap(apics) : undefined
  let broadcast: boolean
  if (opts.x2apicBroadcastQuirkDisabled === true) broadcast = dest === X2APIC_BROADCAST || (dest === XAPIC_BROADCAST && map?.logical !== 'x2apic')
  else broadcast = dest === (source !== undefined && at(apics, source).x2apic ? X2APIC_BROADCAST : XAPIC_BROADCAST)
  const lowest = m.deliveryMode === 'LowestPriority'
  const lowestArb = (cands: readonly number[]): number[] => {
    let best: number | undefined
    for (const c of cands) if (best === undefined || at(apics, c).arbPrio < at(apics, best).arbPrio) best = c
    return best === undefined ? [] : [best]
  }

  if (map !== undefined && !broadcast && (m.destMode === 'physical' || (map.logical !== 'disabled'))) {
    if (m.destMode === 'physical') {
      const t = dest > map.maxApicId ? undefined : map.byPhysicalId.get(dest)
      return { targets: t === undefined ? [] : [t], message: m, path: 'map', kind: 'physical' }
    }
    // logical: the destination mask and the APIC behind each bit
    let maskBits: number[] = []
    let slotOf: (b: number) => number | undefined = () => undefined
    let kind: RefRouteKind = 'logical-flat'
    if (map.logical === 'x2apic') {
      kind = 'x2apic-cluster'
      const first = field(dest, 16, 16) * 16
      if (first <= map.maxApicId) {
        const size = Math.min(map.maxApicId - first + 1, 16)
        for (let b = 0; b < size; b++) if (bit(dest, b)) maskBits.push(b)
        slotOf = (b) => map.byPhysicalId.get(first + b)
      }
    } else if (map.logical === 'flat') {
      for (let b = 0; b < 8; b++) if (bit(dest, b)) maskBits.push(b)
      slotOf = (b) => map.slots[b]
    } else if (map.logical === 'cluster') {
      kind = 'logical-cluster'
      const c = field(dest, 4, 4)
      for (let b = 0; b < 4; b++) if (bit(dest, b)) maskBits.push(b)
      slotOf = (b) => map.slots[c * 4 + b]
    } else {
      kind = 'logical-none' // no software-enabled APIC has a logical ID: nobody
    }
    const present: number[] = []
    for (const b of maskBits) {
      const t = slotOf(b)
      if (t !== undefined) present.push(t)
    }
    if (!lowest) return { targets: present, message: m, path: 'map', kind }
    if (!hashing) return { targets: lowestArb(present), message: m, path: 'map', kind }
    if (maskBits.length === 0) return { targets: [], message: m, path: 'map', kind }
    const t = slotOf(at(maskBits, m.vector % maskBits.length))
    return { targets: t === undefined ? [] : [t], message: m, path: 'map', kind }
  }

  // the scan
  let kind: RefRouteKind
  if (m.shorthand !== 'none') kind = m.shorthand
  else if (broadcast) kind = 'broadcast'
  else kind = m.destMode === 'physical' ? 'physical' : 'logical-slow'
  const msg: RefMessage = m.destMode === 'physical' && dest === XAPIC_BROADCAST && lowest ? { ...m, deliveryMode: 'Fixed' } : m
  const stillLowest = msg.deliveryMode === 'LowestPriority'
  const matched: number[] = []
  const candidates: number[] = []
  for (let i = 0; i < apics.length; i++) {
    if (!at(apics, i).hwEnabled) continue
    if (!scanMatches(apics, i, source, msg, opts)) continue
    matched.push(i)
    if (refSwEnabled(at(apics, i))) candidates.push(i)
  }
  if (!stillLowest) return { targets: matched, message: msg, path: 'scan', kind }
  if (candidates.length === 0) return { targets: [], message: msg, path: 'scan', kind }
  if (!hashing) return { targets: lowestArb(candidates), message: msg, path: 'scan', kind }
  return { targets: [at(candidates, msg.vector % candidates.length)], message: msg, path: 'scan', kind }
}

/** kvm_irq_delivery_to_apic: route, then accept at every target (in order); `delivered` = accepted. */
export function refDeliver(
  apics: readonly RefLapic[], source: number | undefined, m: RefMessage, opts: RefRouteOptions = {},
): { readonly apics: RefLapic[]; readonly route: RefRoute; readonly delivered: number[] } {
  const route = refRoute(apics, source, m, opts)
  const out = [...apics]
  const delivered: number[] = []
  const track = opts.lowestPriority === 'arbitration'
  for (const t of route.targets) {
    const r = refLapicStep(at(out, t), { _tag: 'LapicIrqAccepted', ...route.message }, { trackArbPrio: track })
    if (r.notes.accepted === true) delivered.push(t)
    out[t] = r.state
  }
  return { apics: out, route, delivered }
}
