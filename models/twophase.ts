/**
 * Model `twophase`: Lamport's two-phase commit (the TLA+ example `TwoPhase`),
 * exactly as ../shared/bench/README.md B1 defines it, so its state counts can be
 * compared with TLC's and SPIN's (288 / 8,832 / 296,448 / 1,745,408 / 10,340,352
 * distinct states for 3 / 5 / 7 / 8 / 9 RMs). It is the checker's yardstick, not
 * an interrupt model.
 *
 * State packing: rmState 2 bits per RM, tmState, tmPrepared and msgs as bitmasks
 * (msgs: bit r = [Prepared, r], bit n = [Commit], bit n+1 = [Abort]).
 */
import type { Hashed } from '../model/core/hash.js'
import { recordType } from '../model/core/Record.js'
import type { ModelSpec } from '../checker/ModelSpec.js'

const WORKING = 0, PREPARED = 1, COMMITTED = 2, ABORTED = 3
const RM_NAMES = ['working', 'prepared', 'committed', 'aborted'] as const
const TM_NAMES = ['init', 'committed', 'aborted'] as const

interface TwoPhaseFields {
  /** 2 bits per RM */
  readonly rm: number
  /** 0 init, 1 committed, 2 aborted */
  readonly tm: number
  readonly tmPrepared: number
  readonly msgs: number
}
export type TwoPhaseState = TwoPhaseFields & Hashed
const R = recordType<TwoPhaseFields>('TwoPhase', ['rm', 'tm', 'tmPrepared', 'msgs'])

export type TwoPhaseEvent =
  | { readonly _tag: 'TMRcvPrepared'; readonly rm: number }
  | { readonly _tag: 'TMCommit' }
  | { readonly _tag: 'TMAbort' }
  | { readonly _tag: 'RMPrepare'; readonly rm: number }
  | { readonly _tag: 'RMChooseToAbort'; readonly rm: number }
  | { readonly _tag: 'RMRcvCommitMsg'; readonly rm: number }
  | { readonly _tag: 'RMRcvAbortMsg'; readonly rm: number }

/** RM symmetry: every RM plays the same role, so states that differ by a renaming of RMs are equivalent. */
/**
 * Bug variant `tm-commits-early`: the TM commits once any RM is prepared instead of all of them (the
 * classic mistake TCConsistent catches: a still-working RM can then abort while the others commit).
 */
