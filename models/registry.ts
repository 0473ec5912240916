/**
 * Every model the CLI can check, with its parameters (defaults and bounds) and
 * its bug variants. `build` validates parameters and returns a ModelSpec.
 */
import type { Hashed } from '../model/core/hash.js'
import type { ModelSpec } from '../checker/ModelSpec.js'
import { twoPhase } from './twophase.js'
import { buildX86, x86Params, type X86Params } from './x86-irqchip.js'
import { buildPci, pciBugs, pciExpected, pciParams, type PciParams, type PciVariant } from './pci-intx.js'
import { buildSplit, splitBugs, splitExpected, splitParams, type SplitParams, type SplitVariant } from './split-irqchip.js'

export interface ParamSpec {
  readonly name: string
  readonly default: number
  readonly min: number
  readonly max: number
  readonly description: string
}
export interface BugSpec {
  readonly id: string
  readonly commit?: string
  readonly description: string
}
export type AnySpec = ModelSpec<Hashed, { readonly _tag: string }>
export interface ModelEntry {
  readonly id: string
  readonly description: string
  readonly params: ReadonlyArray<ParamSpec>
  readonly bugs: ReadonlyArray<BugSpec>
  /** Properties a bug variant is expected to violate (used by `check-all`): bug id → property names. */
  readonly expectedViolations?: Readonly<Record<string, ReadonlyArray<string>>>
  readonly build: (params: Readonly<Record<string, number>>, bug?: string) => AnySpec
}

export class ModelError extends Error {
  override readonly name = 'ModelError'
}

export const models: ModelEntry[] = [
  {
    id: 'x86-irqchip',
    description: "KVM's in-kernel x86 irqchip: 8259 pair, IOAPIC, LAPICs, MSI, IPIs, irqfd with resamplefd, vCPU run loop",
    params: x86Params,
    bugs: [],
    build: (p) => {
      if (p.symmetry === 1 && p.vcpus! > 2 && p.layout !== 1)
        throw new ModelError("parameter 'symmetry=1' of model 'x86-irqchip' needs layout=1 with 2 or more APs: in layout 0 vCPU 1 is the MSI, irqfd and IPI endpoint, so the APs are not interchangeable")
      return buildX86(p as unknown as X86Params).spec as unknown as AnySpec
    },
  },
  {
    id: 'split-irqchip',
    description: 'split irqchip (1c1a9ce973a7): PIC in the VMM, LAPICs in KVM, KVM_INTERRUPT, ready_for_interrupt_injection, interrupt window, INTA rendezvous',
    params: splitParams,
    bugs: splitBugs,
    expectedViolations: splitExpected,
    build: (p, bug) => buildSplit(p as unknown as SplitParams, (bug ?? 'fixed') as SplitVariant) as unknown as AnySpec,
  },
  {
    id: 'pci-intx',
    description: 'host IRQ sharing for an assigned PCI 2.3 device (07700a94b00a): device-level INTx masking, the guest\'s mask view, ack-notifier unmask; path=1 the VFIO irqfd/resamplefd successor',
    params: pciParams,
    bugs: pciBugs,
    expectedViolations: pciExpected,
    build: (p, bug) => buildPci(p as unknown as PciParams, (bug ?? 'fixed') as PciVariant) as unknown as AnySpec,
  },
  {
    id: 'twophase',
    description: "Lamport's two-phase commit, the cross-checker benchmark (exact counts: 288 / 8,832 / 296,448 states for 3 / 5 / 7 RMs)",
    params: [
      { name: 'rms', default: 3, min: 1, max: 14, description: 'number of resource managers' },
      { name: 'symmetry', default: 0, min: 0, max: 1, description: '1 = reduce by RM symmetry (states equal up to renaming RMs are one)' },
    ],
    bugs: [{ id: 'tm-commits-early', description: 'the TM commits once any RM is prepared, not all: a working RM may then abort while others commit' }],
    expectedViolations: { 'tm-commits-early': ['consistent'] },
    build: (p, bug) => twoPhase(p.rms!, { symmetry: p.symmetry === 1, ...(bug ? { bug: bug as 'tm-commits-early' } : {}) }) as unknown as AnySpec,
  },
]

export const findModel = (id: string): ModelEntry => {
  const m = models.find((x) => x.id === id)
  if (!m) throw new ModelError(`unknown model '${id}' (known: ${models.map((x) => x.id).join(', ')})`)
  return m
}

/** Defaults overlaid with `given`; every name must be known and every value an integer in range. */
export const resolveParams = (m: ModelEntry, given: Readonly<Record<string, string | number>>): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const p of m.params) out[p.name] = p.default
  for (const [k, raw] of Object.entries(given)) {
    const p = m.params.find((x) => x.name === k)
    if (!p) throw new ModelError(`unknown parameter '${k}' for model '${m.id}' (known: ${m.params.map((x) => x.name).join(', ') || 'none'})`)
    const v = typeof raw === 'number' ? raw : Number(raw)
    if (!Number.isInteger(v) || String(raw).trim() === '') throw new ModelError(`parameter '${k}' of model '${m.id}' must be an integer, got '${raw}'`)
    if (v < p.min || v > p.max) throw new ModelError(`parameter '${k}' of model '${m.id}' must be in ${p.min}..${p.max}, got ${v}`)
    out[k] = v
  }
  return out
}

export const buildModel = (id: string, given: Readonly<Record<string, string | number>> = {}, bug?: string): { entry: ModelEntry; params: Record<string, number>; spec: AnySpec } => {
  const entry = findModel(id)
  const params = resolveParams(entry, given)
  if (bug !== undefined && !entry.bugs.some((b) => b.id === bug))
    throw new ModelError(`unknown bug '${bug}' for model '${id}' (known: ${entry.bugs.map((b) => b.id).join(', ') || 'none'})`)
  return { entry, params, spec: entry.build(params, bug) }
}
