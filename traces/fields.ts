/**
 * Field decoders and printers of the KVM tracepoints, per kernel version.
 *
 * `decodeFields(event, text)` turns the field text of one record (what `TP_printk` printed, after
 * `event: `) into the typed fields of its observation, accepting every documented variant of that
 * event's format; `printFields(tag, fields)` prints fields back exactly as the kernel would (the
 * inverse, used by the round-trip property test, the benchmark generator and trace mutation).
 *
 * Decoders are strict: the whole text must match one documented format (trailing whitespace
 * aside), and values must fit the field (a `vec` of 300 is an error). A failure names the formats
 * that were expected. Formats and their versions are cited per event; the sources are
 * `../shared/traces/host/FORMATS-kvm-pvm-6.18.md` (current, read from tracefs),
 * `../shared/traces/public/FORMATS.md` and spec §1.7 (older), `hyperv-synic-arm-vgic.md` A.8 (Hyper-V) and
 * B.6 (arm64, verified against `arch/arm64/kvm/trace_arm.h`, `vgic/trace.h`).
 *
 * Why regular expressions per variant: the formats are fixed strings with `%` conversions; one
 * anchored expression per variant is the most direct transcription of a `TP_printk` and is fast
 * (≈1 µs per line). Hex and decimal conversions are kept apart exactly as printed (`%x` vs `%u`),
 * because reading one as the other gives wrong vectors (`kvm_msi_set_irq` changed `vec %x` to `vec %u`).
 */
import type {
  FieldsOf, KvmApicAcceptIrqFields, KvmEoiFields, KvmHvStimerFields, KvmTimerStateFields, RoutingFields, TracepointTag,
} from './Observation.js'
import {
  apicRegisterOffset, deliveryModeCode, irqchipNames, isDeliveryMode, kvmIoctlName, shorthands,
  type DeliveryModeName, type ShorthandName,
} from './symbols.js'

// ---------------------------------------------------------------- results

/** A decoded record: the variant tag and its fields. */
export type Decoded = { readonly [T in TracepointTag]: { readonly tag: T; readonly fields: FieldsOf<T> } }[TracepointTag]

/** Why fields did not decode. */
export interface DecodeFailure {
  readonly _tag: 'DecodeFailure'
  readonly reason: string
}

export interface DecodeOptions {
  /**
   * How to read a `kvm_msi_set_irq` line that is valid in both the current (`dst %llx vec %u`) and the
   * older (`dst %u vec %x`) format with different values. Default `'current'`; the other reading is
   * kept in `alternative` either way.
   */
  readonly msiFormat?: 'current' | 'old'
}

const fail = (reason: string): DecodeFailure => ({ _tag: 'DecodeFailure', reason })
export const isDecodeFailure = (d: Decoded | DecodeFailure): d is DecodeFailure => '_tag' in d

// TypeScript cannot correlate a generic `T` with the member of the `Decoded` union it selects; the
// pair is correct by construction (`fields: FieldsOf<T>` is checked at every call site).
const ok = <T extends TracepointTag>(tag: T, fields: FieldsOf<T>): Decoded => ({ tag, fields }) as unknown as Decoded

// ---------------------------------------------------------------- number helpers

const dec = (s: string): number => Number(s)
const hex = (s: string): number => parseInt(s, 16)
const big = (s: string): bigint => BigInt(`0x${s}`)
const bigDec = (s: string): bigint => BigInt(s)
const inRange = (n: number, lo: number, hi: number): boolean => Number.isSafeInteger(n) && n >= lo && n <= hi
const U8 = 0xff
const U16 = 0xffff
const U32 = 0xffffffff
const I32 = 0x7fffffff
const BIG_U64 = (1n << 64n) - 1n

/** Check integer fields; returns the first out-of-range one as a failure reason. */
const ranges = (checks: ReadonlyArray<readonly [string, number, number, number]>): string | undefined => {
  for (const [name, v, lo, hi] of checks) if (!inRange(v, lo, hi)) return `${name} ${v} is out of range ${lo}..${hi}`
  return undefined
}
const bigRange = (name: string, v: bigint): string | undefined => (v > BIG_U64 ? `${name} 0x${v.toString(16)} does not fit in 64 bits` : undefined)

const h = (n: number | bigint): string => n.toString(16)
const pad = (n: number | bigint, width: number): string => n.toString(16).padStart(width, '0')

// ---------------------------------------------------------------- reconstruction of register images

/** The IOAPIC redirection entry bits the tracepoints print (see `KvmIoapicSetIrqFields.e`). */
export const ioapicEntryOf = (f: RoutingFields & { readonly masked: boolean }): bigint =>
  (BigInt(f.dst & 0xff) << 56n) |
  (f.masked ? 1n << 16n : 0n) |
  (f.trigger === 'level' ? 1n << 15n : 0n) |
  (f.destMode === 'logical' ? 1n << 11n : 0n) |
  (BigInt(deliveryModeCode(f.deliveryMode)) << 8n) |
  BigInt(f.vec & 0xff)

/** The MSI address bits `kvm_msi_set_irq` prints (see `KvmMsiSetIrqFields.address`). */
export const msiAddressOf = (f: { readonly dst: number; readonly destMode: 'physical' | 'logical'; readonly redirectionHint: boolean }): bigint =>
  0xfee00000n |
  (BigInt(f.dst & 0xff) << 12n) |
  (BigInt((f.dst >>> 0) & 0xffffff00) << 32n) |
  (f.destMode === 'logical' ? 1n << 2n : 0n) |
  (f.redirectionHint ? 1n << 3n : 0n)

/** The MSI data bits `kvm_msi_set_irq` prints. */
export const msiDataOf = (f: { readonly vec: number; readonly deliveryMode: DeliveryModeName; readonly trigger: 'edge' | 'level' }): number =>
  ((f.vec & 0xff) | (deliveryModeCode(f.deliveryMode) << 8) | (f.trigger === 'level' ? 1 << 15 : 0)) >>> 0

/** The ICR low word bits `kvm_apic_ipi` prints (see `KvmApicIpiFields.icrLow`). */
export const icrLowOf = (f: {
  readonly vec: number; readonly deliveryMode: DeliveryModeName; readonly destMode: 'physical' | 'logical'
  readonly assert: boolean; readonly trigger: 'edge' | 'level'; readonly shorthand: ShorthandName
}): number =>
  ((f.vec & 0xff) |
    (deliveryModeCode(f.deliveryMode) << 8) |
    (f.destMode === 'logical' ? 1 << 11 : 0) |
    (f.assert ? 1 << 14 : 0) |
    (f.trigger === 'level' ? 1 << 15 : 0) |
    (shorthands.indexOf(f.shorthand) << 18)) >>> 0

// ---------------------------------------------------------------- decoders

type Decoder = (text: string, options: DecodeOptions) => Decoded | DecodeFailure

const dm = (s: string | undefined): DeliveryModeName | undefined => (s !== undefined && isDeliveryMode(s) ? s : undefined)
const g = (m: RegExpExecArray, i: number): string => m[i] ?? ''
const expected = (...formats: string[]): DecodeFailure =>
  fail(`fields do not match ${formats.length > 1 ? 'any of ' : ''}${formats.map((f) => `"${f}"`).join(', ')}`)

// kvm_set_irq: "gsi %u level %d source %d" (all versions)
const RE_SET_IRQ = /^gsi (\d+) level (-?\d+) source (-?\d+)$/
const decodeSetIrq: Decoder = (t) => {
  const m = RE_SET_IRQ.exec(t)
  if (!m) return expected('gsi %u level %d source %d')
  const f = { gsi: dec(g(m, 1)), level: dec(g(m, 2)), source: dec(g(m, 3)) }
  const r = ranges([['gsi', f.gsi, 0, U32], ['level', f.level, -I32 - 1, I32], ['source', f.source, -I32 - 1, I32]])
  return r ? fail(r) : ok('KvmSetIrq', f)
}

// kvm_pic_set_irq: "chip %u pin %u (%s%s)%s" (all versions)
const RE_PIC = /^chip (\d+) pin (\d+) \((edge|level)(\|masked)?\)( \(coalesced\))?$/
const decodePic: Decoder = (t) => {
  const m = RE_PIC.exec(t)
  if (!m) return expected('chip %u pin %u (edge|level[|masked])[ (coalesced)]')
  const f = { chip: dec(g(m, 1)), pin: dec(g(m, 2)), elcr: m[3] === 'level', imr: m[4] !== undefined, coalesced: m[5] !== undefined }
  const r = ranges([['chip', f.chip, 0, 1], ['pin', f.pin, 0, 7]])
  return r ? fail(r) : ok('KvmPicSetIrq', f)
}

