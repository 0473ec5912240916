/**
 * The record-header grammar of ftrace text output: which layout a line is in, and where its event
 * name and field text are.
 *
 * Layouts recognised (spec §1.7 "Line format", hyperv-synic-arm-vgic.md A.8.1, INDEX.md "Parsing notes"):
 *
 * | layout           | shape                                                        | seen in            |
 * |------------------|--------------------------------------------------------------|--------------------|
 * | `ftrace`         | `comm-pid [cpu] flags ts: event: fields` (tracefs `trace`, `trace_pipe`; flags 4 or 5 chars; optional `(tgid)`) | 05, 11, 13, 18-21, host example |
 * | `trace-cmd`      | `comm-pid [cpu] ts: event: fields` (no flags; event padded)  | 04, 08, 12         |
 * | `perf`           | `comm pid[/tid] [cpu] ts: sys:event: fields` (perf script)   | 02, 03, 16         |
 * | `perf-prof`      | `YYYY-MM-DD hh:mm:ss.us [G] comm pid flags [cpu] ts: sys:event: fields` | 07      |
 * | `no-pid`         | `comm [cpu] ts: event: fields` (condensed by an author)       | 06                 |
 * | `no-cpu`         | `comm-pid ts: event: fields`                                  | 06                 |
 * | `timestamp-only` | `ts: event: fields`                                           | 01                 |
 * | `bare`           | `event: fields` (all columns stripped), or an event name alone | 09, 10, 14, 15, 17 |
 *
 * `comm` may contain spaces and dashes (`CPU 0/KVM`, `qemu-system-x86`, `kworker/5:2-eve`), so the
 * pid is found as the last `-digits` (ftrace) or ` digits` (perf) before the `[cpu]` column.
 *
 * A header-less (`bare`) line is accepted only when its event name is a known tracepoint or has a
 * KVM-like prefix (`kvm_`, `vgic_`, `kvmmmu_`, `sys_enter_`, `sys_exit_`) or a `system:` prefix, so
 * that prose like `Note: …` is not taken for an event.
 */
import { isKnownEvent } from './fields.js'

export type Layout = 'ftrace' | 'trace-cmd' | 'perf' | 'perf-prof' | 'no-pid' | 'no-cpu' | 'timestamp-only' | 'bare'
export const layouts: ReadonlyArray<Layout> = ['ftrace', 'trace-cmd', 'perf', 'perf-prof', 'no-pid', 'no-cpu', 'timestamp-only', 'bare']

/** A line that has a record header. */
export interface ParsedRecord {
  readonly layout: Layout
  readonly task: string | undefined
  readonly pid: number | undefined
  readonly cpu: number | undefined
  readonly timestamp: number | undefined
  readonly flags: string | undefined
  /** `kvm` of `kvm:kvm_exit`, when printed. */
  readonly system: string | undefined
  /** The event name; `undefined` for a header without an event (a record wrapped after its timestamp). */
  readonly event: string | undefined
  /** The field text after `event:` and its separating blanks (may be empty). */
  readonly fields: string
  /** The header matched but what follows the timestamp is not `event: …` (e.g. a function-tracer line). */
  readonly noEvent?: true
}

const FTRACE = /^\s*(.+?)-(\d+)\s+(?:\(\s*(?:\d+|-+)\)\s+)?\[(\d+)\]\s+(?:([^\s[\]]{4,5})\s+)?(\d+\.\d+):(?:\s+(.*)|\s*)$/
const PERF = /^\s*(.+?)\s+(\d+)(?:\/(\d+))?\s+(?:([^\s[\]]{4,5})\s+)?\[(\d+)\]\s+(?:([^\s[\]]{4,5})\s+)?(\d+\.\d+):(?:\s+(.*)|\s*)$/
const NO_PID = /^\s*(\S.*?)\s+\[(\d+)\]\s+(?:([^\s[\]]{4,5})\s+)?(\d+\.\d+):(?:\s+(.*)|\s*)$/
const NO_CPU = /^\s*(.+?)-(\d+)\s+(?:([^\s[\]]{4,5})\s+)?(\d+\.\d+):(?:\s+(.*)|\s*)$/
const TS_ONLY = /^\s*(\d+\.\d+):(?:\s+(.*)|\s*)$/
const PERF_PROF_PREFIX = /^\s*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?\s+(?:G\s+)?/
const EVENT = /^(?:([A-Za-z_]\w*):)?([A-Za-z_]\w*):(?:\s+|$)/
const BARE = /^\s*(?:([a-z_][a-z0-9_]*):)?([a-z_][a-z0-9_]*):(?:\s+(.*)|\s*)$/
const BARE_NAME = /^\s*(?:([a-z_][a-z0-9_]*):)?([a-z_][a-z0-9_]*)\s*$/
const KVM_LIKE = /^(kvm_|kvmmmu_|vgic_|sys_enter_|sys_exit_)/

