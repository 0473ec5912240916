/**
 * Branded identifiers. A vCPU index, an interrupt vector, a GSI and an
 * IOAPIC pin are all small integers; the brands stop one being passed where
 * another is meant (tsd tests in test/types pin this down).
 */
declare const VcpuIdBrand: unique symbol
declare const VectorBrand: unique symbol
declare const GsiBrand: unique symbol

/** A vCPU index, 0 .. N-1 (also its xAPIC/x2APIC physical APIC id in this model, as KVM assigns by default). */
export type VcpuId = number & { readonly [VcpuIdBrand]: 'VcpuId' }
/** An interrupt vector, 0 .. 255 (SDM vol. 3A, 6.2: vectors 0-31 are reserved for exceptions). */
export type Vector = number & { readonly [VectorBrand]: 'Vector' }
/** A global system interrupt number (KVM routing table index). */
export type Gsi = number & { readonly [GsiBrand]: 'Gsi' }

const int = (what: string, n: number, lo: number, hi: number): number => {
  if (!Number.isInteger(n) || n < lo || n > hi) throw new RangeError(`${what} ${n} is not an integer in ${lo}..${hi}`)
  return n
}

export const VcpuId = {
  make: (n: number): VcpuId => int('vCPU id', n, 0, 255) as VcpuId,
}
export const Vector = {
  make: (n: number): Vector => int('vector', n, 0, 255) as Vector,
}
export const Gsi = {
  make: (n: number): Gsi => int('GSI', n, 0, 1023) as Gsi,
}
