/**
 * A pool of worker threads that expands BFS batches for the checker. The main thread keeps the visited
 * set, the parent pointers and the queue, and merges the workers' results in queue order, so results
 * (counts, violations, counterexamples) are identical for any number of workers.
 */
import { Worker } from 'node:worker_threads'
import type { Expansion, ExpansionPool } from '../engine/explore.js'

export interface PoolModel {
  readonly model: string
  readonly params: Record<string, number>
  readonly bug?: string
}

export const createPool = <S>(workers: number, m: PoolModel, batchPerWorker = 2048): ExpansionPool<S> & { close(): Promise<void> } => {
  const url = new URL('./worker.js', import.meta.url)
  const ws = Array.from({ length: workers }, () => new Worker(url, { workerData: m, resourceLimits: { maxYoungGenerationSizeMb: 96 } }))
  const call = (w: Worker, states: ReadonlyArray<S | undefined>): Promise<ReadonlyArray<Expansion<S> | undefined>> =>
    new Promise((resolve, reject) => {
      const onMsg = (r: ReadonlyArray<Expansion<S> | undefined>): void => { w.off('error', onErr); resolve(r) }
      const onErr = (e: Error): void => { w.off('message', onMsg); reject(e) }
      w.once('message', onMsg)
      w.once('error', onErr)
      w.postMessage(states)
    })
  return {
    batchSize: batchPerWorker * workers,
    async expand(states) {
      const per = Math.ceil(states.length / ws.length)
      const parts = await Promise.all(ws.map((w, i) => (i * per < states.length ? call(w, states.slice(i * per, (i + 1) * per)) : Promise.resolve([]))))
      return parts.flat()
    },
    async close() {
      await Promise.all(ws.map((w) => w.terminate()))
    },
  }
}
