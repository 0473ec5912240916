/**
 * Properties of a model, named in kebab-case.
 *
 * - `always`: `holds(s)` on every reachable state (an invariant); a step
 *   property `holdsStep(before, event, after)` on every reachable transition
 *   (a rule about what one event may do, e.g. "EOI clears the highest ISR bit").
 * - `sometimes`: `holds(s)` on at least one reachable state: a coverage
 *   witness; an unreached one means the model is over-constrained.
 * - `eventually`: on every weakly-fair behaviour, `holds(s)` becomes true
 *   (checked as fair lassos and deadlocks, checker/README.md).
 */
export type Expectation = 'always' | 'sometimes' | 'eventually'

export interface StateProperty<S> {
  readonly name: string
  readonly expectation: Expectation
  readonly description: string
  /** Where the rule comes from: SDM section, kernel file and function, data sheet. */
  readonly source: string
  readonly holds: (s: S) => boolean
}

export interface StepProperty<S, E> {
  readonly name: string
  readonly expectation: 'always'
  readonly description: string
  readonly source: string
  readonly holdsStep: (before: S, event: E, after: S) => boolean
}

export type Property<S, E = never> = StateProperty<S> | StepProperty<S, E>

export const isStepProperty = <S, E>(p: Property<S, E>): p is StepProperty<S, E> => 'holdsStep' in p
