/**
 * One `virq` subcommand. `cli/main.ts` dispatches `virq <name> ...args` to
 * `run(args)`, which returns the process exit code:
 *   0 ok / all properties hold / trace explained
 *   1 a property violated / trace not explained (a finding, not an error)
 *   2 usage error or bad input (message names the file, line and problem)
 *   3 incomplete (interrupted, state or time limit reached)
 * Commands print errors as `virq <name>: <message>` on stderr, never a stack trace.
 */
export interface Command {
  readonly name: string
  /** One line for `virq --help`. */
  readonly summary: string
  /** Full `virq <name> --help` text. */
  readonly usage: string
  readonly run: (args: ReadonlyArray<string>) => Promise<number>
}

/** A usage or input error: `cli/main.ts` prints `virq <cmd>: <message>` and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

export const EXIT = { ok: 0, finding: 1, usage: 2, incomplete: 3 } as const
