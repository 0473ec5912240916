#!/usr/bin/env node
/**
 * `npm run bench`: every virq benchmark, with the machine noted. Figures are for
 * comparison on one machine (ratios), not absolute claims: these hosts are
 * 2-core, shared and noisy. Sections whose module is not built are reported as such.
 */
import os from 'node:os'
import { benchCore } from './core.js'

const out = (line: string): void => console.log(line)

const main = async (): Promise<void> => {
  out(`# virq bench — ${os.cpus()[0]?.model ?? 'unknown CPU'} ×${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString()}`)
  out('\n## delivery core (x86-irqchip, 2 vCPUs, seeded random walk)')
  benchCore(out)
  for (const [title, path, fn] of [
    ['checker', './checker.js', 'benchChecker'],
    ['replay validator', './replay.js', 'benchReplay'],
  ] as const) {
    out(`\n## ${title}`)
    let mod: Record<string, unknown>
    try {
      mod = (await import(path)) as Record<string, unknown>
    } catch (e) {
      out(`(not available in this build: ${(e as Error).message.split('\n')[0]})`)
      continue
    }
    const f = mod[fn]
    if (typeof f === 'function') await (f as (o: typeof out) => Promise<void>)(out)
    else out(`(${path} has no ${fn})`)
  }
}

main().catch((e: unknown) => {
  console.error(`virq bench: ${(e as Error).message}`)
  process.exitCode = 1
})
