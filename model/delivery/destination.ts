/**
 * Interrupt-message routing to LAPICs, exactly as KVM computes it.
 *
 * Source: torvalds/linux `arch/x86/kvm/lapic.c` at snapshot 000d75b0b186 (≈v6.18+):
 * `kvm_irq_delivery_to_apic` (lapic.h) → `__kvm_irq_delivery_to_apic`, which first tries
 * `__kvm_irq_delivery_to_apic_fast` over the optimized APIC map (`kvm_recalculate_apic_map`,
 * `kvm_apic_map_get_dest_lapic`, `kvm_apic_map_get_logical_dest`) and falls back to the slow path,
 * a scan of every vCPU with `kvm_apic_match_dest`. The same logic lived in `arch/x86/kvm/irq.c`
 * `kvm_irq_delivery_to_apic` up to ≈v6.17 (snapshot 04c4ca0ae479 read; identical slow path).
 * KVM recalculates the map after every register write that affects it, so computing it fresh
 * from the LAPIC states is exact (modulo the map's RCU races, which this model does not explore).
 *
 * The fast and slow paths do not always agree, and KVM's answer is the fast path's whenever it
 * applies. Two consequences that differ from the SDM:
 * - Logical destinations in the xAPIC map only include software-enabled APICs with a non-zero LDR
 *   (`kvm_recalculate_logical_map`), so an NMI sent in logical mode does not reach a software-disabled
 *   xAPIC, although SDM 11.4.7.2 says such an APIC still accepts NMIs.
 * - LowestPriority with vector hashing in the fast path picks bit `vector % popcount(mask)` of the
 *   destination mask, counting bits with no APIC behind them; if it lands on one, the interrupt is
 *   dropped (`kvm_apic_disabled_lapic_found`).
 *
 * Lowest priority: KVM never does hardware arbitration. Policy `vectorHashing` (module parameter
 * `kvm.vector_hashing`, default true since it was added, ≈v4.8 (recalled)) picks the
 * `(vector % n)`-th candidate; policy `arbitration` (`vector_hashing=0`, and all kernels before it)
 * picks the candidate with the smallest `apic_arb_prio` (`kvm_apic_compare_prio`), first one on ties.
 *
 * Configuration assumed: `kvm->arch.x2apic_format` false (no 32-bit xAPIC-ID API), the x2APIC
 * broadcast quirk on unless `x2apicBroadcastQuirkDisabled`, no MSI redirection hint
 * (`kvm_lowest_prio_delivery` is then just "delivery mode is LowestPriority").
 */
import { Table } from '../core/Table.js'
import {
  APIC_BROADCAST, APIC_DFR_CLUSTER, APIC_DFR_FLAT, X2APIC_BROADCAST, lapicAccept, lapicSwEnabled, type LapicState,
} from '../devices/lapic.js'
import type { LapicMessage } from '../devices/message.js'

export type LowestPriorityPolicy = 'vectorHashing' | 'arbitration'

export interface DeliveryOptions {
  /** Default 'vectorHashing' (`vector_hashing_enabled = true` in lapic.c). */
  readonly lowestPriority?: LowestPriorityPolicy
  /** `KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK` (KVM_CAP_X2APIC_API). Default false: the quirk is active. */
  readonly x2apicBroadcastQuirkDisabled?: boolean
}

export interface Route {
  /** Destination vCPU indices, in the order KVM calls `kvm_apic_set_irq` on them. */
  readonly targets: ReadonlyArray<number>
  /** The message as delivered: the slow path turns a physical-broadcast LowestPriority into Fixed. */
  readonly message: LapicMessage
  /** Which KVM path decided: the optimized map, or the scan with `kvm_apic_match_dest`. */
  readonly path: 'fast' | 'slow'
}

type Lapics = ReadonlyArray<LapicState>

