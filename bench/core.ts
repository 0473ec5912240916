/**
 * Delivery-core benchmark: reducer steps/s and fingerprints/s on a fixed 2-vCPU
 * workload (the default `x86-irqchip` model), and the cost of fingerprinting a
 * state after a one-field change relative to fingerprinting it from scratch.
 *
 * Workload: seeded random walks over `enabled`/`reduce` (an LCG with a fixed
 * seed, so every run does the same steps), restarted from the initial state
 * every 200 steps or when no event is enabled.
 *
 * "Full" fingerprint = a structural hash of the whole state, walking every node,
 * as a checker without cached node hashes must do (TLC fingerprints the whole
 * state value). "Incremental" = what virq does: the cached 64-bit hash adjusted
 * along the path from the changed field to the root.
 */
import { buildX86 } from '../models/x86-irqchip.js'
import { fmix32, hashStats, hashString } from '../model/core/hash.js'
import { Table } from '../model/core/Table.js'
import { SystemR, type SystemState } from '../model/System.js'
import { VcpuR } from '../model/Vcpu.js'

const lcg = (seed: number) => {
  let x = seed >>> 0
  return (n: number): number => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0
    return x % n
  }
}

/** A structural 32-bit hash of any state value, recomputed from every node (no cached hashes used). */
export const fullFingerprint = (v: unknown): number => {
  if (v === undefined) return 0x9e3779b9
  if (typeof v === 'number') return fmix32(v | 0) ^ fmix32((v / 4294967296) | 0)
  if (typeof v === 'boolean') return v ? 0x85ebca6b : 0xc2b2ae35
  if (typeof v === 'string') return hashString(v)
  let h = 0x27d4eb2f
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) h = fmix32((h + fmix32(fullFingerprint(v[i]) ^ i)) | 0)
    return h
  }
  for (const k in v as Record<string, unknown>) {
    if (k === 'h1' || k === 'h2') continue
    h = fmix32((h + fmix32(fullFingerprint((v as Record<string, unknown>)[k]) ^ hashString(k))) | 0)
  }
  return h
}

const time = (f: () => void): number => {
  const t0 = process.hrtime.bigint()
  f()
  return Number(process.hrtime.bigint() - t0) / 1e9
}

export interface CoreBench {
  readonly steps: number
  readonly stepsPerSec: number
  readonly hashesPerStep: number
  readonly fullFingerprintsPerSec: number
  readonly incrementalPerSec: number
  readonly ratio: number
}

export const benchCore = (out: (line: string) => void, steps = 300_000): CoreBench => {
  const { system } = buildX86({ vcpus: 2, edges: 1, levels: 1, msis: 1, ipis: 1, irqfd: 1, cli: 1 })
  const walk = (n: number, collect?: SystemState[]): number => {
    const rnd = lcg(42)
    let s = system.initial
    let depth = 0
    let sink = 0
    for (let i = 0; i < n; i++) {
      const en = system.enabled(s)
      if (en.length === 0 || depth === 200) {
        s = system.initial
        depth = 0
        continue
      }
      s = system.reduce(s, en[rnd(en.length)]!)
      sink ^= s.h1
      depth++
      if (collect && i % 100 === 0) collect.push(s)
    }
    return sink
  }
  walk(20_000) // warm-up (JIT)
  const h0 = hashStats.computations
  const states: SystemState[] = []
  const secs = time(() => walk(steps, states))
  const hashesPerStep = (hashStats.computations - h0) / steps
  out(`reducer: ${steps.toLocaleString('en-US')} steps in ${secs.toFixed(2)} s = ${Math.round(steps / secs).toLocaleString('en-US')} steps/s (enabled + reduce, incremental hashing included; ${hashesPerStep.toFixed(1)} node hashes per step)`)

  // Full fingerprints of sampled states.
  const reps = Math.max(1, Math.floor(200_000 / states.length))
  let sink = 0
  for (const s of states.slice(0, 50)) sink ^= fullFingerprint(s)
  const fullSecs = time(() => { for (let r = 0; r < reps; r++) for (const s of states) sink ^= fullFingerprint(s) })
  const fullPerSec = (reps * states.length) / fullSecs

  // Incremental: change one field (a vCPU's IF) and read the new 64-bit fingerprint.
  const incReps = reps * 20
  const incSecs = time(() => {
    for (let r = 0; r < incReps; r++) {
      for (const s of states) {
        const v = Table.get(s.vcpus, 1)
        const nv = VcpuR.set(v, 'ifFlag', !v.ifFlag)
        const next = SystemR.set(s, 'vcpus', Table.set(s.vcpus, 1, nv))
        sink ^= next.h1 ^ next.h2
      }
    }
  })
  const incPerSec = (incReps * states.length) / incSecs
  out(`fingerprints: full structural ${Math.round(fullPerSec).toLocaleString('en-US')}/s; after a one-field change (incremental) ${Math.round(incPerSec).toLocaleString('en-US')}/s`)
  const ratio = incPerSec / fullPerSec
  out(`one-field-change fingerprint costs 1/${ratio.toFixed(0)} of a full one (${(100 / ratio).toFixed(2)} %)`)
  if (sink === 0.5) out('') // keep the sink alive
  return { steps, stepsPerSec: steps / secs, hashesPerStep, fullFingerprintsPerSec: fullPerSec, incrementalPerSec: incPerSec, ratio }
}
