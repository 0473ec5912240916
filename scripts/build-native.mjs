// Builds the capture harness's native helper (native/, see its Makefile) during `npm ci`/`npm install`
// (the "prepare" script). Where make, gcc or GNU as are missing, it says so and the install goes on:
// only `virq capture` needs the helper, and it reports the same reason when run.
import { execFileSync, spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const have = (cmd) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0
const missing = ['make', 'gcc', 'as', 'ld', 'objcopy'].filter((c) => !have(c))
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log(`virq: not building native/ (the KVM capture helper is x86-64 Linux only; this is ${process.platform}/${process.arch})`)
} else if (missing.length > 0) {
  console.log(`virq: not building native/ (missing: ${missing.join(', ')}); \`virq capture\` will be unavailable`)
} else {
  try {
    execFileSync('make', ['-s', '-C', join(root, 'native')], { stdio: 'inherit' })
  } catch {
    console.log('virq: building native/ failed (see above); `virq capture` will be unavailable, everything else works')
  }
}