// ---------------------------------------------------------------- kvm_apic_match_dest (slow path)
/** `kvm_apic_broadcast`: mda is the broadcast address of the target's mode. */
const isBroadcastFor = (t: LapicState, mda: number): boolean => mda === (t.x2apic ? X2APIC_BROADCAST : APIC_BROADCAST)

/**
 * `kvm_apic_match_physical_addr`: broadcast matches; in x2APIC mode, or for an MDA that does not
 * fit 8 bits (the "hotplug hack"), compare with the x2APIC ID (= vcpu_id); else with the xAPIC ID.
 */
export const matchPhysical = (t: LapicState, mda: number): boolean => {
  if (isBroadcastFor(t, mda)) return true
  if (t.x2apic || mda > 0xff) return mda === t.vcpuId
  return mda === t.id
}

/**
 * `kvm_apic_match_logical_addr`: broadcast matches. x2APIC: LDR[31:16] == MDA[31:16] and
 * LDR[15:0] & MDA[15:0] != 0. xAPIC, logical ID = LDR[31:24]: flat (DFR 0xFFFFFFFF): ID & MDA != 0;
 * cluster (DFR 0x0FFFFFFF): ID[7:4] == MDA[7:4] and ID[3:0] & MDA[3:0] != 0; any other DFR: no match.
 * (SDM 11.6.2.2.)
 */
export const matchLogical = (t: LapicState, mda: number): boolean => {
  if (isBroadcastFor(t, mda)) return true
  if (t.x2apic) return t.ldr >>> 16 === mda >>> 16 && (t.ldr & mda & 0xffff) !== 0
  const lid = (t.ldr >>> 24) & 0xff
  if (t.dfr === APIC_DFR_FLAT) return (lid & mda) !== 0
  if (t.dfr === APIC_DFR_CLUSTER) return lid >>> 4 === mda >>> 4 && (lid & mda & 0xf) !== 0
  return false
}

/**
 * `kvm_apic_match_dest(vcpu, source, shorthand, dest, dest_mode)` for vCPU `target`, with
 * `kvm_apic_mda`: unless the broadcast quirk is disabled, a non-IPI (no source) message to 0xFF
 * is a broadcast (0xFFFFFFFF) for an x2APIC-mode target. Shorthands: self = target is the source,
 * all = every vCPU, all-but-self = every vCPU but the source (SDM 11.6.1).
 */
export const apicMatchDest = (
  lapics: Lapics, target: number, source: number | undefined, m: LapicMessage, opts: DeliveryOptions = {},
): boolean => {
  const t = lapics[target]!
  const mda = !opts.x2apicBroadcastQuirkDisabled && source === undefined && m.dest === APIC_BROADCAST && t.x2apic
    ? X2APIC_BROADCAST
    : m.dest >>> 0
  switch (m.shorthand) {
    case 'none':
      return m.destMode === 'physical' ? matchPhysical(t, mda) : matchLogical(t, mda)
    case 'self':
      return target === source
    case 'all':
      return true
    case 'allButSelf':
      return target !== source
  }
}

// ---------------------------------------------------------------- the optimized map (fast path)
type LogicalMode = 'swDisabled' | 'x2apic' | 'flat' | 'cluster' | 'mapDisabled'

/** `struct kvm_apic_map`, with vCPU indices for `struct kvm_lapic *`. */
export interface ApicMap {
  readonly maxApicId: number
  /** physical APIC ID → vCPU index (`phys_map`). */
  readonly phys: ReadonlyMap<number, number>
  readonly logicalMode: LogicalMode
  /** `xapic_flat_map[8]`. */
  readonly flat: ReadonlyArray<number | undefined>
  /** `xapic_cluster_map[16][4]`. */
  readonly cluster: ReadonlyArray<ReadonlyArray<number | undefined>>
}

const popcount = (x: number): number => {
  let n = 0
  for (let v = x >>> 0; v !== 0; v = (v & (v - 1)) >>> 0) n++
  return n
}
/** `find_nth_bit(&mask, size, n)`: index of the n-th (0-based) set bit, or -1. */
const nthSetBit = (mask: number, n: number): number => {
  let k = n
  for (let i = 0; i < 32; i++) if (((mask >>> i) & 1) === 1 && k-- === 0) return i
  return -1
}