/**
 * tracefs prints syscall events in their own layout, not the `print fmt` of their format file
 * (kernel/trace/trace_syscalls.c `print_syscall_enter`: `sys_ioctl(fd: 5, cmd: ae80, arg: 0)`, each
 * argument `%lx` without 0x; `print_syscall_exit`: `sys_ioctl -> 0x0`). Such a record is read as
 * `sys_enter_<name>` / `sys_exit_<name>` with its fields in the format file's form
 * (`fd: 0x5, cmd: 0xae80, arg: 0x0`), as trace-cmd and perf print them.
 */
const SYSCALL_ENTER = /^sys_([a-z0-9_]+)\((.*)\)\s*$/
const SYSCALL_EXIT = /^sys_([a-z0-9_]+) -> (0x[0-9a-f]+)\s*$/
const syscallRecord = (rest: string): { system: string | undefined; event: string; fields: string } | undefined => {
  let m = SYSCALL_ENTER.exec(rest)
  if (m) {
    const fields = (m[2] ?? '').split(', ').map((a) => a.replace(/^([a-z_0-9]+): ([0-9a-f]+)$/, '$1: 0x$2')).join(', ')
    return { system: undefined, event: `sys_enter_${m[1]}`, fields }
  }
  m = SYSCALL_EXIT.exec(rest)
  if (m) return { system: undefined, event: `sys_exit_${m[1]}`, fields: m[2] ?? '' }
  return undefined
}

const splitEvent = (rest: string | undefined): { system: string | undefined; event: string | undefined; fields: string; noEvent?: true } => {
  if (rest === undefined || rest.length === 0) return { system: undefined, event: undefined, fields: '' }
  const m = EVENT.exec(rest)
  if (!m) return syscallRecord(rest) ?? { system: undefined, event: undefined, fields: rest, noEvent: true }
  return { system: m[1], event: m[2], fields: rest.slice(m[0].length) }
}

const isEventLike = (name: string, system: string | undefined): boolean =>
  system !== undefined || isKnownEvent(name) || KVM_LIKE.test(name)

/** Whether a bare (header-less) name is taken for an event (see the module header). */
export const isBareEventName = (name: string): boolean => isKnownEvent(name) || KVM_LIKE.test(name)

const trimTask = (s: string): string => s.trim()

/**
 * Parse the record header of one logical line; `undefined` when the line has none.
 *
 * @example parseRecord(' <...>-3441924 [004] .... 1907374.582975: kvm_set_irq: gsi 0 level 1 source 0')
 *   // { layout: 'ftrace', task: '<...>', pid: 3441924, cpu: 4, flags: '....', timestamp: 1907374.582975, event: 'kvm_set_irq', fields: 'gsi 0 level 1 source 0', … }
 */