export const twoPhase = (n: number, opts: { readonly symmetry?: boolean; readonly bug?: 'tm-commits-early' } = {}): ModelSpec<TwoPhaseState, TwoPhaseEvent> => {
  if (!Number.isInteger(n) || n < 1 || n > 14) throw new RangeError(`rms ${n} is not in 1..14`)
  const all = (1 << n) - 1
  const COMMIT = 1 << n
  const ABORT = 1 << (n + 1)
  const rmOf = (s: TwoPhaseState, r: number): number => (s.rm >>> (2 * r)) & 3
  const withRm = (s: TwoPhaseState, r: number, v: number): number => ((s.rm & ~(3 << (2 * r))) | (v << (2 * r))) >>> 0
  const setRm = (s: TwoPhaseState, r: number, v: number): TwoPhaseState => R.set(s, 'rm', withRm(s, r, v))
  // The events are values: one object per (action, RM), built once, so `enabled` allocates only its array.
  const rmEvents = <T extends TwoPhaseEvent['_tag']>(tag: T): TwoPhaseEvent[] => Array.from({ length: n }, (_, rm) => ({ _tag: tag, rm }) as TwoPhaseEvent)
  const RCV_PREPARED = rmEvents('TMRcvPrepared'), PREPARE = rmEvents('RMPrepare'), CHOOSE_ABORT = rmEvents('RMChooseToAbort')
  const RCV_COMMIT = rmEvents('RMRcvCommitMsg'), RCV_ABORT = rmEvents('RMRcvAbortMsg')
  const TM_COMMIT: TwoPhaseEvent = { _tag: 'TMCommit' }, TM_ABORT: TwoPhaseEvent = { _tag: 'TMAbort' }
  const enabled = (s: TwoPhaseState): TwoPhaseEvent[] => {
    const out: TwoPhaseEvent[] = []
    for (let r = 0; r < n; r++) if (s.tm === 0 && s.msgs & (1 << r)) out.push(RCV_PREPARED[r]!)
    if (s.tm === 0 && (opts.bug === 'tm-commits-early' ? s.tmPrepared !== 0 : s.tmPrepared === all)) out.push(TM_COMMIT)
    if (s.tm === 0) out.push(TM_ABORT)
    for (let r = 0; r < n; r++) {
      if (rmOf(s, r) === WORKING) out.push(PREPARE[r]!, CHOOSE_ABORT[r]!)
      if (s.msgs & COMMIT) out.push(RCV_COMMIT[r]!)
      if (s.msgs & ABORT) out.push(RCV_ABORT[r]!)
    }
    return out
  }
  /** Bit r of the result is set when RM r is in state `v` (the two bits of RM r equal v). */
  const rmsIn = (s: TwoPhaseState, v: number): number => {
    let m = 0
    for (let r = 0; r < n; r++) if (((s.rm >>> (2 * r)) & 3) === v) m |= 1 << r
    return m
  }
  const reduce = (s: TwoPhaseState, e: TwoPhaseEvent): TwoPhaseState => {
    switch (e._tag) {
      case 'TMRcvPrepared': return R.set(s, 'tmPrepared', s.tmPrepared | (1 << e.rm))
      case 'TMCommit': return R.update(s, { tm: 1, msgs: s.msgs | COMMIT })
      case 'TMAbort': return R.update(s, { tm: 2, msgs: s.msgs | ABORT })
      case 'RMPrepare': return R.update(s, { rm: withRm(s, e.rm, PREPARED), msgs: s.msgs | (1 << e.rm) })
      case 'RMChooseToAbort': return setRm(s, e.rm, ABORTED)
      case 'RMRcvCommitMsg': return setRm(s, e.rm, COMMITTED)
      case 'RMRcvAbortMsg': return setRm(s, e.rm, ABORTED)
    }
  }
  const states = (s: TwoPhaseState): number[] => Array.from({ length: n }, (_, r) => rmOf(s, r))
  /** Canonical representative: RMs sorted by (state, prepared-at-TM, Prepared-message sent); all RM-indexed fields permuted together. */
  const representative = (s: TwoPhaseState): TwoPhaseState => {
    const key = (r: number): number => rmOf(s, r) * 4 + ((s.tmPrepared >>> r) & 1) * 2 + ((s.msgs >>> r) & 1)
    const keys = Array.from({ length: n }, (_, r) => key(r)).sort((a, b) => a - b)
    let rm = 0, tmPrepared = 0, msgs = s.msgs & (COMMIT | ABORT)
    keys.forEach((k, r) => {
      rm |= (k >> 2) << (2 * r)
      tmPrepared |= ((k >> 1) & 1) << r
      msgs |= (k & 1) << r
    })
    return R.update(s, { rm: rm >>> 0, tmPrepared, msgs })
  }
  return {
    id: 'twophase',
    initStates: () => [R.make({ rm: 0, tm: 0, tmPrepared: 0, msgs: 0 })],
    enabled,
    reduce,
    properties: [
      {
        name: 'consistent', expectation: 'always',
        description: 'No RM has committed while another has aborted.',
        source: 'Lamport, TwoPhase.tla / TCommit.tla: TCConsistent',
        holds: (s) => rmsIn(s, COMMITTED) === 0 || rmsIn(s, ABORTED) === 0,
      },
      {
        name: 'type-ok', expectation: 'always',
        description: 'tmPrepared ⊆ RM; messages are Prepared from RMs, Commit or Abort; tmState ∈ {init, committed, aborted}.',
        source: 'Lamport, TwoPhase.tla: TPTypeOK',
        holds: (s) => s.tm <= 2 && (s.tmPrepared & ~all) === 0 && (s.msgs & ~(all | COMMIT | ABORT)) === 0,
      },
      {
        name: 'all-committed-reachable', expectation: 'sometimes',
        description: 'A run where every RM commits exists.',
        source: 'witness',
        holds: (s) => rmsIn(s, COMMITTED) === all,
      },
    ],
    isTerminal: () => true,
    ...(opts.symmetry ? { representative } : {}),
    codec: {
      words: 4,
      encode: (s, out, at) => { out[at] = s.rm; out[at + 1] = s.tm; out[at + 2] = s.tmPrepared; out[at + 3] = s.msgs },
      decode: (w, at) => R.make({ rm: w[at]! >>> 0, tm: w[at + 1]!, tmPrepared: w[at + 2]!, msgs: w[at + 3]! }),
    },
    formatEvent: (e) => ('rm' in e ? `${e._tag}(rm${e.rm})` : e._tag),
    actorOf: (e) => (e._tag.startsWith('TM') ? 'TM' : `RM${(e as { rm: number }).rm}`),
    formatState: (s) => `tm=${TM_NAMES[s.tm]} rm=[${states(s).map((v) => RM_NAMES[v]).join(',')}] prepared=${s.tmPrepared.toString(2)} msgs=${s.msgs.toString(2)}`,
  }
}