/**
 * `kvm_recalculate_apic_map` (lapic.c) over the present (hw-enabled) APICs, in vCPU order:
 * - max_apic_id = max(255, largest x2APIC ID);
 * - `kvm_recalculate_phys_map` (x2apic_format off): key = x2APIC ID in x2APIC mode, else the xAPIC
 *   ID; two APICs with the same key make the whole map NULL (returns undefined here);
 * - `kvm_recalculate_logical_map`: skipped for software-disabled APICs and LDR == 0; the first such
 *   APIC fixes the mode (x2APIC / flat if DFR == APIC_DFR_FLAT / cluster otherwise), a different mode
 *   disables the logical map; x2APIC mode reuses phys_map; xAPIC modes place the APIC at bit
 *   ffs(mask)-1 of its cluster, and a mask that is not a power of two or a taken slot disables it.
 */
export const apicMap = (lapics: Lapics): ApicMap | undefined => {
  let maxApicId = 255
  for (const l of lapics) if (l.hwEnabled) maxApicId = Math.max(maxApicId, l.vcpuId)
  const phys = new Map<number, number>()
  let logicalMode: LogicalMode = 'swDisabled'
  const flat: (number | undefined)[] = Array.from({ length: 8 }, () => undefined)
  const cluster: (number | undefined)[][] = Array.from({ length: 16 }, () => Array.from({ length: 4 }, () => undefined))
  for (let i = 0; i < lapics.length; i++) {
    const l = lapics[i]!
    if (!l.hwEnabled) continue
    const physicalId = l.x2apic ? l.vcpuId : l.id
    if (phys.has(physicalId)) return undefined
    phys.set(physicalId, i)

    if (logicalMode === 'mapDisabled' || !lapicSwEnabled(l) || l.ldr === 0) continue
    let ldr = l.ldr
    let mode: LogicalMode
    if (l.x2apic) mode = 'x2apic'
    else {
      ldr = (ldr >>> 24) & 0xff
      mode = l.dfr === APIC_DFR_FLAT ? 'flat' : 'cluster'
    }
    if (logicalMode === 'swDisabled') logicalMode = mode
    else if (logicalMode !== mode) {
      logicalMode = 'mapDisabled'
      continue
    }
    if (l.x2apic) continue
    const slots = mode === 'flat' ? flat : cluster[(ldr >>> 4) & 0xf]!
    const mask = mode === 'flat' ? ldr & 0xff : ldr & 0xf
    if (mask === 0) continue
    const bit = nthSetBit(mask, 0)
    if (popcount(mask) !== 1 || slots[bit] !== undefined) logicalMode = 'mapDisabled'
    else slots[bit] = i
  }
  return { maxApicId, phys, logicalMode, flat, cluster }
}

/**
 * `kvm_apic_map_get_logical_dest`: the cluster (slot → vCPU) and the 16-bit mask addressed by
 * `dest`, or undefined when the logical map is disabled (fall back to the slow path).
 * x2APIC: cluster = phys_map[(dest >> 16) * 16 ..], mask = dest & (0xffff >> (16 - cluster_size)),
 * empty if the offset exceeds max_apic_id. Flat: mask = dest & 0xFF. Cluster: cluster
 * (dest >> 4) & 0xF, mask = dest & 0xF. No software-enabled APIC at all: mask 0.
 */