export const parseRecord = (line: string): ParsedRecord | undefined => {
  let m = FTRACE.exec(line)
  if (m) {
    const flags = m[4]
    return {
      layout: flags !== undefined ? 'ftrace' : 'trace-cmd',
      task: trimTask(m[1] ?? ''), pid: Number(m[2]), cpu: Number(m[3]), flags, timestamp: Number(m[5]),
      ...splitEvent(m[6]),
    }
  }
  let text = line
  let layout: Layout = 'perf'
  const pp = PERF_PROF_PREFIX.exec(line)
  if (pp) {
    text = line.slice(pp[0].length)
    layout = 'perf-prof'
    m = FTRACE.exec(text)
    if (m) {
      return {
        layout, task: trimTask(m[1] ?? ''), pid: Number(m[2]), cpu: Number(m[3]), flags: m[4], timestamp: Number(m[5]),
        ...splitEvent(m[6]),
      }
    }
  }
  m = PERF.exec(text)
  if (m) {
    return {
      layout, task: trimTask(m[1] ?? ''), pid: Number(m[2]), cpu: Number(m[5]), flags: m[4] ?? m[6], timestamp: Number(m[7]),
      ...splitEvent(m[8]),
    }
  }
  m = NO_PID.exec(line)
  if (m) {
    return { layout: 'no-pid', task: trimTask(m[1] ?? ''), pid: undefined, cpu: Number(m[2]), flags: m[3], timestamp: Number(m[4]), ...splitEvent(m[5]) }
  }
  m = NO_CPU.exec(line)
  if (m) {
    return { layout: 'no-cpu', task: trimTask(m[1] ?? ''), pid: Number(m[2]), cpu: undefined, flags: m[3], timestamp: Number(m[4]), ...splitEvent(m[5]) }
  }
  m = TS_ONLY.exec(line)
  if (m) {
    return { layout: 'timestamp-only', task: undefined, pid: undefined, cpu: undefined, flags: undefined, timestamp: Number(m[1]), ...splitEvent(m[2]) }
  }
  m = BARE.exec(line)
  if (m && isEventLike(m[2] ?? '', m[1])) {
    return { layout: 'bare', task: undefined, pid: undefined, cpu: undefined, flags: undefined, timestamp: undefined, system: m[1], event: m[2], fields: m[3] ?? '' }
  }
  m = BARE_NAME.exec(line)
  if (m && isEventLike(m[2] ?? '', m[1])) {
    return { layout: 'bare', task: undefined, pid: undefined, cpu: undefined, flags: undefined, timestamp: undefined, system: m[1], event: m[2], fields: '' }
  }
  return undefined
}

// ---------------------------------------------------------------- non-record lines

export type SpecialLine =
  | { readonly kind: 'blank' }
  /** `#` lines: ftrace headers, capture-harness metadata (`# kernel: …`), commentary. */
  | { readonly kind: 'comment'; readonly key?: string; readonly value?: string }
  /** trace-cmd report header lines (`version = 6`, `cpus=2`, `CPU 3 is empty`). */
  | { readonly kind: 'trace-cmd-header' }
  | { readonly kind: 'lost-events'; readonly cpu: number | undefined; readonly lost: number | undefined }
  | { readonly kind: 'buffer-started'; readonly cpu: number }
  /** `...`, `[...]`, `<snip>`: the poster left events out here. */
  | { readonly kind: 'elision' }

const LOST = /^\s*CPU:?\s*(\d+)\s*\[LOST (\d+) EVENTS\]\s*$/i
const LOST_GENERIC = /^\s*(?:CPU:?\s*(\d+)\s*)?\[?\s*LOST (\d+) EVENTS?\s*\]?!?\s*$/i
const BUFFER_STARTED = /^\s*#{3,}\s*CPU (\d+) buffer started\s*#{3,}\s*$/
const KEY_VALUE = /^#\s*([A-Za-z][\w.-]*(?: [\w.-]+)?)\s*[:=]\s*(.*?)\s*$/
const TRACE_CMD = /^\s*(?:cpus=\d+|version = \d+|CPU \d+ is empty|CPU\d+ data recorded at offset=.*|trace-cmd: .*)\s*$/
const ELISION = /^\s*(?:\.{3,}|…+|\[\s*(?:\.{3,}|…|snip)\s*\]|<\s*snip\s*>|-+\s*snip\s*-+|\(\s*snip\s*\)|snip)\s*$/i

/** Classify a line that is not a record (`undefined`: not a special line either, i.e. prose or garbage). */
export const classifySpecial = (line: string): SpecialLine | undefined => {
  if (line.trim().length === 0) return { kind: 'blank' }
  let m = BUFFER_STARTED.exec(line)
  if (m) return { kind: 'buffer-started', cpu: Number(m[1]) }
  if (/^\s*#/.test(line)) {
    const kv = KEY_VALUE.exec(line.trim())
    return kv ? { kind: 'comment', key: (kv[1] ?? '').toLowerCase(), value: kv[2] ?? '' } : { kind: 'comment' }
  }
  m = LOST.exec(line) ?? LOST_GENERIC.exec(line)
  if (m) return { kind: 'lost-events', cpu: m[1] !== undefined ? Number(m[1]) : undefined, lost: m[2] !== undefined ? Number(m[2]) : undefined }
  if (ELISION.test(line)) return { kind: 'elision' }
  if (TRACE_CMD.test(line)) return { kind: 'trace-cmd-header' }
  return undefined
}
