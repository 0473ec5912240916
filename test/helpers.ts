// Shared test helpers: deep freezing, structural equality that ignores cached hashes, seeded fast-check.
import fc from 'fast-check'

export const FC_SEED = Number(process.env.FC_SEED ?? 42)
fc.configureGlobal({ seed: FC_SEED })

/** Recursively freeze a value so any write by the code under test throws (ESM is strict mode). */
export const deepFreeze = <T>(x: T, seen = new Set<unknown>()): T => {
  if (x === null || typeof x !== 'object' || seen.has(x)) return x
  seen.add(x)
  for (const v of Object.values(x as object)) deepFreeze(v, seen)
  return Object.freeze(x)
}

/** A canonical JSON of a state without the cached hash lanes, for structural comparison. */
export const structure = (x: unknown): string =>
  JSON.stringify(x, (k, v) => (k === 'h1' || k === 'h2' ? undefined : v))

/** Run a fast-check property and, on failure, report the seed needed to reproduce it. */
export const check = <Ts extends [unknown, ...unknown[]]>(prop: fc.IProperty<Ts>, params: fc.Parameters<Ts> = {}): void => {
  try {
    fc.assert(prop, { seed: FC_SEED, ...params })
  } catch (e) {
    throw new Error(`property failed (FC_SEED=${FC_SEED}); rerun with FC_SEED=${FC_SEED}\n${(e as Error).message}`)
  }
}