const logicalDest = (map: ApicMap, dest: number): { readonly slot: (i: number) => number | undefined; readonly mask: number } | undefined => {
  switch (map.logicalMode) {
    case 'swDisabled':
      return { slot: () => undefined, mask: 0 }
    case 'x2apic': {
      const offset = (dest >>> 16) * 16
      if (offset > map.maxApicId) return { slot: () => undefined, mask: 0 }
      const size = Math.min(map.maxApicId - offset + 1, 16)
      return { slot: (i) => map.phys.get(offset + i), mask: dest & (0xffff >>> (16 - size)) }
    }
    case 'flat':
      return { slot: (i) => map.flat[i], mask: dest & 0xff }
    case 'cluster': {
      const c = map.cluster[(dest >>> 4) & 0xf]!
      return { slot: (i) => c[i], mask: dest & 0xf }
    }
    case 'mapDisabled':
      return undefined
  }
}

/** `kvm_apic_is_broadcast_dest`: broadcasts always take the slow path. */
const isBroadcastDest = (lapics: Lapics, source: number | undefined, m: LapicMessage, map: ApicMap, opts: DeliveryOptions): boolean => {
  const dest = m.dest >>> 0
  if (opts.x2apicBroadcastQuirkDisabled) return (dest === APIC_BROADCAST && map.logicalMode !== 'x2apic') || dest === X2APIC_BROADCAST
  const x2apicIpi = source !== undefined && lapics[source]!.x2apic
  return dest === (x2apicIpi ? X2APIC_BROADCAST : APIC_BROADCAST)
}

const arbLowest = (lapics: Lapics, candidates: ReadonlyArray<number>): number | undefined => {
  let lowest: number | undefined
  for (const c of candidates) if (lowest === undefined || lapics[c]!.arbPrio - lapics[lowest]!.arbPrio < 0) lowest = c
  return lowest
}

/**
 * `kvm_apic_map_get_dest_lapic` for a message without shorthand: the targets, or undefined when it
 * "did nothing useful" (no map, broadcast, logical map disabled) and the slow path must run.
 */
const fastTargets = (lapics: Lapics, source: number | undefined, m: LapicMessage, opts: DeliveryOptions): number[] | undefined => {
  if (m.shorthand !== 'none') return undefined
  const map = apicMap(lapics)
  if (map === undefined || isBroadcastDest(lapics, source, m, map, opts)) return undefined
  const dest = m.dest >>> 0
  if (m.destMode === 'physical') {
    if (dest > map.maxApicId) return []
    const t = map.phys.get(dest)
    return t === undefined ? [] : [t]
  }
  const ld = logicalDest(map, dest)
  if (ld === undefined) return undefined
  const present: number[] = []
  for (let i = 0; i < 16; i++) {
    if (((ld.mask >>> i) & 1) === 0) continue
    const t = ld.slot(i)
    if (t !== undefined) present.push(t)
  }
  if (m.deliveryMode !== 'LowestPriority') return present
  if ((opts.lowestPriority ?? 'vectorHashing') === 'arbitration') {
    const lowest = arbLowest(lapics, present)
    return lowest === undefined ? [] : [lowest]
  }
  if (ld.mask === 0) return []
  const t = ld.slot(nthSetBit(ld.mask, m.vector % popcount(ld.mask)))
  return t === undefined ? [] : [t] // kvm_apic_disabled_lapic_found: dropped
}

/**
 * Where KVM delivers message `m` sent by vCPU `source` (an IPI) or by a device (IOAPIC/MSI:
 * `source` undefined): `__kvm_irq_delivery_to_apic`.
 * 1. Fast path (`__kvm_irq_delivery_to_apic_fast`): shorthand self goes to the source (nowhere if
 *    there is none: KVM_BUG_ON); other shorthands, broadcasts, a NULL map and a disabled logical map
 *    fall through; otherwise the map decides (see `fastTargets`).
 * 2. Slow path: a physical LowestPriority to 0xFF becomes Fixed ("apic: phys broadcast and lowest
 *    prio"); every present (hw-enabled) vCPU matching `kvm_apic_match_dest` receives a non-lowest
 *    message; for LowestPriority only software-enabled matches are candidates, and one is chosen by
 *    `kvm_vector_to_index` (the (vector % n)-th candidate in vCPU order) or by arbitration priority.
 */
