/** Checker throughput on the cross-checker benchmark (shared/bench B1) and on the project's own model. */
import { check } from '../checker/engine/explore.js'
import { twoPhase } from '../models/twophase.js'
import { buildModel } from '../models/registry.js'
import { createPool } from '../checker/runtime/pool.js'

// TLC (1 worker) on the same kind of 2-core machine: 296,448 distinct in 8.66 s, 1,745,408 in 50.48 s (B1 table).
const TLC = { 7: 296_448 / 8.66, 8: 1_745_408 / 50.48 } as const

export const benchChecker = async (out: (line: string) => void): Promise<void> => {
  for (const n of [7, 8] as const) {
    const r = await check(twoPhase(n))
    const rate = r.distinct / (r.elapsedMs / 1000)
    out(`twophase rms=${n}: ${r.distinct.toLocaleString('en-US')} distinct, ${r.generated.toLocaleString('en-US')} generated in ${(r.elapsedMs / 1000).toFixed(2)} s = ${Math.round(rate).toLocaleString('en-US')} distinct/s (${(rate / TLC[n]).toFixed(1)}× TLC's ${Math.round(TLC[n]).toLocaleString('en-US')}/s), heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`)
  }
  {
    const t = await check(twoPhase(7))
    const pool = createPool(2, { model: 'twophase', params: { rms: 7, symmetry: 0 } })
    const p = await check(twoPhase(7), { pool })
    await pool.close()
    out(`twophase rms=7 with 2 worker threads: ${(p.elapsedMs / 1000).toFixed(2)} s vs ${(t.elapsedMs / 1000).toFixed(2)} s sequential (speed-up ×${(t.elapsedMs / p.elapsedMs).toFixed(2)}; identical counts: ${p.distinct === t.distinct && p.generated === t.generated})`)
  }
  const { spec } = buildModel('x86-irqchip', {})
  const r = await check(spec)
  out(`x86-irqchip defaults: ${r.distinct.toLocaleString('en-US')} distinct, ${r.generated.toLocaleString('en-US')} generated in ${(r.elapsedMs / 1000).toFixed(2)} s = ${Math.round(r.distinct / (r.elapsedMs / 1000)).toLocaleString('en-US')} distinct/s (incl. the liveness pass)`)
}
