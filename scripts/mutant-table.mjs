#!/usr/bin/env node
// Prints the per-event mutation table of docs/mutants.md: for every committed real capture (and the
// host example capture), every single-event mutant (traces/mutants.ts), counted by event and kind as
// rejected/accepted. Also fails (exit 1) if any mutant is rejected before the line it touches.
// usage: npm run -s build && node scripts/mutant-table.mjs [FILE...]
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { mutants } from '../dist/traces/mutants.js'

const root = new URL('..', import.meta.url).pathname
const files = process.argv.slice(2).length ? process.argv.slice(2) : [
  ...readdirSync(join(root, 'test/fixtures/captures')).filter((f) => f.endsWith('.trace')).map((f) => join(root, 'test/fixtures/captures', f)),
  join(root, 'test/fixtures/traces/host-pic-edge-2-interrupts.trace'),
]
const kinds = ['remove', 'duplicate', 'move', 'alter']
const table = new Map()
let early = 0
for (const f of files) {
  for (const m of mutants(readFileSync(f, 'utf8'))) {
    const row = table.get(m.event) ?? Object.fromEntries(kinds.map((k) => [k, [0, 0]]))
    row[m.kind][m.verdict === 'diverges' ? 0 : 1]++
    table.set(m.event, row)
    if (m.verdict === 'diverges' && (m.divergedAt ?? 0) < m.firstTouched) { early++; console.error(`EARLY ${f}: ${m.kind} ${m.event} line ${m.line} rejected at ${m.divergedAt} (${m.rule})`) }
  }
}
console.log(`| event | ${kinds.map((k) => `${k} rej/acc`).join(' | ')} |`)
console.log(`|---|${kinds.map(() => '---').join('|')}|`)
for (const [ev, row] of [...table].sort((a, b) => a[0].localeCompare(b[0]))) console.log(`| \`${ev}\` | ${kinds.map((k) => row[k].join('/')).join(' | ')} |`)
console.log(`\n${files.length} files; ${early} mutants rejected early`)
process.exit(early ? 1 : 0)
