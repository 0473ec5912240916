/** Checkpoint files: a BFS snapshot (checker/engine/explore.ts `Snapshot`) as JSON with base64 int columns. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Snapshot } from '../engine/explore.js'

export const CHECKPOINT_FILE = 'virq-checkpoint.json'

const enc = (a: Int32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64')
const dec = (s: string): Int32Array => {
  const b = Buffer.from(s, 'base64')
  const out = new Int32Array(b.byteLength / 4)
  new Uint8Array(out.buffer).set(b)
  return out
}

export interface CheckpointMeta {
  readonly model: string
  readonly params: Record<string, number>
  readonly bug?: string
}

/** Write atomically (temp file, then rename), so an interruption while writing never leaves a torn checkpoint. */
export const writeCheckpoint = (dir: string, meta: CheckpointMeta, s: Snapshot): string => {
  mkdirSync(dir, { recursive: true })
  const body = {
    ...meta, version: s.version, snapshotModel: s.model, generated: s.generated, maxDepth: s.maxDepth, cut: s.cut,
    parent: enc(s.parent), via: enc(s.via), depth: enc(s.depth), fingerprints: enc(s.fingerprints), pending: enc(s.pending),
    ...(s.edges ? { edges: { start: enc(s.edges.start), to: enc(s.edges.to), cls: enc(s.edges.cls), classes: s.edges.classes } } : {}),
    sometimes: s.sometimes,
  }
  const file = join(dir, CHECKPOINT_FILE)
  writeFileSync(file + '.tmp', JSON.stringify(body))
  renameSync(file + '.tmp', file)
  return file
}

export const readCheckpoint = (dir: string): { meta: CheckpointMeta; snapshot: Snapshot } => {
  const file = join(dir, CHECKPOINT_FILE)
  let b: Record<string, any>
  try {
    b = JSON.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    throw new Error(`${file}: cannot read a checkpoint (${(e as Error).message.split('\n')[0]})`)
  }
  if (b.version !== 1 || typeof b.model !== 'string' || typeof b.parent !== 'string') throw new Error(`${file}: not a virq checkpoint (version 1)`)
  const snapshot: Snapshot = {
    version: 1, model: b.snapshotModel, generated: b.generated, maxDepth: b.maxDepth, cut: b.cut,
    parent: dec(b.parent), via: dec(b.via), depth: dec(b.depth), fingerprints: dec(b.fingerprints), pending: dec(b.pending),
    ...(b.edges ? { edges: { start: dec(b.edges.start), to: dec(b.edges.to), cls: dec(b.edges.cls), classes: b.edges.classes } } : {}),
    sometimes: b.sometimes ?? {},
  }
  return { meta: { model: b.model, params: b.params, ...(b.bug ? { bug: b.bug } : {}) }, snapshot }
}
