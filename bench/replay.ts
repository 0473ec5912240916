/** Replay validation throughput: a generated 1,000,000-line trace in the host's raw tracefs format. */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseFtraceChunks } from '../traces/ftrace.js'
import { Validator } from '../traces/validate.js'

/** The host capture's PIC-edge cycle (shared/traces/host), repeated: pulse GSI 0, EOI, ack. */
function* lines(total: number, hidden = false): Generator<string> {
  const head = [
    '# tracer: nop', '#',
    '         vmm-1   [001] .....  1.000000: kvm_pio: pio_write at 0x20 size 1 count 1 val 0x11 ',
    '         vmm-1   [001] .....  1.000001: kvm_pio: pio_write at 0x21 size 1 count 1 val 0x20 ',
    '         vmm-1   [001] .....  1.000002: kvm_pio: pio_write at 0x21 size 1 count 1 val 0x4 ',
    '         vmm-1   [001] .....  1.000003: kvm_pio: pio_write at 0x21 size 1 count 1 val 0x1 ',
    '         vmm-1   [001] .....  1.000004: kvm_pio: pio_write at 0x21 size 1 count 1 val 0xfe ',
  ]
  let n = 0
  for (const l of head) { yield l + '\n'; n++ }
  let t = 2
  const cycle = [
    'kvm_set_irq: gsi 0 level 1 source 0', 'kvm_ioapic_set_irq: pin 0 dst 0 vec 0 (Fixed|physical|edge|masked)', 'kvm_pic_set_irq: chip 0 pin 0 (edge)',
    'kvm_set_irq: gsi 0 level 0 source 0', 'kvm_ioapic_set_irq: pin 0 dst 0 vec 0 (Fixed|physical|edge|masked)', 'kvm_pic_set_irq: chip 0 pin 0 (edge)',
    'kvm_pio: pio_write at 0x20 size 1 count 1 val 0x20 ', 'kvm_ack_irq: irqchip PIC master pin 0',
  ]
  // hidden steps: the guest's EOI write and its ack are not in the trace (as when kvm_pio is not
  // enabled), so the validator carries every PIC state the unobserved steps allow
  const used = hidden ? cycle.slice(0, 6) : cycle
  while (n < total) {
    for (const c of used) {
      if (n >= total) return
      t += 0.000001
      yield `         vmm-1   [000] .....  ${t.toFixed(6)}: ${c}\n`
      n++
    }
  }
}

const run = async (total: number, hidden: boolean): Promise<{ secs: number; growth: number; live: number; verdict: string; error: boolean }> => {
  // Written to a file and streamed from it, as `virq replay` reads (a Readable.from(generator) source
  // would itself buffer ahead and hide what the parser and validator keep).
  const dir = mkdtempSync(join(tmpdir(), 'virq-bench-'))
  const file = join(dir, 'generated.trace')
  writeFileSync(file, [...lines(total, hidden)].join(''))
  const v = new Validator('generated.trace')
  if (global.gc) global.gc()
  const rss0 = process.memoryUsage().rss
  let peak = rss0
  const t0 = process.hrtime.bigint()
  let count = 0
  let live = 0
  const outcome = await parseFtraceChunks(createReadStream(file), { file: 'generated.trace' }, (o) => {
    v.observe(o)
    if ((++count & 0xffff) === 0) peak = Math.max(peak, process.memoryUsage().rss)
    // live heap after a collection, every 2^17 observations (needs --expose-gc; bench/main runs with it)
    if ((count & 0x1ffff) === 0 && global.gc) { global.gc(); live = Math.max(live, process.memoryUsage().heapUsed) }
  })
  const secs = Number(process.hrtime.bigint() - t0) / 1e9
  rmSync(dir, { recursive: true, force: true })
  return { secs, growth: (peak - rss0) / 2 ** 20, live: live / 2 ** 20, verdict: v.end().verdict, error: outcome.error !== undefined }
}

/** Lines/s and RSS growth at 250k, 500k and 1M lines, fully observed and with hidden steps: flat memory means the growth does not scale with the length. */
export const benchReplay = async (out: (line: string) => void): Promise<void> => {
  for (const hidden of [false, true]) {
    for (const total of [250_000, 500_000, 1_000_000]) {
      const r = await run(total, hidden)
      out(`replay (${hidden ? 'hidden EOIs' : 'full observability'}): ${total.toLocaleString('en-US')} lines in ${r.secs.toFixed(2)} s = ${Math.round(total / r.secs).toLocaleString('en-US')} lines/s; verdict ${r.verdict}${r.error ? ' (parse error!)' : ''}; peak RSS growth ${r.growth.toFixed(0)} MiB${r.live > 0 ? `, peak live heap ${r.live.toFixed(1)} MiB` : ' (run node with --expose-gc for the live heap)'}`)
    }
  }
}
