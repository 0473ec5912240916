/** `virq replay FILE…`: does the model explain a real kernel trace? */
import { createReadStream, existsSync, statSync } from 'node:fs'
import { parseFtraceChunks } from '../traces/ftrace.js'
import { formatTraceError } from '../traces/errors.js'
import { Validator, type Verdict } from '../traces/validate.js'
import { EXIT, UsageError, type Command } from './command.js'

export const replayFile = async (file: string): Promise<{ verdict?: Verdict; error?: string }> => {
  const v = new Validator(file)
  const outcome = await parseFtraceChunks(createReadStream(file), { file }, (o) => v.observe(o))
  // A file of bare event names (no fields) carries nothing to check: unsupported, not malformed.
  if (outcome.error && outcome.error.code === 'HVT011' && v.end().observations === 0)
    return { verdict: { ...v.end(), verdict: 'unsupported', notes: [`${formatTraceError(outcome.error).split('\n')[0]}`] } }
  if (outcome.error) return { error: formatTraceError(outcome.error) }
  return { verdict: v.end() }
}

export const replayCommand: Command = {
  name: 'replay',
  summary: 'validate ftrace output of a real host against the model (explained / not explained, where and why)',
  usage: `usage: virq replay FILE... [--json]

Reads trace-cmd report or /sys/kernel/tracing/trace text, replays the kvm:* events through
the model's device reducers and reports, per file, whether the model explains the trace; if
not, the first contradiction: file:line, the rule, what the model expected and what the trace
shows. Rules and assumptions: traces/validate.ts.
exit: 0 every file explained (or nothing checkable: 'unsupported'), 1 some file not explained,
      2 a file is missing or malformed (file:line: problem)`,
  run: async (args) => {
    const json = args.includes('--json')
    const files = args.filter((a) => a !== '--json')
    const bad = files.find((f) => f.startsWith('--'))
    if (bad) throw new UsageError(`unknown option '${bad}'`)
    if (files.length === 0) throw new UsageError('missing FILE')
    for (const f of files) if (!existsSync(f) || !statSync(f).isFile()) throw new UsageError(`${f}: no such file`)
    const results: Verdict[] = []
    for (const f of files) {
      const r = await replayFile(f)
      if (r.error) throw new UsageError(r.error)
      results.push(r.verdict!)
    }
    if (json) process.stdout.write(JSON.stringify(results, null, 1) + '\n')
    else
      for (const r of results) {
        const checks = Object.entries(r.rulesChecked).map(([k, n]) => `${k} ×${n}`).join(', ')
        process.stdout.write(`${r.file}: ${r.verdict.toUpperCase()} (${r.observations} events${checks ? `; checked ${checks}` : ''})\n`)
        if (r.contradiction) {
          const c = r.contradiction
          process.stdout.write(`  ${c.file}:${c.line}: ${c.rule}\n    trace:    ${c.text}\n    expected: ${c.expected}\n    observed: ${c.observed}\n`)
        }
      }
    return results.some((r) => r.verdict === 'not-explained') ? EXIT.finding : EXIT.ok
  },
}
