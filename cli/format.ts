/** Rendering of results and counterexamples: a timeline readable at a glance, JSON, ITF, replay tokens. */
import type { AnySpec } from '../models/registry.js'
import type { CheckResult, Trace, Violation } from '../checker/engine/explore.js'
import type { Hashed } from '../model/core/hash.js'
import { readFileSync } from 'node:fs'

type E = { readonly _tag: string }

/** Leaf values of a state by path (`vcpus.1.ifFlag`), without the cached hashes. */
const leaves = (x: unknown, path = '', out = new Map<string, string>()): Map<string, string> => {
  if (x === null || typeof x !== 'object') {
    out.set(path, String(x))
    return out
  }
  const items = (x as { items?: unknown }).items
  if (Array.isArray(items)) items.forEach((v, i) => leaves(v, path ? `${path}.${i}` : String(i), out))
  else if (Array.isArray(x) || ArrayBuffer.isView(x)) Array.from(x as ArrayLike<unknown>).forEach((v, i) => leaves(v, `${path}[${i}]`, out))
  else for (const [k, v] of Object.entries(x)) if (k !== 'h1' && k !== 'h2') leaves(v, path ? `${path}.${k}` : k, out)
  return out
}

/** What changed from one state to the next, as `path: old → new`, at most `max` entries. */
export const stateDiff = (a: unknown, b: unknown, max = 6): string => {
  const la = leaves(a)
  const lb = leaves(b)
  const out: string[] = []
  for (const [k, v] of lb) if (la.get(k) !== v) out.push(`${k}: ${la.get(k) ?? '∅'} → ${v}`)
  return out.length > max ? [...out.slice(0, max), `… ${out.length - max} more`].join('; ') : out.join('; ')
}

/** One line per step: step number, the actor in its own column, the event, and what it changed. A lasso's cycle is marked. */
export const timeline = (spec: AnySpec, t: Trace<E>): string => {
  const canon = spec.representative ?? ((s: Hashed) => s)
  const diffs: string[] = []
  let st = canon(spec.initStates()[t.init]!)
  for (const e of t.events) {
    const n = canon(spec.reduce(st, e))
    diffs.push(stateDiff(st, n))
    st = n
  }
  const fmt = spec.formatEvent ?? ((e: E) => JSON.stringify(e))
  const actor = spec.actorOf ?? (() => '')
  const actors = t.events.map((e) => actor(e))
  const w = Math.max(5, ...actors.map((a) => a.length))
  const lines = [`  ${'step'.padStart(4)}  ${'actor'.padEnd(w)}  event`]
  lines.push(`  ${'0'.padStart(4)}  ${'-'.padEnd(w)}  (initial state ${t.init})`)
  t.events.forEach((e, i) => {
    if (t.loopStart === i) lines.push(`  ${''.padStart(4)}  ${''.padEnd(w)}  ── cycle starts; it repeats forever ──`)
    lines.push(`  ${String(i + 1).padStart(4)}  ${actors[i]!.padEnd(w)}  ${fmt(e)}`)
    if (diffs[i]) lines.push(`  ${''.padStart(4)}  ${''.padEnd(w)}    ${diffs[i]}`)
  })
  if (t.loopStart !== undefined) lines.push(`  ${''.padStart(4)}  ${''.padEnd(w)}  ── back to the state before step ${t.loopStart + 1} ──`)
  return lines.join('\n')
}

/** Replay token: model, params, bug, init and the event positions in `enabled` order; `virq check --replay`. */
export const encodeToken = (model: string, params: Record<string, number>, bug: string | undefined, spec: AnySpec, t: Trace<E>): string => {
  const canon = spec.representative ?? ((s: Hashed) => s)
  let s = canon(spec.initStates()[t.init]!)
  const idx: number[] = []
  for (const e of t.events) {
    const en = spec.enabled(s)
    const k = en.findIndex((x) => JSON.stringify(x) === JSON.stringify(e))
    idx.push(k)
    s = canon(spec.reduce(s, en[k]!))
  }
  const body = { m: model, p: params, ...(bug ? { b: bug } : {}), i: t.init, e: idx, ...(t.loopStart !== undefined ? { l: t.loopStart } : {}) }
  return 'virq1.' + Buffer.from(JSON.stringify(body)).toString('base64url')
}

export interface Token { m: string; p: Record<string, number>; b?: string; i: number; e: number[]; l?: number }
export const decodeToken = (tok: string): Token => {
  if (!tok.startsWith('virq1.')) throw new Error(`not a virq replay token (expected 'virq1.…'): ${tok.slice(0, 20)}`)
  let v: unknown
  try {
    v = JSON.parse(Buffer.from(tok.slice(6), 'base64url').toString('utf8'))
  } catch {
    throw new Error('replay token is corrupt (not base64url JSON)')
  }
  const t = v as Token
  if (typeof t !== 'object' || t === null || typeof t.m !== 'string' || !Array.isArray(t.e) || typeof t.i !== 'number') throw new Error('replay token is corrupt (missing fields)')
  return t
}

