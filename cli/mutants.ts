/** `virq mutants FILE`: the validator's mutation sweep on a conforming trace (docs/mutants.md). */
import { existsSync, readFileSync } from 'node:fs'
import { mutants, reasonAccepted, validateText, type Mutant } from '../traces/mutants.js'
import { EXIT, UsageError, type Command } from './command.js'

const usage = `usage: virq mutants FILE [--json] [--accepted]

Derives every single-event mutant of FILE (an ftrace text trace that conforms): each observed event
removed, duplicated, swapped with the next record, or altered (its first number + 1), and replays
each. Prints, per kind, how many the validator rejects and accepts; --accepted lists each accepted
mutant with the reason it is still explainable (or not refutable from the trace).

exit: 0 FILE conforms and no mutant is rejected before the line it touches; 1 FILE does not conform,
      or some mutant is rejected too early (a validator bug); 2 unreadable FILE.`

export const mutantsCommand: Command = {
  name: 'mutants',
  summary: 'mutation sweep of the replay validator on a conforming trace (remove, duplicate, move, alter each event)',
  usage,
  run: async (args) => {
    const files = args.filter((a) => !a.startsWith('-'))
    const unknown = args.filter((a) => a.startsWith('-') && a !== '--json' && a !== '--accepted')
    if (unknown.length) throw new UsageError(`unknown option ${unknown[0]}\n${usage}`)
    if (files.length !== 1) throw new UsageError(`one trace file\n${usage}`)
    const file = files[0]!
    if (!existsSync(file)) throw new UsageError(`${file}: no such file`)
    const text = readFileSync(file, 'utf8')
    const base = validateText(text, file)
    if (base.verdict !== 'conforms') {
      const c = base.contradiction
      process.stderr.write(`virq mutants: ${file} does not conform${c ? ` (line ${c.line}: ${c.rule})` : ` (${base.verdict})`}; the sweep needs a conforming trace\n`)
      return EXIT.finding
    }
    const ms = mutants(text)
    const early = ms.filter((m) => m.verdict === 'diverges' && (m.divergedAt ?? 0) < m.firstTouched)
    const kinds = ['remove', 'duplicate', 'move', 'alter'] as const
    const table = kinds.map((k) => ({ kind: k, rejected: ms.filter((m) => m.kind === k && m.verdict === 'diverges').length, accepted: ms.filter((m) => m.kind === k && m.verdict !== 'diverges').length }))
    const accepted = ms.filter((m) => m.verdict !== 'diverges')
    if (args.includes('--json')) {
      process.stdout.write(JSON.stringify({ file, mutants: ms.length, table, early, accepted: accepted.map((m: Mutant) => ({ ...m, reason: reasonAccepted(m) })) }) + '\n')
    } else {
      process.stdout.write(`${file}: ${ms.length} mutants\n`)
      for (const r of table) process.stdout.write(`  ${r.kind.padEnd(10)} rejected ${String(r.rejected).padStart(4)}  accepted ${String(r.accepted).padStart(4)}\n`)
      for (const m of early) process.stdout.write(`  EARLY: ${m.kind} of ${m.event} at line ${m.line} rejected at line ${m.divergedAt} (${m.rule}), before the mutation\n`)
      if (args.includes('--accepted')) for (const m of accepted) process.stdout.write(`  accepted: ${m.kind} ${m.event} line ${m.line}: ${reasonAccepted(m)}\n`)
    }
    return early.length > 0 ? EXIT.finding : EXIT.ok
  },
}