// kvm_ioapic_set_irq: "pin %u dst %x vec %u (%s|%s|%s%s)%s"; ≈3.x "… vec=%u …"
const RE_IOAPIC = /^pin (\d+) dst ([0-9a-f]+) vec(=| )(\d+) \((\w+)\|(physical|logical)\|(edge|level)(\|masked)?\)( \(coalesced\))?$/
const decodeIoapic: Decoder = (t) => {
  const m = RE_IOAPIC.exec(t)
  const mode = m ? dm(m[5]) : undefined
  if (!m || !mode) return expected('pin %u dst %x vec %u (Fixed|physical|edge[|masked])[ (coalesced)]', 'pin %u dst %x vec=%u (…)')
  const routing: RoutingFields & { masked: boolean } = {
    dst: hex(g(m, 2)), vec: dec(g(m, 4)), deliveryMode: mode,
    destMode: m[6] === 'logical' ? 'logical' : 'physical', trigger: m[7] === 'level' ? 'level' : 'edge', masked: m[8] !== undefined,
  }
  const pin = dec(g(m, 1))
  const r = ranges([['pin', pin, 0, I32], ['dst', routing.dst, 0, U8], ['vec', routing.vec, 0, U8]])
  if (r) return fail(r)
  return ok('KvmIoapicSetIrq', {
    pin, ...routing, coalesced: m[9] !== undefined, e: ioapicEntryOf(routing), ...(m[3] === '=' ? { variant: 'vec=' as const } : {}),
  })
}

// kvm_ioapic_delayed_eoi_inj: "dst %x vec %u (%s|%s|%s%s)"
const RE_DELAYED = /^dst ([0-9a-f]+) vec (\d+) \((\w+)\|(physical|logical)\|(edge|level)(\|masked)?\)$/
const decodeDelayed: Decoder = (t) => {
  const m = RE_DELAYED.exec(t)
  const mode = m ? dm(m[3]) : undefined
  if (!m || !mode) return expected('dst %x vec %u (Fixed|physical|edge[|masked])')
  const routing: RoutingFields & { masked: boolean } = {
    dst: hex(g(m, 1)), vec: dec(g(m, 2)), deliveryMode: mode,
    destMode: m[4] === 'logical' ? 'logical' : 'physical', trigger: m[5] === 'level' ? 'level' : 'edge', masked: m[6] !== undefined,
  }
  const r = ranges([['dst', routing.dst, 0, U8], ['vec', routing.vec, 0, U8]])
  return r ? fail(r) : ok('KvmIoapicDelayedEoiInj', { ...routing, e: ioapicEntryOf(routing) })
}

// kvm_msi_set_irq: current "dst %llx vec %u (%s|%s|%s%s)"; older "dst %u vec %x (…)"
const RE_MSI = /^dst ([0-9a-f]+) vec ([0-9a-f]+) \((\w+)\|(physical|logical)\|(edge|level)(\|rh)?\)$/
const decodeMsi: Decoder = (t, options) => {
  const m = RE_MSI.exec(t)
  const mode = m ? dm(m[3]) : undefined
  if (!m || !mode) return expected('dst %llx vec %u (Fixed|physical|edge[|rh])', 'dst %u vec %x (…)')
  const dstText = g(m, 1)
  const vecText = g(m, 2)
  const decimal = /^\d+$/
  // current: dst hex (≤ 32 bits), vec decimal ≤ 255; old: dst decimal (u32), vec hex ≤ 0xff
  const cur = decimal.test(vecText) && dec(vecText) <= U8 && hex(dstText) <= U32 ? { dst: hex(dstText), vec: dec(vecText) } : undefined
  const old = decimal.test(dstText) && dec(dstText) <= U32 && hex(vecText) <= U8 ? { dst: dec(dstText), vec: hex(vecText) } : undefined
  if (!cur && !old) return fail(`dst ${dstText} vec ${vecText}: no reading fits (current: dst hex, vec decimal ≤ 255; old: dst decimal, vec hex ≤ 0xff)`)
  const same = cur !== undefined && old !== undefined && cur.dst === old.dst && cur.vec === old.vec
  const preferOld = options.msiFormat === 'old'
  const useOld = cur === undefined || (old !== undefined && preferOld && !same)
  const chosen = useOld ? old : cur
  if (!chosen) return fail('unreachable')
  const other = same ? undefined : useOld ? cur : old
  const base = {
    dst: chosen.dst, vec: chosen.vec, deliveryMode: mode,
    destMode: m[4] === 'logical' ? ('logical' as const) : ('physical' as const),
    trigger: m[5] === 'level' ? ('level' as const) : ('edge' as const),
    redirectionHint: m[6] !== undefined,
  }
  return ok('KvmMsiSetIrq', {
    ...base,
    address: msiAddressOf(base),
    data: msiDataOf(base),
    ...(useOld ? { variant: 'old' as const } : {}),
    ...(other ? { alternative: { dst: other.dst, vec: other.vec, variant: useOld ? ('current' as const) : ('old' as const) } } : {}),
  })
}

// kvm_apic_ipi: "dst %x vec %u (%s|%s|%s|%s|%s)"
const RE_IPI = /^dst ([0-9a-f]+) vec (\d+) \((\w+)\|(physical|logical)\|(assert|de-assert)\|(edge|level)\|(dst|self|all|all-but-self)\)$/
const decodeIpi: Decoder = (t) => {
  const m = RE_IPI.exec(t)
  const mode = m ? dm(m[3]) : undefined
  if (!m || !mode) return expected('dst %x vec %u (Fixed|physical|assert|edge|dst)')
  const f = {
    destId: hex(g(m, 1)), vec: dec(g(m, 2)), deliveryMode: mode,
    destMode: m[4] === 'logical' ? ('logical' as const) : ('physical' as const), assert: m[5] === 'assert',
    trigger: m[6] === 'level' ? ('level' as const) : ('edge' as const), shorthand: g(m, 7) as ShorthandName,
  }
  const r = ranges([['dst', f.destId, 0, U32], ['vec', f.vec, 0, U8]])
  return r ? fail(r) : ok('KvmApicIpi', { ...f, icrLow: icrLowOf(f) })
}

// kvm_apic_accept_irq / kvm_apicv_accept_irq: "apicid %x vec %u (%s|%s)"; ≤≈v5.3 "…%s" with " (coalesced)"
const RE_ACCEPT = /^apicid ([0-9a-f]+) vec (\d+) \((\w+)\|(edge|level)\)( \(coalesced\))?$/
const acceptFields = (t: string): KvmApicAcceptIrqFields | DecodeFailure => {
  const m = RE_ACCEPT.exec(t)
  const mode = m ? dm(m[3]) : undefined
  if (!m || !mode) return expected('apicid %x vec %u (Fixed|edge)[ (coalesced)]')
  const f = { apicid: hex(g(m, 1)), vec: dec(g(m, 2)), deliveryMode: mode, trigger: m[4] === 'level' ? ('level' as const) : ('edge' as const) }
  const r = ranges([['apicid', f.apicid, 0, U32], ['vec', f.vec, 0, U8]])
  return r ? fail(r) : m[5] !== undefined ? { ...f, coalesced: true } : f
}
const decodeAccept: Decoder = (t) => {
  const f = acceptFields(t)
  return '_tag' in f ? f : ok('KvmApicAcceptIrq', f)
}
const decodeApicvAccept: Decoder = (t) => {
  const f = acceptFields(t)
  return '_tag' in f ? f : ok('KvmApicvAcceptIrq', f)
}

// kvm_inj_virq: ≈v6.0+ "%s 0x%x%s" (IRQ | Soft/INTn, " [reinjected]"); before "irq %u"
const RE_INJ_NEW = /^(IRQ|Soft\/INTn) 0x([0-9a-f]+)( \[reinjected\])?$/
const RE_INJ_OLD = /^irq (\d+)$/
const decodeInjVirq: Decoder = (t) => {
  let m = RE_INJ_NEW.exec(t)
  if (m) {
    const vector = hex(g(m, 2))
    const r = ranges([['vector', vector, 0, U8]])
    return r ? fail(r) : ok('KvmInjVirq', { vector, soft: m[1] !== 'IRQ', reinjected: m[3] !== undefined })
  }
  m = RE_INJ_OLD.exec(t)
  if (m) {
    const vector = dec(g(m, 1))
    const r = ranges([['vector', vector, 0, U8]])
    return r ? fail(r) : ok('KvmInjVirq', { vector, variant: 'irq' })
  }
  return expected('IRQ 0x%x[ [reinjected]]', 'Soft/INTn 0x%x[ [reinjected]]', 'irq %u')
}

