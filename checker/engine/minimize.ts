/**
 * Counterexample minimization: the shortest sub-behaviour that still violates the
 * same property. Delta debugging over events (ddmin-style: drop chunks of
 * halving size, keep a candidate only if every event is still enabled in turn
 * and the property still fails), then truncation at the first failing step.
 * Deterministic: candidates are tried in a fixed order. BFS traces are already
 * shortest; this is for DFS and random-walk traces and for traces from elsewhere.
 */
import type { Hashed } from '../../model/core/hash.js'
import type { ModelSpec } from '../ModelSpec.js'
import type { Trace, ViolationKind } from './explore.js'

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/** Index (number of events) after which the property has failed on this trace, or -1 if it never fails / the trace is not executable. */
export const failsAt = <S extends Hashed, E extends { readonly _tag: string }>(
  spec: ModelSpec<S, E>, init: number, events: ReadonlyArray<E>, property: string, kind: ViolationKind,
): number => {
  const canon = spec.representative ?? ((s: S) => s)
  const s0 = spec.initStates()[init]
  if (!s0) return -1
  let s = canon(s0)
  const inv = spec.properties.find((p) => p.name === property)
  const step = spec.stepProperties?.find((p) => p.name === property)
  if (kind === 'invariant' && inv && !inv.holds(s)) return 0
  for (let i = 0; i < events.length; i++) {
    const e = spec.enabled(s).find((x) => same(x, events[i]))
    if (!e) return -1
    const n = canon(spec.reduce(s, e))
    if (kind === 'step' && step && !step.holdsStep(s, e, n)) return i + 1
    s = n
    if (kind === 'invariant' && inv && !inv.holds(s)) return i + 1
  }
  if (kind === 'deadlock' && spec.enabled(s).length === 0 && !(spec.isTerminal?.(s) ?? false)) return events.length
  return -1
}

export const minimize = <S extends Hashed, E extends { readonly _tag: string }>(
  spec: ModelSpec<S, E>, trace: Trace<E>, property: string, kind: ViolationKind,
): Trace<E> => {
  if (kind === 'eventually') return trace // a lasso's cycle is already built from shortest paths
  let events = [...trace.events]
  const at0 = failsAt(spec, trace.init, events, property, kind)
  if (at0 < 0) throw new Error(`the trace does not violate ${property}`)
  events = events.slice(0, at0)
  let chunk = Math.max(1, Math.floor(events.length / 2))
  while (chunk >= 1) {
    let removed = false
    for (let start = 0; start < events.length; ) {
      const cand = [...events.slice(0, start), ...events.slice(start + chunk)]
      const at = failsAt(spec, trace.init, cand, property, kind)
      if (at >= 0) {
        events = cand.slice(0, at)
        removed = true
      } else start += chunk
    }
    if (!removed) chunk = Math.floor(chunk / 2)
  }
  return { init: trace.init, events }
}
