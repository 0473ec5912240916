#!/usr/bin/env node
// Import-boundary check (STYLE.md B4: one role per library). Fails with a list of
// offending imports. Run by `npm test` and CI.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const walk = (dir) => {
  let out = []
  let entries = []
  try { entries = readdirSync(dir) } catch { return out }
  for (const e of entries) {
    const p = join(dir, e)
    if (statSync(p).isDirectory()) out = out.concat(walk(p))
    else if (p.endsWith('.ts')) out.push(p)
  }
  return out
}
const importsOf = (file) => {
  const src = readFileSync(file, 'utf8')
  const re = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g
  const out = []
  let m
  while ((m = re.exec(src))) out.push(m[1] ?? m[2])
  return out
}
const rules = [
  { dir: 'model', allow: (s) => s.startsWith('.') || s === 'fp-ts' || s.startsWith('fp-ts/'), why: 'model/ is pure: relative imports and fp-ts only' },
  { dir: 'invariants', allow: (s) => (s.startsWith('.') && !s.includes('/checker/')) || s.startsWith('fp-ts'), why: 'invariants/ state rules over the model only' },
  { dir: 'checker/engine', allow: (s) => !s.startsWith('effect') && !s.startsWith('fast-check') && !s.startsWith('fp-ts'), why: 'the engine hot loop is plain TypeScript' },
  { dir: 'test/reference', allow: (s) => !s.includes('/model/') && !s.startsWith('fp-ts') && !s.startsWith('effect'), why: 'the naive reference is independent of model/' },
  { dir: 'traces', allow: (s) => !s.startsWith('fast-check') && !s.startsWith('fp-ts'), why: 'fp-ts stays inside the pure core; fast-check is for tests' },
  { dir: 'cli', allow: (s) => !s.startsWith('fast-check') && !s.startsWith('fp-ts'), why: 'fp-ts stays inside the pure core; fast-check is for tests' },
  { dir: 'checker/runtime', allow: (s) => !s.startsWith('fast-check') && !s.startsWith('fp-ts'), why: 'fp-ts stays inside the pure core' },
]
const bad = []
for (const r of rules) {
  for (const f of walk(join(root, r.dir))) {
    for (const s of importsOf(f)) if (!r.allow(s)) bad.push(`${relative(root, f)}: imports '${s}' (${r.why})`)
  }
}
// model/ must not use ambient impurity
for (const f of walk(join(root, 'model'))) {
  const src = readFileSync(f, 'utf8')
  for (const w of ['Math.random', 'Date.now', 'new Date', 'console.', 'process.']) if (src.includes(w)) bad.push(`${relative(root, f)}: uses ${w} (model/ is pure)`)
}
if (bad.length) {
  console.error(`import-boundary check failed (${bad.length}):\n  ` + bad.join('\n  '))
  process.exit(1)
}
console.log('import-boundary check: ok')