export const routeMessage = (lapics: Lapics, source: number | undefined, m: LapicMessage, opts: DeliveryOptions = {}): Route => {
  if (m.shorthand === 'self') return { targets: source === undefined ? [] : [source], message: m, path: 'fast' }
  const fast = fastTargets(lapics, source, m, opts)
  if (fast !== undefined) return { targets: fast, message: m, path: 'fast' }

  const message: LapicMessage =
    m.destMode === 'physical' && m.dest >>> 0 === 0xff && m.deliveryMode === 'LowestPriority' ? { ...m, deliveryMode: 'Fixed' } : m
  const lowestPrio = message.deliveryMode === 'LowestPriority'
  const targets: number[] = []
  const candidates: number[] = []
  for (let i = 0; i < lapics.length; i++) {
    const l = lapics[i]!
    if (!l.hwEnabled) continue // kvm_apic_present
    if (!apicMatchDest(lapics, i, source, message, opts)) continue
    if (!lowestPrio) targets.push(i)
    else if (lapicSwEnabled(l)) candidates.push(i)
  }
  if (!lowestPrio) return { targets, message, path: 'slow' }
  if (candidates.length === 0) return { targets: [], message, path: 'slow' }
  const chosen = (opts.lowestPriority ?? 'vectorHashing') === 'arbitration'
    ? arbLowest(lapics, candidates)!
    : candidates[message.vector % candidates.length]!
  return { targets: [chosen], message, path: 'slow' }
}

/** The destination vCPU indices of `m` (see `routeMessage`), in KVM's delivery order. */
export const destinations = (lapics: Lapics, source: number | undefined, m: LapicMessage, opts: DeliveryOptions = {}): number[] =>
  routeMessage(lapics, source, m, opts).targets.slice()

export interface Delivery<L> {
  readonly lapics: L
  /** Every vCPU `kvm_apic_set_irq` was called on. */
  readonly destinations: ReadonlyArray<number>
  /** Those whose `__apic_accept_irq` returned 1 (these are kicked, KVM_REQ_EVENT). */
  readonly delivered: ReadonlyArray<number>
}

/**
 * `kvm_irq_delivery_to_apic`: route `m`, then `__apic_accept_irq` at each destination with the
 * message as routed (a slow-path physical broadcast LowestPriority is accepted as Fixed). Accepts
 * an array or a `Table` of LAPICs and returns the same kind; the same object if no LAPIC changed.
 * Under the 'arbitration' policy acceptance counts `apic_arb_prio`.
 */
export function deliverToApics(lapics: Table<LapicState>, source: number | undefined, m: LapicMessage, opts?: DeliveryOptions): Delivery<Table<LapicState>>
export function deliverToApics(lapics: Lapics, source: number | undefined, m: LapicMessage, opts?: DeliveryOptions): Delivery<Lapics>
export function deliverToApics(
  lapics: Lapics | Table<LapicState>, source: number | undefined, m: LapicMessage, opts: DeliveryOptions = {},
): Delivery<Lapics | Table<LapicState>> {
  const isTable = !Array.isArray(lapics)
  const arr: Lapics = isTable ? (lapics as Table<LapicState>).items : (lapics as Lapics)
  const route = routeMessage(arr, source, m, opts)
  const trackArbPrio = opts.lowestPriority === 'arbitration'
  let out: LapicState[] | undefined
  const delivered: number[] = []
  for (const d of route.targets) {
    const cur = (out ?? arr)[d]!
    const r = lapicAccept(cur, route.message, { trackArbPrio })
    if (r.accepted) delivered.push(d)
    if (r.state !== cur) {
      out ??= arr.slice()
      out[d] = r.state
    }
  }
  if (out === undefined) return { lapics, destinations: route.targets, delivered }
  if (!isTable) return { lapics: out, destinations: route.targets, delivered }
  let t = lapics as Table<LapicState>
  for (const d of route.targets) t = Table.set(t, d, out[d]!)
  return { lapics: t, destinations: route.targets, delivered }
}
