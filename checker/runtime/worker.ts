/**
 * Worker thread of the parallel checker: builds the model from the registry (id, params, bug), then
 * expands the batches of states it is sent. It remembers the fingerprints it has already handed back
 * and omits those states (the main thread has them), so most duplicate successors cost 8 bytes, not a
 * cloned state.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { buildModel } from '../../models/registry.js'
import { expander } from '../engine/explore.js'
import { FingerprintSet } from '../engine/FingerprintSet.js'
import type { Hashed } from '../../model/core/hash.js'

const { model, params, bug } = workerData as { model: string; params: Record<string, number>; bug?: string }
const { spec } = buildModel(model, params, bug)
const sent = new FingerprintSet()
let n = 0
const expand = expander(spec, { has: (a, b) => sent.get(a, b) >= 0, add: (a, b) => void sent.add(a, b, n++) })

parentPort!.on('message', (states: ReadonlyArray<Hashed | undefined>) => {
  parentPort!.postMessage(states.map((s) => (s === undefined ? undefined : expand(s))))
})
