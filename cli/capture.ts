/**
 * `virq capture SCENARIO -o FILE`: run a guest scenario on the real /dev/kvm with the native helper
 * (native/virq-vmm, built by `npm ci`), record the kernel's kvm:* tracepoints from a private tracefs
 * instance, then replay the capture against the model. docs/capture.md describes the scenarios.
 */
import { execFileSync, spawn } from 'node:child_process'
import { accessSync, constants, existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { replayFile } from './replay.js'
import { EXIT, UsageError, type Command } from './command.js'

const here = dirname(fileURLToPath(import.meta.url))
/** dist/cli → repository root → native/build/virq-vmm (VIRQ_VMM overrides). */
export const helperPath = (): string => process.env.VIRQ_VMM ?? resolve(here, '..', '..', 'native', 'build', 'virq-vmm')

/** Why a capture cannot run here, or undefined when /dev/kvm and the helper are usable. */
export const captureUnavailable = (): string | undefined => {
  const helper = helperPath()
  if (!existsSync(helper)) return `the native helper ${helper} is not built (run \`make -C native\`; it needs gcc and GNU as)`
  if (!existsSync('/dev/kvm')) return '/dev/kvm is absent on this machine (no KVM): record elsewhere, or under emulation with scripts/capture-in-qemu.sh'
  try { accessSync('/dev/kvm', constants.R_OK | constants.W_OK) } catch { return '/dev/kvm is not readable and writable by this user' }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'tracefs instances need root (run as root, or record with sudo)'
  return undefined
}

/** The scenarios the helper knows: name and one line each. */
export const scenarios = (): Array<{ name: string; about: string }> => {
  const out = execFileSync(helperPath(), ['--list'], { encoding: 'utf8' })
  return out.trim().split('\n').map((l) => { const [name, about] = l.split('\t'); return { name: name ?? '', about: about ?? '' } })
}

const usage = `usage: virq capture SCENARIO -o FILE [--no-replay] [--json]
       virq capture --list

Runs SCENARIO in a real guest on /dev/kvm with the native helper (native/build/virq-vmm), records the
kernel's kvm:* tracepoints and the helper's KVM ioctls (syscalls:sys_enter_ioctl) from a private
tracefs instance (instances/virq-PID, removed afterwards), writes them to FILE with the kernel version
and the formats of the events, then replays FILE against the model (as \`virq replay FILE\`).

  --list        the scenarios, one per line
  --no-replay   record only
  --json        print the replay result as JSON

exit: 0 recorded (and conforms), 1 the scenario failed or the capture diverges, 2 bad usage,
      3 cannot record here (no /dev/kvm, not root, no tracefs, helper not built), saying why.
Without /dev/kvm: scripts/capture-in-qemu.sh OUTDIR records the same scenarios in a kernel run under
QEMU's emulation (docs/capture.md).`

export const captureCommand: Command = {
  name: 'capture',
  summary: 'record a real KVM trace of a guest scenario (needs /dev/kvm and root), then replay it',
  usage,
  run: async (args) => {
    let scenario: string | undefined
    let out: string | undefined
    let replay = true
    let json = false
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!
      if (a === '--list') {
        if (!existsSync(helperPath())) throw new UsageError(`the native helper ${helperPath()} is not built (run \`make -C native\`)`)
        for (const s of scenarios()) process.stdout.write(`${s.name.padEnd(16)} ${s.about}\n`)
        return EXIT.ok
      } else if (a === '-o' || a === '--output') {
        out = args[++i]
        if (!out) throw new UsageError(`${a} needs a file name`)
      } else if (a === '--no-replay') replay = false
      else if (a === '--json') json = true
      else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}\n${usage}`)
      else if (!scenario) scenario = a
      else throw new UsageError(`one scenario at a time (got ${scenario} and ${a})`)
    }
    if (!scenario) throw new UsageError(`which scenario?\n${usage}`)
    if (!out) throw new UsageError('-o FILE is required (where to write the capture)')
    if (existsSync(helperPath())) {
      const known = scenarios().map((s) => s.name)
      if (!known.includes(scenario)) throw new UsageError(`unknown scenario '${scenario}' (known: ${known.join(', ')})`)
    }
    const why = captureUnavailable()
    if (why) {
      process.stderr.write(`virq capture: cannot record here: ${why}\n`)
      return EXIT.incomplete
    }
    const file = resolve(out)
    const code = await new Promise<number>((res) => {
      const child = spawn(helperPath(), ['--trace', file, '--instance', `virq-${process.pid}`, scenario!], { stdio: ['ignore', 'inherit', 'pipe'] })
      child.stderr.on('data', (d: Buffer) => process.stderr.write(d))
      // Ctrl-C reaches the helper too (same process group); it removes its tracefs instance on SIGINT.
      child.on('close', (c) => res(c ?? 1))
    })
    if (code === 3) return EXIT.incomplete
    if (code !== 0) return EXIT.finding
    if (!replay) return EXIT.ok
    const r = await replayFile(file)
    if (r.error || !r.result) {
      process.stderr.write(`virq capture: ${r.error ?? 'the capture could not be read'}\n`)
      return EXIT.usage
    }
    const res = r.result
    if (json) process.stdout.write(JSON.stringify({ scenario, ...res }) + '\n')
    else {
      const checks = Object.entries(res.rulesChecked ?? {}).map(([k, n]) => `${k} ×${n}`).join(', ')
      process.stdout.write(`${file}: ${res.result.toUpperCase()} (${res.eventsRead} events read, ${res.observationsUsed} used${checks ? `; checked ${checks}` : ''})\n`)
      if (res.line !== undefined) process.stdout.write(`  line ${res.line}: ${res.reason}\n`)
    }
    return res.result === 'diverges' ? EXIT.finding : EXIT.ok
  },
}
