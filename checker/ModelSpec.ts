/**
 * The contract between a model and the checker.
 *
 * A model is a pure transition system: initial states, the events enabled in
 * a state (in a canonical order: the checker's results depend on it), and a
 * total, deterministic `reduce`. States are hashed immutable records
 * (`model/core/Record.ts`): `fingerprint` returns the `Hashed` whose cached
 * 64-bit hash (`h1`, `h2`) identifies the state, normally the state itself or
 * its canonical representative under a symmetry.
 */
import type { Hashed } from '../model/core/hash.js'
import type { StateProperty, StepProperty } from '../invariants/Property.js'

export interface ModelSpec<S extends Hashed, E extends { readonly _tag: string }> {
  /** kebab-case model id, e.g. `x86-irqchip`. */
  readonly id: string
  readonly initStates: () => ReadonlyArray<S>
  /** Next events in canonical order; `[]` means the state is terminal (a deadlock unless `isTerminal`). */
  readonly enabled: (s: S) => ReadonlyArray<E>
  readonly reduce: (s: S, e: E) => S
  /** always / sometimes / eventually properties over states. */
  readonly properties: ReadonlyArray<StateProperty<S>>
  /** always-properties over transitions (before, event, after). */
  readonly stepProperties?: ReadonlyArray<StepProperty<S, E>>
  /** The hashed value that identifies `s` (default: `s`). */
  readonly fingerprint?: (s: S) => Hashed
  /** Canonical representative of the symmetry class of `s` (e.g. sorted vCPUs); applied before fingerprinting. */
  readonly representative?: (s: S) => S
  /** A state with no enabled events that is an accepted end (not a deadlock). */
  readonly isTerminal?: (s: S) => boolean
  readonly formatEvent?: (e: E) => string
  /** Who performs the event (a vCPU, a device, the kernel): a column in the counterexample timeline. */
  readonly actorOf?: (e: E) => string
  /** Weak-fairness class of an event (undefined = unfair): used by `eventually` (fair lassos). */
  readonly fairness?: (e: E) => string | undefined
  /**
   * A fixed-width encoding of states as 32-bit words. With it, the parallel BFS keeps each level's
   * frontier in shared memory, so any worker can take any state (checker/runtime/parallel.ts); without
   * it, `--workers` uses the merge pool. `decode(encode(s))` must equal `s`, hash included.
   */
  readonly codec?: StateCodec<S>
  /** A readable one-line rendering of a state for counterexamples. */
  readonly formatState?: (s: S) => string
}

export interface StateCodec<S> {
  readonly words: number
  readonly encode: (s: S, out: Int32Array<ArrayBufferLike>, at: number) => void
  readonly decode: (src: Int32Array<ArrayBufferLike>, at: number) => S
}