/** Events from a token, re-derived by position; throws with the step that is out of range. */
export const tokenTrace = (spec: AnySpec, t: Token): Trace<E> => {
  const canon = spec.representative ?? ((s: Hashed) => s)
  const init = spec.initStates()[t.i]
  if (!init) throw new Error(`replay token: initial state ${t.i} does not exist`)
  let s = canon(init)
  const events: E[] = []
  t.e.forEach((k, step) => {
    const e = spec.enabled(s)[k]
    if (!e) throw new Error(`replay token: step ${step + 1} selects event ${k}, but only ${spec.enabled(s).length} are enabled`)
    events.push(e)
    s = canon(spec.reduce(s, e))
  })
  return t.l !== undefined ? { init: t.i, events, loopStart: t.l } : { init: t.i, events }
}

const plain = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (k, v) => (k === 'h1' || k === 'h2' ? undefined : v)))

/** ITF (Informal Trace Format, as Apalache and Quint write it): the states of a trace. */
export const itf = (spec: AnySpec, t: Trace<E>, violation: Violation<E>, params?: Record<string, number>, bug?: string): unknown => {
  const canon = spec.representative ?? ((s: Hashed) => s)
  let s = canon(spec.initStates()[t.init]!)
  const states: unknown[] = [{ '#meta': { index: 0 }, state: plain(s) }]
  t.events.forEach((e, i) => {
    s = canon(spec.reduce(s, e))
    states.push({ '#meta': { index: i + 1 }, action: plain(e), state: plain(s) })
  })
  return {
    '#meta': { format: 'ITF', 'format-description': 'https://apalache-mc.org/docs/adr/015adr-trace.html', source: `virq ${spec.id}`, model: spec.id, ...(params ? { params } : {}), ...(bug ? { bug } : {}), description: violation.message, ...(t.loopStart !== undefined ? { loop: t.loopStart } : {}) },
    vars: ['action', 'state'],
    states,
    ...(t.loopStart !== undefined ? { loop: t.loopStart } : {}),
  }
}

export const resultJson = (r: CheckResult<E>, spec: AnySpec, token: (t: Trace<E>) => string): unknown => ({
  result: r.status === 'violated' ? 'violation' : r.status === 'ok' && r.sometimes.some((s) => !s.reached) ? 'violation' : r.status,
  distinctStates: r.distinct,
  generatedStates: r.generated,
  seconds: r.elapsedMs / 1000,
  ...r,
  violations: r.violations.map((v) => ({
    property: v.property, kind: v.kind, message: v.message, length: v.trace.events.length,
    ...(v.trace.loopStart !== undefined ? { loopStart: v.trace.loopStart } : {}),
    events: v.trace.events.map((e) => spec.formatEvent?.(e) ?? e._tag), replay: token(v.trace),
  })),
  sometimes: r.sometimes.map((s) => ({ property: s.property, reached: s.reached, ...(s.trace ? { length: s.trace.events.length } : {}) })),
})

/** Outcome of checking an ITF trace against a model: every action enabled in turn and every state equal to the model's. */
export type ItfCheck =
  | { readonly ok: true; readonly trace: Trace<E> }
  | { readonly ok: false; readonly step: number; readonly reason: string }

/**
 * Check an ITF document (as `itf` writes it) against the model: the first state must be an initial
 * state, each action must be enabled in the state before it, and each state must equal the model's
 * successor. `step` is the index of the first state that cannot be explained.
 */
export const checkItf = (spec: AnySpec, doc: { states?: { action?: E; state?: unknown }[]; loop?: number }): ItfCheck => {
  if (!Array.isArray(doc.states) || doc.states.length === 0) return { ok: false, step: 0, reason: 'no "states" array (not an ITF trace)' }
  const canon = spec.representative ?? ((s: Hashed) => s)
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(plain(a)) === JSON.stringify(b)
  const init = spec.initStates().map(canon).findIndex((s) => same(s, doc.states![0]!.state))
  if (init < 0) return { ok: false, step: 0, reason: `state 0 is not an initial state of ${spec.id} with these parameters` }
  let s = canon(spec.initStates()[init]!)
  const events: E[] = []
  for (let i = 1; i < doc.states.length; i++) {
    const st = doc.states[i]!
    const e = spec.enabled(s).find((x) => JSON.stringify(x) === JSON.stringify(st.action))
    if (!e) return { ok: false, step: i, reason: `action ${JSON.stringify(st.action)} is not enabled (enabled: ${spec.enabled(s).map((x) => spec.formatEvent?.(x) ?? x._tag).join(', ') || 'none'})` }
    s = canon(spec.reduce(s, e))
    if (!same(s, st.state)) return { ok: false, step: i, reason: `the state after ${spec.formatEvent?.(e) ?? e._tag} differs from the model's successor` }
    events.push(e)
  }
  return { ok: true, trace: doc.loop !== undefined ? { init, events, loopStart: doc.loop } : { init, events } }
}

/** Read an ITF file and check it (`virq check MODEL --replay-itf FILE`); errors name the file and the step. */
export const readItf = (spec: AnySpec, file: string): { trace: Trace<E> } => {
  let doc: { states?: { action?: E; state?: unknown }[]; loop?: number }
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    throw new Error(`${file}: not JSON (${(e as Error).message.split('\n')[0]})`)
  }
  const r = checkItf(spec, doc)
  if (!r.ok) throw new Error(`${file}: step ${r.step}: ${r.reason}`)
  return { trace: r.trace }
}
