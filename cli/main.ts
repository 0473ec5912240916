#!/usr/bin/env -S node --max-semi-space-size=32
/** The `virq` command line. Every error is one line on stderr and an exit code (cli/command.ts), never a stack trace. */
import { checkAllCommand, checkCommand, minimizeCommand, modelsCommand } from './check.js'
import { EXIT, UsageError, type Command } from './command.js'
import { captureCommand } from './capture.js'
import { mutantsCommand } from './mutants.js'

const loadReplay = async (): Promise<Command | undefined> => {
  try {
    const mod = (await import('./replay.js' as string)) as { replayCommand?: Command }
    return mod.replayCommand
  } catch {
    return undefined
  }
}

const main = async (argv: ReadonlyArray<string>): Promise<number> => {
  const replay = await loadReplay()
  const commands: Command[] = [modelsCommand, checkCommand, checkAllCommand, minimizeCommand, ...(replay ? [replay] : []), captureCommand, mutantsCommand]
  const help = `virq — a formal, executable model of KVM virtual interrupt delivery

usage: virq <command> [options]   (virq <command> --help for details)

commands:
${commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}
`
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help)
    return name ? EXIT.ok : EXIT.usage
  }
  const cmd = commands.find((c) => c.name === name)
  if (!cmd) {
    process.stderr.write(`virq: unknown command '${name}'${name === 'replay' ? ' (replay is not available in this build)' : ''}\n\n${help}`)
    return EXIT.usage
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(cmd.usage + '\n')
    return EXIT.ok
  }
  try {
    return await cmd.run(rest)
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`virq ${cmd.name}: ${e.message}\n`)
      return EXIT.usage
    }
    process.stderr.write(`virq ${cmd.name}: internal error: ${(e as Error).message}\n(please report this with the command line; set VIRQ_DEBUG=1 for a stack trace)\n`)
    if (process.env.VIRQ_DEBUG) process.stderr.write(`${(e as Error).stack}\n`)
    return 70
  }
}

// A closed pipe (`virq … | head`) ends the output quietly, as for any Unix filter.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw e
})

main(process.argv.slice(2)).then((code) => { process.exitCode = code })