// kvm_inj_exception: "%s%s%s%s%s": name, " (" error ")", " [reinjected]"
const RE_INJ_EXC = /^(#[A-Z]{2}|0x[0-9a-f]+|\d+)(?: \(0x([0-9a-f]+)\))?( \[reinjected\])?$/
const decodeInjException: Decoder = (t) => {
  const m = RE_INJ_EXC.exec(t)
  if (!m) return expected('#XX[ (0x%x)][ [reinjected]]')
  return ok('KvmInjException', {
    exception: g(m, 1), ...(m[2] !== undefined ? { errorCode: hex(m[2]) } : {}), reinjected: m[3] !== undefined,
  })
}

// kvm_eoi / kvm_pv_eoi: "apicid %x vector %d"
const RE_EOI = /^apicid ([0-9a-f]+) vector (-?\d+)$/
const eoiFields = (t: string): KvmEoiFields | DecodeFailure => {
  const m = RE_EOI.exec(t)
  if (!m) return expected('apicid %x vector %d')
  const f = { apicid: hex(g(m, 1)), vector: dec(g(m, 2)) }
  const r = ranges([['apicid', f.apicid, 0, U32], ['vector', f.vector, -1, U8]])
  return r ? fail(r) : f
}
const decodeEoi: Decoder = (t) => {
  const f = eoiFields(t)
  return '_tag' in f ? f : ok('KvmEoi', f)
}
const decodePvEoi: Decoder = (t) => {
  const f = eoiFields(t)
  return '_tag' in f ? f : ok('KvmPvEoi', f)
}

// kvm_ack_irq: "irqchip %s pin %u" (PIC master | PIC slave | IOAPIC); without kvm_irqchips "irqchip %d pin %u"
const RE_ACK = /^irqchip (PIC master|PIC slave|IOAPIC|-?\d+) pin (\d+)$/
const chipKinds = ['pic-master', 'pic-slave', 'ioapic'] as const
const decodeAck: Decoder = (t) => {
  const m = RE_ACK.exec(t)
  if (!m) return expected('irqchip PIC master|PIC slave|IOAPIC pin %u', 'irqchip %d pin %u')
  const name = g(m, 1)
  const named = irqchipNames.indexOf(name)
  const chipId = named >= 0 ? named : dec(name)
  const pin = dec(g(m, 2))
  const r = ranges([['pin', pin, 0, U32]])
  if (r) return fail(r)
  return ok('KvmAckIrq', {
    irqchip: chipKinds[chipId] ?? 'other', chipId, pin, ...(named < 0 ? { variant: 'numeric' as const } : {}),
  })
}

// kvm_apic: "apic_%s %s = 0x%llx" (≤v5.x "= 0x%x")
const RE_APIC = /^apic_(read|write) (APIC_[A-Z0-9_]+|0x[0-9a-f]+) = 0x([0-9a-f]+)$/
const decodeApic: Decoder = (t) => {
  const m = RE_APIC.exec(t)
  if (!m) return expected('apic_read|apic_write APIC_XXX = 0x%llx')
  const reg = g(m, 2)
  const value = big(g(m, 3))
  const r = bigRange('value', value)
  if (r) return fail(r)
  return ok('KvmApic', {
    rw: m[1] === 'write' ? 'write' : 'read', reg, offset: reg.startsWith('0x') ? hex(reg.slice(2)) : apicRegisterOffset(reg), value,
  })
}

// kvm_msr: "msr_%s %x = 0x%llx%s"
const RE_MSR = /^msr_(read|write) ([0-9a-f]+) = 0x([0-9a-f]+)( \(#GP\))?$/
const decodeMsr: Decoder = (t) => {
  const m = RE_MSR.exec(t)
  if (!m) return expected('msr_read|msr_write %x = 0x%llx[ (#GP)]')
  const msr = hex(g(m, 2))
  const data = big(g(m, 3))
  const r = ranges([['msr', msr, 0, U32]]) ?? bigRange('data', data)
  return r ? fail(r) : ok('KvmMsr', { rw: m[1] === 'write' ? 'write' : 'read', msr, data, gp: m[4] !== undefined })
}

// kvm_mmio: "mmio %s len %u gpa 0x%llx val 0x%llx"
const RE_MMIO = /^mmio (unsatisfied-read|read|write) len (\d+) gpa 0x([0-9a-f]+) val 0x([0-9a-f]+)$/
const decodeMmio: Decoder = (t) => {
  const m = RE_MMIO.exec(t)
  if (!m) return expected('mmio read|write|unsatisfied-read len %u gpa 0x%llx val 0x%llx')
  const f = { type: g(m, 1) as 'unsatisfied-read' | 'read' | 'write', len: dec(g(m, 2)), gpa: big(g(m, 3)), val: big(g(m, 4)) }
  const r = ranges([['len', f.len, 0, U32]]) ?? bigRange('gpa', f.gpa) ?? bigRange('val', f.val)
  return r ? fail(r) : ok('KvmMmio', f)
}

// kvm_pio: "pio_%s at 0x%x size %d count %d val 0x%x %s" ("(...)" when count > 1); very old: no val
const RE_PIO = /^pio_(read|write) at 0x([0-9a-f]+) size (\d+) count (\d+)(?: val 0x([0-9a-f]+)(?: \(\.\.\.\))?)?$/
const decodePio: Decoder = (t) => {
  const m = RE_PIO.exec(t)
  if (!m) return expected('pio_read|pio_write at 0x%x size %d count %d val 0x%x [(...)]', 'pio_%s at 0x%x size %d count %d')
  const f = { rw: m[1] === 'write' ? ('write' as const) : ('read' as const), port: hex(g(m, 2)), size: dec(g(m, 3)), count: dec(g(m, 4)) }
  const val = m[5] !== undefined ? hex(m[5]) : undefined
  const r = ranges([['port', f.port, 0, U16], ['size', f.size, 0, I32], ['count', f.count, 0, I32], ['val', val ?? 0, 0, U32]])
  return r ? fail(r) : ok('KvmPio', val !== undefined ? { ...f, val } : f)
}

// kvm_userspace_exit: "reason %s (%d)"
const RE_UEXIT = /^reason (\S+) \((-?\d+)\)$/
const decodeUserspaceExit: Decoder = (t) => {
  const m = RE_UEXIT.exec(t)
  if (!m) return expected('reason KVM_EXIT_XXX (%d)', 'reason restart|error (%d)')
  const reason = g(m, 1)
  const code = dec(g(m, 2))
  // The name and the number are printed from the same fields (kvm_main.c's trace_kvm_userspace_exit(reason,
  // errno); include/trace/events/kvm.h prints __print_symbolic(reason, kvm_trace_exit_reason) then reason,
  // or "restart" for errno -EINTR and "error" for other errors, then -errno): they must agree.
  const want = reason === 'restart' ? 4 : EXIT_REASON_CODE.get(reason)
  if (want !== undefined && code !== want) return fail(`reason ${reason} is printed with ${want}, not ${code} (the name and the number come from the same field)`)
  return ok('KvmUserspaceExit', { reason, code })
}

/** include/uapi/linux/kvm.h KVM_EXIT_* numbers (the kvm_trace_exit_reason table of the tracepoint). */
const EXIT_REASON_CODE = new Map(['UNKNOWN', 'EXCEPTION', 'IO', 'HYPERCALL', 'DEBUG', 'HLT', 'MMIO', 'IRQ_WINDOW_OPEN', 'SHUTDOWN', 'FAIL_ENTRY', 'INTR', 'SET_TPR', 'TPR_ACCESS', 'S390_SIEIC', 'S390_RESET', 'DCR', 'NMI', 'INTERNAL_ERROR', 'OSI', 'PAPR_HCALL', 'S390_UCONTROL', 'WATCHDOG', 'S390_TSCH', 'EPR', 'SYSTEM_EVENT', 'S390_STSI', 'IOAPIC_EOI', 'HYPERV', 'ARM_NISV', 'X86_RDMSR', 'X86_WRMSR'].map((n, i) => [`KVM_EXIT_${n}`, i]))

// kvm_vcpu_wakeup: "%s time %lld ns, polling %s"; older "%s time %lld ns"
const RE_WAKE = /^(wait|poll) time (\d+) ns(?:, polling (valid|invalid))?$/
const decodeWakeup: Decoder = (t) => {
  const m = RE_WAKE.exec(t)
  if (!m) return expected('wait|poll time %lld ns, polling valid|invalid', 'wait|poll time %lld ns')
  const f = { waited: m[1] === 'wait', ns: dec(g(m, 2)) }
  const r = ranges([['ns', f.ns, 0, Number.MAX_SAFE_INTEGER]])
  return r ? fail(r) : ok('KvmVcpuWakeup', m[3] !== undefined ? { ...f, valid: m[3] === 'valid' } : f)
}

// kvm_apicv_inhibit_changed: "%s reason=%u, inhibits=0x%lx" (+ " NAME|NAME" since 2024, only when inhibits ≠ 0)
const RE_INHIBIT = /^(set|cleared) reason=(\d+), inhibits=0x([0-9a-f]+)(?: ([A-Za-z0-9_]+(?:\|[A-Za-z0-9_]+)*))?$/
const decodeInhibit: Decoder = (t) => {
  const m = RE_INHIBIT.exec(t)
  if (!m) return expected('set|cleared reason=%u, inhibits=0x%lx[ NAME|NAME…]')
  const f = { set: m[1] === 'set', reason: dec(g(m, 2)), inhibits: hex(g(m, 3)) }
  const r = ranges([['reason', f.reason, 0, 63], ['inhibits', f.inhibits, 0, Number.MAX_SAFE_INTEGER]])
  if (r) return fail(r)
  return ok('KvmApicvInhibitChanged', m[4] !== undefined ? { ...f, names: m[4].split('|') } : f)
}

// kvm_entry (x86): "vcpu %u" (≤≈v5.8) | "vcpu %u, rip 0x%lx" | "…[immediate exit]" (≈v6.9+)
//   | 6.18: "vcpu %u, rip 0x%lx intr_info 0x%08x error_code 0x%08x%s"; arm64: "PC: 0x%016lx"
const RE_ENTRY_OLD = /^vcpu (\d+)$/
const RE_ENTRY = /^vcpu (\d+), rip 0x([0-9a-f]+)(?: intr_info 0x([0-9a-f]+) error_code 0x([0-9a-f]+))?(\[immediate exit\])?$/
const RE_ENTRY_ARM = /^PC: 0x([0-9a-f]+)$/
const decodeEntry: Decoder = (t) => {
  let m = RE_ENTRY.exec(t)
  if (m) {
    const vcpu = dec(g(m, 1))
    const rip = big(g(m, 2))
    const intr = m[3] !== undefined ? { intrInfo: hex(m[3]), errorCode: hex(g(m, 4)) } : {}
    const r = ranges([['vcpu', vcpu, 0, U32], ['intr_info', intr.intrInfo ?? 0, 0, U32], ['error_code', intr.errorCode ?? 0, 0, U32]]) ?? bigRange('rip', rip)
    if (r) return fail(r)
    return ok('KvmEntry', { vcpu, rip, ...intr, ...(m[5] !== undefined ? { immediateExit: true as const } : {}) })
  }
  m = RE_ENTRY_OLD.exec(t)
  if (m) {
    const vcpu = dec(g(m, 1))
    const r = ranges([['vcpu', vcpu, 0, U32]])
    return r ? fail(r) : ok('KvmEntry', { vcpu })
  }
  m = RE_ENTRY_ARM.exec(t)
  if (m) {
    const pc = big(g(m, 1))
    const r = bigRange('pc', pc)
    return r ? fail(r) : ok('KvmEntryArm64', { pc })
  }
  return expected('vcpu %u, rip 0x%lx[ intr_info 0x%08x error_code 0x%08x][[immediate exit]]', 'vcpu %u', 'PC: 0x%016lx (arm64)')
}

// kvm_exit (x86): current | 6.18 (+ requests) | ≤≈v5.15 and plugin_kvm "reason %s rip 0x%lx info %llx %llx"
//   | ≈2.6.3x "reason %s rip 0x%lx"; arm64: "%s: HSR_EC: 0x%04x (%s), PC: 0x%016lx"
const RE_EXIT_CUR = /^vcpu (\d+) reason (.+?) rip 0x([0-9a-f]+) info1 0x([0-9a-f]+) info2 0x([0-9a-f]+) intr_info 0x([0-9a-f]+) error_code 0x([0-9a-f]+)(?: requests 0x([0-9a-f]+))?$/
const RE_EXIT_LEGACY = /^reason (.+?) rip 0x([0-9a-f]+) info ([0-9a-f]+) ([0-9a-f]+)$/
const RE_EXIT_ANCIENT = /^reason (\S+(?: excp)?) rip 0x([0-9a-f]+)$/
const RE_EXIT_ARM = /^([A-Z_]+): [HE]SR_EC: 0x([0-9a-f]+) \(([^()]*)\), PC: 0x([0-9a-f]+)$/
const splitReason = (s: string): { reason: string; failedVmentry?: true } =>
  s.endsWith(' FAILED_VMENTRY') ? { reason: s.slice(0, -' FAILED_VMENTRY'.length), failedVmentry: true } : { reason: s }
const decodeExit: Decoder = (t) => {
  let m = RE_EXIT_CUR.exec(t)
  if (m) {
    const vcpu = dec(g(m, 1))
    const f = {
      vcpu, ...splitReason(g(m, 2)), rip: big(g(m, 3)), info1: big(g(m, 4)), info2: big(g(m, 5)),
      intrInfo: hex(g(m, 6)), errorCode: hex(g(m, 7)), ...(m[8] !== undefined ? { requests: big(m[8]) } : {}),
    }
    const r = ranges([['vcpu', vcpu, 0, U32], ['intr_info', f.intrInfo, 0, U32], ['error_code', f.errorCode, 0, U32]]) ??
      bigRange('rip', f.rip) ?? bigRange('info1', f.info1) ?? bigRange('info2', f.info2) ?? bigRange('requests', f.requests ?? 0n)
    return r ? fail(r) : ok('KvmExit', f)
  }
  m = RE_EXIT_LEGACY.exec(t)
  if (m) {
    const f = { ...splitReason(g(m, 1)), rip: big(g(m, 2)), info1: big(g(m, 3)), info2: big(g(m, 4)) }
    const r = bigRange('rip', f.rip) ?? bigRange('info1', f.info1) ?? bigRange('info2', f.info2)
    return r ? fail(r) : ok('KvmExit', f)
  }
  m = RE_EXIT_ANCIENT.exec(t)
  if (m) {
    const f = { ...splitReason(g(m, 1)), rip: big(g(m, 2)) }
    const r = bigRange('rip', f.rip)
    return r ? fail(r) : ok('KvmExit', f)
  }
  m = RE_EXIT_ARM.exec(t)
  if (m) {
    const f = { exceptionType: g(m, 1), esrEc: hex(g(m, 2)), esrEcName: g(m, 3), pc: big(g(m, 4)) }
    const r = ranges([['HSR_EC', f.esrEc, 0, U16]]) ?? bigRange('pc', f.pc)
    return r ? fail(r) : ok('KvmExitArm64', f)
  }
  return expected(
    'vcpu %u reason %s rip 0x%lx info1 0x%016llx info2 0x%016llx intr_info 0x%08x error_code 0x%08x[ requests 0x%016llx]',
    'reason %s rip 0x%lx info %llx %llx', 'reason %s rip 0x%lx', '%s: HSR_EC: 0x%04x (%s), PC: 0x%016lx (arm64)',
  )
}

// kvm_nested_vmexit_inject: TP_printk or libtraceevent plugin_kvm form
const RE_NVI_TP = /^reason: (.+?) ext_inf1: 0x([0-9a-f]+) ext_inf2: 0x([0-9a-f]+) ext_int: 0x([0-9a-f]+) ext_int_err: 0x([0-9a-f]+)$/
const RE_NVI_PLUGIN = /^reason (.+?) info1 ([0-9a-f]+) info2 ([0-9a-f]+) int_info ([0-9a-f]+) int_info_err ([0-9a-f]+)$/
const decodeNestedVmexitInject: Decoder = (t) => {
  const tp = RE_NVI_TP.exec(t)
  const m = tp ?? RE_NVI_PLUGIN.exec(t)
  if (!m) return expected('reason: %s ext_inf1: 0x%016llx ext_inf2: 0x%016llx ext_int: 0x%08x ext_int_err: 0x%08x', 'reason %s info1 %llx info2 %llx int_info %x int_info_err %x')
  const f = { reason: g(m, 1), info1: big(g(m, 2)), info2: big(g(m, 3)), intInfo: hex(g(m, 4)), intInfoErr: hex(g(m, 5)) }
  const r = ranges([['int_info', f.intInfo, 0, U32], ['int_info_err', f.intInfoErr, 0, U32]]) ?? bigRange('info1', f.info1) ?? bigRange('info2', f.info2)
  if (r) return fail(r)
  return ok('KvmNestedVmexitInject', tp ? f : { ...f, variant: 'plugin' })
}

// kvm_nested_intr_vmexit: "rip: 0x%016llx"
const RE_NIV = /^rip: 0x([0-9a-f]+)$/
const decodeNestedIntrVmexit: Decoder = (t) => {
  const m = RE_NIV.exec(t)
  if (!m) return expected('rip: 0x%016llx')
  const rip = big(g(m, 1))
  const r = bigRange('rip', rip)
  return r ? fail(r) : ok('KvmNestedIntrVmexit', { rip })
}

// kvm_nested_vmenter (≈v5.x+)
const RE_NVE = /^rip: 0x([0-9a-f]+) (vmcs|vmcb): 0x([0-9a-f]+) nested_rip: 0x([0-9a-f]+) int_ctl: 0x([0-9a-f]+) event_inj: 0x([0-9a-f]+) nested_(ept|npt)=(y|n) (guest_cr3|nested_eptp|nested_cr3): 0x([0-9a-f]+)$/
const decodeNestedVmenter: Decoder = (t) => {
  const m = RE_NVE.exec(t)
  if (!m) return expected('rip: 0x%016llx vmcs|vmcb: 0x%016llx nested_rip: 0x%016llx int_ctl: 0x%08x event_inj: 0x%08x nested_ept|npt=y|n guest_cr3|nested_eptp|nested_cr3: 0x%016llx')
  const f = {
    rip: big(g(m, 1)), isa: m[2] === 'vmcs' ? ('vmx' as const) : ('svm' as const), vmcb: big(g(m, 3)), nestedRip: big(g(m, 4)),
    intCtl: hex(g(m, 5)), eventInj: hex(g(m, 6)), tdp: m[8] === 'y', pgd: big(g(m, 10)),
  }
  const r = ranges([['int_ctl', f.intCtl, 0, U32], ['event_inj', f.eventInj, 0, U32]]) ??
    bigRange('rip', f.rip) ?? bigRange('vmcb', f.vmcb) ?? bigRange('nested_rip', f.nestedRip) ?? bigRange('pgd', f.pgd)
  return r ? fail(r) : ok('KvmNestedVmenter', f)
}

// kvm_nested_vmrun (SVM, before the rename to kvm_nested_vmenter)
const RE_NVR = /^rip: 0x([0-9a-f]+) vmcb: 0x([0-9a-f]+) nrip: 0x([0-9a-f]+) int_ctl: 0x([0-9a-f]+) event_inj: 0x([0-9a-f]+) npt: (on|off)$/
const decodeNestedVmrun: Decoder = (t) => {
  const m = RE_NVR.exec(t)
  if (!m) return expected('rip: 0x%016llx vmcb: 0x%016llx nrip: 0x%016llx int_ctl: 0x%08x event_inj: 0x%08x npt: on|off')
  const f = { rip: big(g(m, 1)), vmcb: big(g(m, 2)), nestedRip: big(g(m, 3)), intCtl: hex(g(m, 4)), eventInj: hex(g(m, 5)), npt: m[6] === 'on' }
  const r = ranges([['int_ctl', f.intCtl, 0, U32], ['event_inj', f.eventInj, 0, U32]]) ??
    bigRange('rip', f.rip) ?? bigRange('vmcb', f.vmcb) ?? bigRange('nrip', f.nestedRip)
  return r ? fail(r) : ok('KvmNestedVmrun', f)
}

// ---- Hyper-V SynIC / stimers (A.8; no real lines exist: formats only)
const I = '(-?\\d+)'
const RE_HV_SET_IRQ = new RegExp(`^vcpu_id ${I} sint (\\d+) vector ${I} ret ${I}$`)
const RE_HV_SEND_EOI = new RegExp(`^vcpu_id ${I} vector ${I}$`)
const RE_HV_SET_MSR = new RegExp(`^vcpu_id ${I} msr 0x([0-9a-f]+) data 0x([0-9a-f]+) host (\\d+)$`)
const RE_HV_ACKED = new RegExp(`^vcpu_id ${I} sint (\\d+)$`)
const RE_HV_CONFIG = new RegExp(`^vcpu_id ${I} timer ${I} config 0x([0-9a-f]+) host (\\d+)$`)
const RE_HV_COUNT = new RegExp(`^vcpu_id ${I} timer ${I} count (\\d+) host (\\d+)$`)
const RE_HV_PERIODIC = new RegExp(`^vcpu_id ${I} timer ${I} time_now (\\d+) exp_time (\\d+)$`)
const RE_HV_ONE_SHOT = new RegExp(`^vcpu_id ${I} timer ${I} time_now (\\d+) count (\\d+)$`)
const RE_HV_TIMER = new RegExp(`^vcpu_id ${I} timer ${I}$`)
const RE_HV_EXPIRATION = new RegExp(`^vcpu_id ${I} timer ${I} direct (\\d+) send result ${I}$`)
const i32 = (name: string, v: number): readonly [string, number, number, number] => [name, v, -I32 - 1, I32]

const decodeHvSetIrq: Decoder = (t) => {
  const m = RE_HV_SET_IRQ.exec(t)
  if (!m) return expected('vcpu_id %d sint %u vector %d ret %d')
  const f = { vcpuId: dec(g(m, 1)), sint: dec(g(m, 2)), vector: dec(g(m, 3)), ret: dec(g(m, 4)) }
  const r = ranges([i32('vcpu_id', f.vcpuId), ['sint', f.sint, 0, U32], i32('vector', f.vector), i32('ret', f.ret)])
  return r ? fail(r) : ok('KvmHvSynicSetIrq', f)
}
const decodeHvSendEoi: Decoder = (t) => {
  const m = RE_HV_SEND_EOI.exec(t)
  if (!m) return expected('vcpu_id %d vector %d')
  const f = { vcpuId: dec(g(m, 1)), vector: dec(g(m, 2)) }
  const r = ranges([i32('vcpu_id', f.vcpuId), i32('vector', f.vector)])
  return r ? fail(r) : ok('KvmHvSynicSendEoi', f)
}
const decodeHvSetMsr: Decoder = (t) => {
  const m = RE_HV_SET_MSR.exec(t)
  if (!m) return expected('vcpu_id %d msr 0x%x data 0x%llx host %d')
  const f = { vcpuId: dec(g(m, 1)), msr: hex(g(m, 2)), data: big(g(m, 3)), host: m[4] !== '0' }
  const r = ranges([i32('vcpu_id', f.vcpuId), ['msr', f.msr, 0, U32]]) ?? bigRange('data', f.data)
  return r ? fail(r) : ok('KvmHvSynicSetMsr', f)
}
const decodeHvAcked: Decoder = (t) => {
  const m = RE_HV_ACKED.exec(t)
  if (!m) return expected('vcpu_id %d sint %u')
  const f = { vcpuId: dec(g(m, 1)), sint: dec(g(m, 2)) }
  const r = ranges([i32('vcpu_id', f.vcpuId), ['sint', f.sint, 0, U32]])
  return r ? fail(r) : ok('KvmHvNotifyAckedSint', f)
}
const decodeHvConfig: Decoder = (t) => {
  const m = RE_HV_CONFIG.exec(t)
  if (!m) return expected('vcpu_id %d timer %d config 0x%llx host %d')
  const f = { vcpuId: dec(g(m, 1)), timer: dec(g(m, 2)), config: big(g(m, 3)), host: m[4] !== '0' }
  const r = ranges([i32('vcpu_id', f.vcpuId), i32('timer', f.timer)]) ?? bigRange('config', f.config)
  return r ? fail(r) : ok('KvmHvStimerSetConfig', f)
}
const decodeHvCount: Decoder = (t) => {
  const m = RE_HV_COUNT.exec(t)
  if (!m) return expected('vcpu_id %d timer %d count %llu host %d')
  const f = { vcpuId: dec(g(m, 1)), timer: dec(g(m, 2)), count: bigDec(g(m, 3)), host: m[4] !== '0' }
  const r = ranges([i32('vcpu_id', f.vcpuId), i32('timer', f.timer)]) ?? bigRange('count', f.count)
  return r ? fail(r) : ok('KvmHvStimerSetCount', f)
}
const decodeHvPeriodic: Decoder = (t) => {
  const m = RE_HV_PERIODIC.exec(t)
  if (!m) return expected('vcpu_id %d timer %d time_now %llu exp_time %llu')
  const f = { vcpuId: dec(g(m, 1)), timer: dec(g(m, 2)), timeNow: bigDec(g(m, 3)), expTime: bigDec(g(m, 4)) }
  const r = ranges([i32('vcpu_id', f.vcpuId), i32('timer', f.timer)]) ?? bigRange('time_now', f.timeNow) ?? bigRange('exp_time', f.expTime)
  return r ? fail(r) : ok('KvmHvStimerStartPeriodic', f)
}
const decodeHvOneShot: Decoder = (t) => {
  const m = RE_HV_ONE_SHOT.exec(t)
  if (!m) return expected('vcpu_id %d timer %d time_now %llu count %llu')
  const f = { vcpuId: dec(g(m, 1)), timer: dec(g(m, 2)), timeNow: bigDec(g(m, 3)), count: bigDec(g(m, 4)) }
  const r = ranges([i32('vcpu_id', f.vcpuId), i32('timer', f.timer)]) ?? bigRange('time_now', f.timeNow) ?? bigRange('count', f.count)
  return r ? fail(r) : ok('KvmHvStimerStartOneShot', f)
}
const hvTimerFields = (t: string): KvmHvStimerFields | DecodeFailure => {
  const m = RE_HV_TIMER.exec(t)
  if (!m) return expected('vcpu_id %d timer %d')
  const f = { vcpuId: dec(g(m, 1)), timer: dec(g(m, 2)) }
  const r = ranges([i32('vcpu_id', f.vcpuId), i32('timer', f.timer)])
  return r ? fail(r) : f
}
const decodeHvCallback: Decoder = (t) => {
  const f = hvTimerFields(t)
  return '_tag' in f ? f : ok('KvmHvStimerCallback', f)
}
const decodeHvCleanup: Decoder = (t) => {
  const f = hvTimerFields(t)
  return '_tag' in f ? f : ok('KvmHvStimerCleanup', f)
}
const decodeHvExpiration: Decoder = (t) => {
  const m = RE_HV_EXPIRATION.exec(t)
  if (!m) return expected('vcpu_id %d timer %d direct %d send result %d')
  const f = { vcpuId: dec(g(m, 1)), timer: dec(g(m, 2)), direct: m[3] !== '0', sendResult: dec(g(m, 4)) }
  const r = ranges([i32('vcpu_id', f.vcpuId), i32('timer', f.timer), i32('send result', f.sendResult)])
  return r ? fail(r) : ok('KvmHvStimerExpiration', f)
}

// ---- syscalls: sys_enter_ioctl "fd: 0x%08lx, cmd: 0x%08lx, arg: 0x%08lx"; sys_exit_ioctl "0x%lx"
const RE_IOCTL = /^fd: 0x([0-9a-f]+), cmd: 0x([0-9a-f]+), arg: 0x([0-9a-f]+)$/
const decodeIoctl: Decoder = (t) => {
  const m = RE_IOCTL.exec(t)
  if (!m) return expected('fd: 0x%08lx, cmd: 0x%08lx, arg: 0x%08lx')
  const fd = hex(g(m, 1))
  const cmd = hex(g(m, 2))
  const arg = big(g(m, 3))
  const r = ranges([['fd', fd, 0, U32], ['cmd', cmd, 0, U32]]) ?? bigRange('arg', arg)
  return r ? fail(r) : ok('SysEnterIoctl', { fd, cmd, arg, name: kvmIoctlName(cmd) })
}
const RE_IOCTL_RET = /^0x([0-9a-f]+)$/
const decodeIoctlRet: Decoder = (t) => {
  const m = RE_IOCTL_RET.exec(t)
  if (!m) return expected('0x%lx')
  const v = big(g(m, 1))
  if (v > BIG_U64) return fail('ret does not fit in 64 bits')
  const signed = v >= 1n << 63n ? v - (1n << 64n) : v
  if (signed > BigInt(Number.MAX_SAFE_INTEGER) || signed < BigInt(Number.MIN_SAFE_INTEGER)) return fail(`ret ${signed} is not a safe integer`)
  return ok('SysExitIoctl', { ret: Number(signed) })
}

// ---- arm64 (B.6; verified against arch/arm64/kvm/trace_arm.h, vgic/trace.h, trace_handle_exit.h)
const RE_VGIC = /^VCPU: (-?\d+), IRQ (\d+), level: (-?\d+)$/
const RE_TIMER_IRQ = /^VCPU: (-?\d+), IRQ (\d+), level (-?\d+)$/
const RE_IRQ_LINE = /^Inject (CPU|VGIC PPI|VGIC SPI|UNKNOWN) interrupt \((\d+)\), vcpu->idx: (-?\d+), num: (-?\d+), level: (-?\d+)$/
const RE_TIMER_MAP = /^VCPU: (-?\d+), dv: (-?\d+), dp: (-?\d+), ep: (-?\d+)$/
const RE_TIMER_STATE = /^CTL: (0x[0-9a-f]+|0+) CVAL: +(0x[0-9a-f]+|0) arch_timer_ctx_index: (-?\d+)$/
const RE_TIMER_EXPIRE = /^arch_timer_ctx_index: (-?\d+)$/
const RE_TIMER_EMULATE = /^arch_timer_ctx_index: (-?\d+) \(should_fire: (\d+)\)$/
const RE_WFX = /^guest executed wf([ei])(t)? at: 0x([0-9a-f]+)$/
const hashX = (s: string): bigint => (s.startsWith('0x') ? big(s.slice(2)) : 0n)

const decodeVgic: Decoder = (t) => {
  const m = RE_VGIC.exec(t)
  if (!m) return expected('VCPU: %ld, IRQ %d, level: %d')
  const f = { vcpu: dec(g(m, 1)), irq: dec(g(m, 2)), level: dec(g(m, 3)) }
  const r = ranges([['VCPU', f.vcpu, -I32 - 1, U32], ['IRQ', f.irq, 0, U32], i32('level', f.level)])
  return r ? fail(r) : ok('VgicUpdateIrqPending', f)
}
const decodeTimerIrq: Decoder = (t) => {
  const m = RE_TIMER_IRQ.exec(t)
  if (!m) return expected('VCPU: %ld, IRQ %d, level %d')
  const f = { vcpu: dec(g(m, 1)), irq: dec(g(m, 2)), level: dec(g(m, 3)) }
  const r = ranges([['VCPU', f.vcpu, -I32 - 1, U32], ['IRQ', f.irq, 0, U32], i32('level', f.level)])
  return r ? fail(r) : ok('KvmTimerUpdateIrq', f)
}
const decodeIrqLine: Decoder = (t) => {
  const m = RE_IRQ_LINE.exec(t)
  if (!m) return expected('Inject %s interrupt (%d), vcpu->idx: %d, num: %d, level: %d')
  const f = { irqType: g(m, 1), typeId: dec(g(m, 2)), vcpuIdx: dec(g(m, 3)), num: dec(g(m, 4)), level: dec(g(m, 5)) }
  const r = ranges([['type', f.typeId, 0, U32], i32('vcpu->idx', f.vcpuIdx), i32('num', f.num), i32('level', f.level)])
  return r ? fail(r) : ok('KvmIrqLine', f)
}
const decodeTimerMap: Decoder = (t) => {
  const m = RE_TIMER_MAP.exec(t)
  if (!m) return expected('VCPU: %ld, dv: %d, dp: %d, ep: %d')
  const f = { vcpu: dec(g(m, 1)), directVtimer: dec(g(m, 2)), directPtimer: dec(g(m, 3)), emulPtimer: dec(g(m, 4)) }
  const r = ranges([['VCPU', f.vcpu, -I32 - 1, U32], i32('dv', f.directVtimer), i32('dp', f.directPtimer), i32('ep', f.emulPtimer)])
  return r ? fail(r) : ok('KvmGetTimerMap', f)
}
const timerStateFields = (t: string): KvmTimerStateFields | DecodeFailure => {
  const m = RE_TIMER_STATE.exec(t)
  if (!m) return expected('CTL: %#08lx CVAL: %#16llx arch_timer_ctx_index: %d')
  const ctl = hashX(g(m, 1))
  const f = { ctl: Number(ctl), cval: hashX(g(m, 2)), timerIndex: dec(g(m, 3)) }
  const r = (ctl > BigInt(U32) ? `CTL 0x${h(ctl)} does not fit in 32 bits` : undefined) ?? bigRange('CVAL', f.cval) ?? ranges([i32('arch_timer_ctx_index', f.timerIndex)])
  return r ? fail(r) : f
}
const decodeTimerSave: Decoder = (t) => {
  const f = timerStateFields(t)
  return '_tag' in f ? f : ok('KvmTimerSaveState', f)
}
const decodeTimerRestore: Decoder = (t) => {
  const f = timerStateFields(t)
  return '_tag' in f ? f : ok('KvmTimerRestoreState', f)
}
const decodeTimerExpire: Decoder = (t) => {
  const m = RE_TIMER_EXPIRE.exec(t)
  if (!m) return expected('arch_timer_ctx_index: %d')
  const timerIndex = dec(g(m, 1))
  const r = ranges([i32('arch_timer_ctx_index', timerIndex)])
  return r ? fail(r) : ok('KvmTimerHrtimerExpire', { timerIndex })
}
const decodeTimerEmulate: Decoder = (t) => {
  const m = RE_TIMER_EMULATE.exec(t)
  if (!m) return expected('arch_timer_ctx_index: %d (should_fire: %d)')
  const timerIndex = dec(g(m, 1))
  const r = ranges([i32('arch_timer_ctx_index', timerIndex)])
  return r ? fail(r) : ok('KvmTimerEmulate', { timerIndex, shouldFire: m[2] !== '0' })
}
const decodeWfx: Decoder = (t) => {
  const m = RE_WFX.exec(t)
  if (!m) return expected('guest executed wf%c at: 0x%016lx')
  const pc = big(g(m, 3))
  const r = bigRange('pc', pc)
  const instruction = `wf${g(m, 1)}${m[2] ?? ''}` as 'wfi' | 'wfe' | 'wfit' | 'wfet'
  return r ? fail(r) : ok('KvmWfxArm64', { instruction, pc })
}

/** Decoder of each known tracepoint name. */
const decoders: ReadonlyMap<string, Decoder> = new Map<string, Decoder>([
  ['kvm_set_irq', decodeSetIrq],
  ['kvm_pic_set_irq', decodePic],
  ['kvm_ioapic_set_irq', decodeIoapic],
  ['kvm_ioapic_delayed_eoi_inj', decodeDelayed],
  ['kvm_msi_set_irq', decodeMsi],
  ['kvm_apic_ipi', decodeIpi],
  ['kvm_apic_accept_irq', decodeAccept],
  ['kvm_apicv_accept_irq', decodeApicvAccept],
  ['kvm_inj_virq', decodeInjVirq],
  ['kvm_inj_exception', decodeInjException],
  ['kvm_eoi', decodeEoi],
  ['kvm_pv_eoi', decodePvEoi],
  ['kvm_ack_irq', decodeAck],
  ['kvm_apic', decodeApic],
  ['kvm_msr', decodeMsr],
  ['kvm_mmio', decodeMmio],
  ['kvm_pio', decodePio],
  ['kvm_userspace_exit', decodeUserspaceExit],
  ['kvm_vcpu_wakeup', decodeWakeup],
  ['kvm_apicv_inhibit_changed', decodeInhibit],
  ['kvm_entry', decodeEntry],
  ['kvm_exit', decodeExit],
  ['kvm_nested_vmexit_inject', decodeNestedVmexitInject],
  ['kvm_nested_intr_vmexit', decodeNestedIntrVmexit],
  ['kvm_nested_vmenter', decodeNestedVmenter],
  ['kvm_nested_vmrun', decodeNestedVmrun],
  ['kvm_hv_synic_set_irq', decodeHvSetIrq],
  ['kvm_hv_synic_send_eoi', decodeHvSendEoi],
  ['kvm_hv_synic_set_msr', decodeHvSetMsr],
  ['kvm_hv_notify_acked_sint', decodeHvAcked],
  ['kvm_hv_stimer_set_config', decodeHvConfig],
  ['kvm_hv_stimer_set_count', decodeHvCount],
  ['kvm_hv_stimer_start_periodic', decodeHvPeriodic],
  ['kvm_hv_stimer_start_one_shot', decodeHvOneShot],
  ['kvm_hv_stimer_callback', decodeHvCallback],
  ['kvm_hv_stimer_expiration', decodeHvExpiration],
  ['kvm_hv_stimer_cleanup', decodeHvCleanup],
  ['sys_enter_ioctl', decodeIoctl],
  ['sys_exit_ioctl', decodeIoctlRet],
  ['vgic_update_irq_pending', decodeVgic],
  ['kvm_timer_update_irq', decodeTimerIrq],
  ['kvm_irq_line', decodeIrqLine],
  ['kvm_get_timer_map', decodeTimerMap],
  ['kvm_timer_save_state', decodeTimerSave],
  ['kvm_timer_restore_state', decodeTimerRestore],
  ['kvm_timer_hrtimer_expire', decodeTimerExpire],
  ['kvm_timer_emulate', decodeTimerEmulate],
  ['kvm_wfx_arm64', decodeWfx],
])

/** Whether `event` (no system prefix) is a tracepoint whose fields are decoded. */
export const isKnownEvent = (event: string): boolean => decoders.has(event)

/**
 * Decode the field text of a record of `event`. `undefined` when the event is not known (the caller
 * counts and skips it). The text may carry leading/trailing whitespace (trace-cmd padding, the
 * trailing `%s` of `kvm_pio`).
 *
 * @example decodeFields('kvm_set_irq', 'gsi 4 level 1 source 0') // { tag: 'KvmSetIrq', fields: { gsi: 4, level: 1, source: 0 } }
 */
export const decodeFields = (event: string, text: string, options: DecodeOptions = {}): Decoded | DecodeFailure | undefined => {
  const d = decoders.get(event)
  if (d === undefined) return undefined
  const t = text.trim()
  if (t === '') return fail('no fields')
  return d(t, options)
}

// ---------------------------------------------------------------- printers

type Printers = { readonly [T in TracepointTag]: (f: FieldsOf<T>) => string }

const routing = (f: RoutingFields): string => `${f.deliveryMode}|${f.destMode}|${f.trigger}`
const accept = (f: KvmApicAcceptIrqFields): string => `apicid ${h(f.apicid)} vec ${f.vec} (${f.deliveryMode}|${f.trigger})${f.coalesced ? ' (coalesced)' : ''}`
const hvTimer = (f: KvmHvStimerFields): string => `vcpu_id ${f.vcpuId} timer ${f.timer}`
/** C's `%#0<w>lx`: "0x" + zero-padded hex (width counts the prefix); a zero value prints without "0x". */
const hashZeroPad = (v: bigint | number, width: number): string => (BigInt(v) === 0n ? '0'.repeat(width) : `0x${h(v).padStart(width - 2, '0')}`)
/** C's `%#<w>llx`: right-aligned "0x…" in `width` columns; zero prints as "0". */
const hashSpacePad = (v: bigint, width: number): string => (v === 0n ? '0' : `0x${h(v)}`).padStart(width, ' ')
const timerState = (f: KvmTimerStateFields): string =>
  `CTL: ${hashZeroPad(f.ctl, 8)} CVAL: ${hashSpacePad(f.cval, 16)} arch_timer_ctx_index: ${f.timerIndex}`

const printers: Printers = {
  KvmSetIrq: (f) => `gsi ${f.gsi} level ${f.level} source ${f.source}`,
  KvmPicSetIrq: (f) => `chip ${f.chip} pin ${f.pin} (${f.elcr ? 'level' : 'edge'}${f.imr ? '|masked' : ''})${f.coalesced ? ' (coalesced)' : ''}`,
  KvmIoapicSetIrq: (f) =>
    `pin ${f.pin} dst ${h(f.dst)} vec${f.variant === 'vec=' ? '=' : ' '}${f.vec} (${routing(f)}${f.masked ? '|masked' : ''})${f.coalesced ? ' (coalesced)' : ''}`,
  KvmIoapicDelayedEoiInj: (f) => `dst ${h(f.dst)} vec ${f.vec} (${routing(f)}${f.masked ? '|masked' : ''})`,
  KvmMsiSetIrq: (f) =>
    f.variant === 'old'
      ? `dst ${f.dst} vec ${h(f.vec)} (${routing(f)}${f.redirectionHint ? '|rh' : ''})`
      : `dst ${h(f.dst)} vec ${f.vec} (${routing(f)}${f.redirectionHint ? '|rh' : ''})`,
  KvmApicIpi: (f) =>
    `dst ${h(f.destId)} vec ${f.vec} (${f.deliveryMode}|${f.destMode}|${f.assert ? 'assert' : 'de-assert'}|${f.trigger}|${f.shorthand})`,
  KvmApicAcceptIrq: accept,
  KvmApicvAcceptIrq: accept,
  KvmInjVirq: (f) =>
    f.variant === 'irq' ? `irq ${f.vector}` : `${f.soft ? 'Soft/INTn' : 'IRQ'} 0x${h(f.vector)}${f.reinjected ? ' [reinjected]' : ''}`,
  KvmInjException: (f) => `${f.exception}${f.errorCode !== undefined ? ` (0x${h(f.errorCode)})` : ''}${f.reinjected ? ' [reinjected]' : ''}`,
  KvmEoi: (f) => `apicid ${h(f.apicid)} vector ${f.vector}`,
  KvmPvEoi: (f) => `apicid ${h(f.apicid)} vector ${f.vector}`,
  KvmAckIrq: (f) => `irqchip ${f.variant === 'numeric' ? String(f.chipId) : (irqchipNames[f.chipId] ?? String(f.chipId))} pin ${f.pin}`,
  KvmApic: (f) => `apic_${f.rw} ${f.reg} = 0x${h(f.value)}`,
  KvmMsr: (f) => `msr_${f.rw} ${h(f.msr)} = 0x${h(f.data)}${f.gp ? ' (#GP)' : ''}`,
  KvmMmio: (f) => `mmio ${f.type} len ${f.len} gpa 0x${h(f.gpa)} val 0x${h(f.val)}`,
  KvmPio: (f) =>
    f.val === undefined
      ? `pio_${f.rw} at 0x${h(f.port)} size ${f.size} count ${f.count}`
      : `pio_${f.rw} at 0x${h(f.port)} size ${f.size} count ${f.count} val 0x${h(f.val)} ${f.count > 1 ? '(...)' : ''}`,
  KvmUserspaceExit: (f) => `reason ${f.reason} (${f.code})`,
  KvmVcpuWakeup: (f) => `${f.waited ? 'wait' : 'poll'} time ${f.ns} ns${f.valid === undefined ? '' : `, polling ${f.valid ? 'valid' : 'invalid'}`}`,
  KvmApicvInhibitChanged: (f) =>
    `${f.set ? 'set' : 'cleared'} reason=${f.reason}, inhibits=0x${h(f.inhibits)}${f.names !== undefined && f.names.length > 0 ? ` ${f.names.join('|')}` : ''}`,
  KvmEntry: (f) =>
    f.rip === undefined
      ? `vcpu ${f.vcpu}`
      : `vcpu ${f.vcpu}, rip 0x${h(f.rip)}${f.intrInfo !== undefined ? ` intr_info 0x${pad(f.intrInfo, 8)} error_code 0x${pad(f.errorCode ?? 0, 8)}` : ''}${f.immediateExit ? '[immediate exit]' : ''}`,
  KvmExit: (f) => {
    const reason = `${f.reason}${f.failedVmentry ? ' FAILED_VMENTRY' : ''}`
    if (f.vcpu !== undefined) {
      return `vcpu ${f.vcpu} reason ${reason} rip 0x${h(f.rip)} info1 0x${pad(f.info1 ?? 0n, 16)} info2 0x${pad(f.info2 ?? 0n, 16)} intr_info 0x${pad(f.intrInfo ?? 0, 8)} error_code 0x${pad(f.errorCode ?? 0, 8)}${f.requests !== undefined ? ` requests 0x${pad(f.requests, 16)}` : ''}`
    }
    if (f.info1 !== undefined) return `reason ${reason} rip 0x${h(f.rip)} info ${h(f.info1)} ${h(f.info2 ?? 0n)}`
    return `reason ${reason} rip 0x${h(f.rip)}`
  },
  KvmNestedVmexitInject: (f) =>
    f.variant === 'plugin'
      ? `reason ${f.reason} info1 ${h(f.info1)} info2 ${h(f.info2)} int_info ${h(f.intInfo)} int_info_err ${h(f.intInfoErr)}`
      : `reason: ${f.reason} ext_inf1: 0x${pad(f.info1, 16)} ext_inf2: 0x${pad(f.info2, 16)} ext_int: 0x${pad(f.intInfo, 8)} ext_int_err: 0x${pad(f.intInfoErr, 8)}`,
  KvmNestedIntrVmexit: (f) => `rip: 0x${pad(f.rip, 16)}`,
  KvmNestedVmenter: (f) => {
    const vmx = f.isa === 'vmx'
    return `rip: 0x${pad(f.rip, 16)} ${vmx ? 'vmcs' : 'vmcb'}: 0x${pad(f.vmcb, 16)} nested_rip: 0x${pad(f.nestedRip, 16)} int_ctl: 0x${pad(f.intCtl, 8)} event_inj: 0x${pad(f.eventInj, 8)} nested_${vmx ? 'ept' : 'npt'}=${f.tdp ? 'y' : 'n'} ${!f.tdp ? 'guest_cr3' : vmx ? 'nested_eptp' : 'nested_cr3'}: 0x${pad(f.pgd, 16)}`
  },
  KvmNestedVmrun: (f) =>
    `rip: 0x${pad(f.rip, 16)} vmcb: 0x${pad(f.vmcb, 16)} nrip: 0x${pad(f.nestedRip, 16)} int_ctl: 0x${pad(f.intCtl, 8)} event_inj: 0x${pad(f.eventInj, 8)} npt: ${f.npt ? 'on' : 'off'}`,
  KvmHvSynicSetIrq: (f) => `vcpu_id ${f.vcpuId} sint ${f.sint} vector ${f.vector} ret ${f.ret}`,
  KvmHvSynicSendEoi: (f) => `vcpu_id ${f.vcpuId} vector ${f.vector}`,
  KvmHvSynicSetMsr: (f) => `vcpu_id ${f.vcpuId} msr 0x${h(f.msr)} data 0x${h(f.data)} host ${f.host ? 1 : 0}`,
  KvmHvNotifyAckedSint: (f) => `vcpu_id ${f.vcpuId} sint ${f.sint}`,
  KvmHvStimerSetConfig: (f) => `vcpu_id ${f.vcpuId} timer ${f.timer} config 0x${h(f.config)} host ${f.host ? 1 : 0}`,
  KvmHvStimerSetCount: (f) => `vcpu_id ${f.vcpuId} timer ${f.timer} count ${f.count} host ${f.host ? 1 : 0}`,
  KvmHvStimerStartPeriodic: (f) => `vcpu_id ${f.vcpuId} timer ${f.timer} time_now ${f.timeNow} exp_time ${f.expTime}`,
  KvmHvStimerStartOneShot: (f) => `vcpu_id ${f.vcpuId} timer ${f.timer} time_now ${f.timeNow} count ${f.count}`,
  KvmHvStimerCallback: hvTimer,
  KvmHvStimerExpiration: (f) => `vcpu_id ${f.vcpuId} timer ${f.timer} direct ${f.direct ? 1 : 0} send result ${f.sendResult}`,
  KvmHvStimerCleanup: hvTimer,
  SysEnterIoctl: (f) => `fd: 0x${pad(f.fd, 8)}, cmd: 0x${pad(f.cmd, 8)}, arg: 0x${pad(f.arg, 8)}`,
  SysExitIoctl: (f) => `0x${h(f.ret < 0 ? (1n << 64n) + BigInt(f.ret) : BigInt(f.ret))}`,
  KvmEntryArm64: (f) => `PC: 0x${pad(f.pc, 16)}`,
  KvmExitArm64: (f) => `${f.exceptionType}: HSR_EC: 0x${pad(f.esrEc, 4)} (${f.esrEcName}), PC: 0x${pad(f.pc, 16)}`,
  VgicUpdateIrqPending: (f) => `VCPU: ${f.vcpu}, IRQ ${f.irq}, level: ${f.level}`,
  KvmTimerUpdateIrq: (f) => `VCPU: ${f.vcpu}, IRQ ${f.irq}, level ${f.level}`,
  KvmIrqLine: (f) => `Inject ${f.irqType} interrupt (${f.typeId}), vcpu->idx: ${f.vcpuIdx}, num: ${f.num}, level: ${f.level}`,
  KvmGetTimerMap: (f) => `VCPU: ${f.vcpu}, dv: ${f.directVtimer}, dp: ${f.directPtimer}, ep: ${f.emulPtimer}`,
  KvmTimerSaveState: (f) => `   ${timerState(f)}`,
  KvmTimerRestoreState: timerState,
  KvmTimerHrtimerExpire: (f) => `arch_timer_ctx_index: ${f.timerIndex}`,
  KvmTimerEmulate: (f) => `arch_timer_ctx_index: ${f.timerIndex} (should_fire: ${f.shouldFire ? 1 : 0})`,
  KvmWfxArm64: (f) => `guest executed ${f.instruction} at: 0x${pad(f.pc, 16)}`,
}

/**
 * Print decoded fields exactly as the kernel's `TP_printk` would (in the variant the fields record).
 * `decodeFields(event, printFields(tag, f))` gives `f` back.
 */
export const printFields = <T extends TracepointTag>(tag: T, fields: FieldsOf<T>): string =>
  (printers[tag] as (f: FieldsOf<T>) => string)(fields)
