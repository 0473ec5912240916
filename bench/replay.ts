/** Replay validation throughput: a generated 1,000,000-line trace in the host's raw tracefs format. */
import { Readable } from 'node:stream'
import { parseFtraceChunks } from '../traces/ftrace.js'
import { Validator } from '../traces/validate.js'

/** The host capture's PIC-edge cycle (shared/traces/host), repeated: pulse GSI 0, EOI, ack. */
function* lines(total: number): Generator<string> {
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
  while (n < total) {
    for (const c of cycle) {
      if (n >= total) return
      t += 0.000001
      yield `         vmm-1   [000] .....  ${t.toFixed(6)}: ${c}\n`
      n++
    }
  }
}

export const benchReplay = async (out: (line: string) => void): Promise<void> => {
  const total = 1_000_000
  const v = new Validator('generated.trace')
  const rss0 = process.memoryUsage().rss
  let peak = rss0
  const t0 = process.hrtime.bigint()
  let count = 0
  const outcome = await parseFtraceChunks(Readable.from(lines(total)), { file: 'generated.trace' }, (o) => {
    v.observe(o)
    if ((++count & 0xffff) === 0) peak = Math.max(peak, process.memoryUsage().rss)
  })
  const secs = Number(process.hrtime.bigint() - t0) / 1e9
  const verdict = v.end()
  out(`replay: ${total.toLocaleString('en-US')} lines parsed and validated in ${secs.toFixed(2)} s = ${Math.round(total / secs).toLocaleString('en-US')} lines/s; verdict ${verdict.verdict}${outcome.error ? ' (parse error!)' : ''}; RSS growth ${((peak - rss0) / 2 ** 20).toFixed(0)} MiB`)
}
