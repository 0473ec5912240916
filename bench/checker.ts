/**
 * Checker throughput on the cross-checker benchmark (../shared/bench/README.md B1, TwoPhase) at 7-9 RMs,
 * one and two workers, and on the project's own model. Reference times (B1 table, same kind of 2-core
 * machine): TLC with 1 and 2 workers and SPIN 6.5.2.
 */
import { check } from '../checker/engine/explore.js'
import { checkParallel } from '../checker/runtime/parallel.js'
import { twoPhase } from '../models/twophase.js'
import { buildModel } from '../models/registry.js'

const REF = {
  7: { distinct: 296_448, tlc1: 8.66, tlc2: 7.70, spin: 0.35 },
  8: { distinct: 1_745_408, tlc1: 50.48, tlc2: 37.92, spin: 2.16 },
  9: { distinct: 10_340_352, tlc1: 347.35, tlc2: 225.59, spin: 19.99 },
} as const

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US')

export const benchChecker = async (out: (line: string) => void): Promise<void> => {
  out('TwoPhase (B1): distinct states/s; ratios are to TLC 1 worker (TLC2: 2 workers) and SPIN on the B1 machine')
  for (const n of [7, 8, 9] as const) {
    const ref = REF[n]
    const one = await check(twoPhase(n))
    const two = await checkParallel(twoPhase(n), { model: 'twophase', params: { rms: n, symmetry: 0 } }, 2)
    if (one.distinct !== ref.distinct || two.distinct !== ref.distinct || two.generated !== one.generated)
      throw new Error(`twophase rms=${n}: counts ${one.distinct}/${two.distinct} differ from the reference ${ref.distinct}`)
    for (const [label, r] of [['1 worker ', one], ['2 workers', two]] as const) {
      const s = r.elapsedMs / 1000
      const rate = r.distinct / s
      out(`  rms=${n} ${label}: ${fmt(r.distinct)} distinct, ${fmt(r.generated)} generated in ${s.toFixed(2)} s = ${fmt(rate)} distinct/s, ${r.bytesPerState} bytes/state` +
        ` | ×${(rate / (ref.distinct / ref.tlc1)).toFixed(1)} TLC (${fmt(ref.distinct / ref.tlc1)}/s), ×${(rate / (ref.distinct / ref.tlc2)).toFixed(1)} TLC2, ×${(rate / (ref.distinct / ref.spin)).toFixed(2)} SPIN (${fmt(ref.distinct / ref.spin)}/s)`)
    }
    out(`  rms=${n} speed-up of 2 workers over the sequential search: ×${(one.elapsedMs / two.elapsedMs).toFixed(2)}`)
  }
  const { spec } = buildModel('x86-irqchip', {})
  const r = await check(spec)
  out(`x86-irqchip defaults: ${fmt(r.distinct)} distinct, ${fmt(r.generated)} generated in ${(r.elapsedMs / 1000).toFixed(2)} s = ${fmt(r.distinct / (r.elapsedMs / 1000))} distinct/s (incl. the liveness pass), ${r.bytesPerState} bytes/state`)
}
