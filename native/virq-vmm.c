/*
 * virq-vmm: a tiny VMM for /dev/kvm that runs one interrupt-delivery scenario in a real guest and
 * records the kernel's kvm:* tracepoints (and syscalls:sys_enter_ioctl of its own threads) from a
 * private tracefs instance. `virq capture` (cli/capture.ts) drives it; it can also be run by hand:
 *
 *   virq-vmm [--trace FILE] [--instance NAME] [--list] SCENARIO
 *
 * Exit codes: 0 the scenario ran and (with --trace) the capture was written; 2 bad usage;
 * 3 /dev/kvm or tracefs unavailable (the message says which); 1 the scenario failed (the guest did
 * not finish, an ioctl failed, a timeout).
 *
 * The KVM API used is documented in the kernel's Documentation/virt/kvm/api.rst; each use names
 * the ioctl. The guest code is native/guest.S, linked into this program as guest_bin.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

extern const unsigned char guest_bin[];
extern const unsigned int guest_bin_len;

enum scenario { PIC_EDGE, PIC_LEVEL, SPLIT, IOAPIC_LEVEL, MSI, IPI, IRQFD, N_SCENARIOS };
/* entry-table index in guest.S for each scenario (IPI also uses index 6 for the AP) */
static const int entry_index[N_SCENARIOS] = { 0, 1, 2, 3, 4, 5, 7 };
static const char *const scenario_name[N_SCENARIOS] = {
  "pic-edge", "pic-level", "split-irqchip", "ioapic-level", "msi", "ipi", "irqfd-resample",
};
static const char *const scenario_about[N_SCENARIOS] = {
  "in-kernel 8259, IRQ0 edge: three KVM_IRQ_LINE pulses, each EOIed by the guest",
  "in-kernel 8259, IRQ10 level (ELCR) on the slave: the line stays high across an EOI once",
  "split irqchip (KVM_CAP_SPLIT_IRQCHIP): the VMM's 8259 injects with KVM_INTERRUPT after a kick and an interrupt window",
  "in-kernel IOAPIC pin 10 level: remote IRR, EOI broadcast, re-delivery while the line is high",
  "KVM_SIGNAL_MSI to APIC 0, vector 0x41, three times",
  "two vCPUs: fixed physical IPIs both ways, a self IPI and an all-but-self IPI",
  "irqfd with resamplefd on IOAPIC pin 11 (level): the kernel de-asserts on EOI, the VMM re-asserts",
};
static const int scenario_vcpus[N_SCENARIOS] = { 1, 1, 1, 1, 1, 2, 1 };
static const int scenario_expect[N_SCENARIOS] = { 3, 3, 3, 3, 3, 5, 3 };

#define MEM_SIZE (2u << 20)
#define GUEST_BASE 0x1000
#define PORT_REQ 0x500
#define PORT_ACK 0x501
#define PORT_DONE 0x502
#define PORT_FAIL 0x503
#define TIMEOUT_SECONDS 60

static int kvm_fd = -1, vm_fd = -1;
static unsigned char *mem;
static enum scenario sc;
static int debug = 0; /* VIRQ_VMM_DEBUG=1: one line per exit on stderr */
static volatile int done = 0, done_value = -1, failed = 0;
static char fail_msg[256];

static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (!failed) vsnprintf(fail_msg, sizeof fail_msg, fmt, ap);
  va_end(ap);
  failed = 1;
  done = 1;
}

/* ---------------------------------------------------------------- tracefs ------------------ */

static char tracefs[64] = "/sys/kernel/tracing";
static char inst[256];
static int tracing = 0;

static int write_file(const char *path, const char *s, int append) {
  int fd = open(path, O_WRONLY | (append ? O_APPEND : O_TRUNC));
  if (fd < 0) return -1;
  ssize_t n = write(fd, s, strlen(s));
  int e = errno;
  close(fd);
  errno = e;
  return n == (ssize_t)strlen(s) ? 0 : -1;
}

static int inst_write(const char *file, const char *s, int append) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", inst, file);
  return write_file(p, s, append);
}

/* mount tracefs if needed; returns 0 or -1 with a message */
static int tracefs_ready(char *why, size_t n) {
  struct stat st;
  char p[128];
  snprintf(p, sizeof p, "%s/instances", tracefs);
  if (stat(p, &st) == 0) return 0;
  if (stat("/sys/kernel/debug/tracing/instances", &st) == 0) {
    strcpy(tracefs, "/sys/kernel/debug/tracing");
    return 0;
  }
  if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0 && stat(p, &st) == 0) return 0;
  snprintf(why, n, "tracefs is not available (no %s/instances, and mount -t tracefs failed: %s)", tracefs, strerror(errno));
  return -1;
}

static void trace_cleanup(void) {
  if (!tracing) return;
  inst_write("tracing_on", "0", 0);
  inst_write("set_event", "", 0);
  rmdir(inst);
  tracing = 0;
}

static void on_signal(int sig) {
  trace_cleanup();
  signal(sig, SIG_DFL);
  raise(sig);
}

static int trace_start(const char *name, pid_t *tids, int ntids) {
  snprintf(inst, sizeof inst, "%s/instances/%s", tracefs, name);
  if (mkdir(inst, 0755) != 0) {
    fprintf(stderr, "virq-vmm: cannot create tracefs instance %s: %s\n", inst, strerror(errno));
    return -1;
  }
  tracing = 1;
  atexit(trace_cleanup);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  inst_write("buffer_size_kb", "8192", 0);
  if (inst_write("set_event", "kvm:*\n", 0) != 0) {
    fprintf(stderr, "virq-vmm: cannot enable kvm:* events in %s: %s\n", inst, strerror(errno));
    return -1;
  }
  /* KVM ioctls of this process only: a filter on the thread ids (common_pid is the tid) */
  char filter[512] = "";
  for (int i = 0; i < ntids; i++) {
    char one[40];
    snprintf(one, sizeof one, "%scommon_pid == %d", i ? " || " : "", tids[i]);
    strncat(filter, one, sizeof filter - strlen(filter) - 1);
  }
  if (inst_write("events/syscalls/sys_enter_ioctl/filter", filter, 0) == 0)
    inst_write("set_event", "syscalls:sys_enter_ioctl\n", 1);
  else
    fprintf(stderr, "virq-vmm: note: syscalls:sys_enter_ioctl unavailable (%s); recording kvm:* only\n", strerror(errno));
  inst_write("trace", "", 0);
  return inst_write("tracing_on", "1", 0);
}

static void copy_file_into(FILE *out, const char *path, const char *prefix) {
  FILE *in = fopen(path, "r");
  if (!in) return;
  char line[4096];
  while (fgets(line, sizeof line, in)) fprintf(out, "%s%s", prefix, line);
  fclose(in);
}

static int trace_finish(const char *outfile, const char *name) {
  inst_write("tracing_on", "0", 0);
  FILE *out = fopen(outfile, "w");
  if (!out) {
    fprintf(stderr, "virq-vmm: cannot write %s: %s\n", outfile, strerror(errno));
    return -1;
  }
  struct utsname u;
  uname(&u);
  struct stat st;
  const char *vendor = stat("/sys/module/kvm_intel", &st) == 0 ? "kvm_intel"
                     : stat("/sys/module/kvm_amd", &st) == 0   ? "kvm_amd"
                     : stat("/sys/module/kvm_pvm", &st) == 0   ? "kvm_pvm"
                                                               : "unknown";
  time_t now = time(NULL);
  char when[64];
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  fprintf(out, "# virq capture: scenario %s (%s)\n", scenario_name[sc], scenario_about[sc]);
  fprintf(out, "# virq capture: kernel %s %s %s; vendor module %s; vcpus %d; recorded %s by native/virq-vmm\n",
          u.sysname, u.release, u.machine, vendor, scenario_vcpus[sc], when);
  fprintf(out, "# virq capture: irqchip %s\n", sc == SPLIT ? "split (KVM_CAP_SPLIT_IRQCHIP, 8259 in the VMM)" : "in-kernel (KVM_CREATE_IRQCHIP)");
  char p[512];
  snprintf(p, sizeof p, "%s/trace", inst);
  copy_file_into(out, p, "");
  /* the formats of the events this capture could contain, read from this kernel */
  fprintf(out, "# virq capture: event formats of this kernel follow (events/<system>/<event>/format)\n");
  snprintf(p, sizeof p, "%s/set_event", inst);
  FILE *ev = fopen(p, "r");
  char line[256];
  while (ev && fgets(line, sizeof line, ev)) {
    line[strcspn(line, "\n")] = 0;
    char *colon = strchr(line, ':');
    if (!colon) continue;
    *colon = 0;
    char fp[512];
    snprintf(fp, sizeof fp, "%s/events/%s/%s/format", tracefs, line, colon + 1);
    copy_file_into(out, fp, "# format: ");
  }
  if (ev) fclose(ev);
  fclose(out);
  (void)name;
  return 0;
}

/* ---------------------------------------------------------------- the VMM's devices -------- */

static pthread_mutex_t dev_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t dev_cond = PTHREAD_COND_INITIALIZER;
static int dev_need = 0;       /* services the device still needs */
static int dev_request = 0;    /* split: a request the device thread has not raised yet */
static int irq_fd = -1, resample_fd = -1;
static int split_requests = 0;

static void irq_line(int gsi, int level) {
  struct kvm_irq_level l = { .irq = gsi, .level = level };
  if (ioctl(vm_fd, KVM_IRQ_LINE, &l) < 0) fail("KVM_IRQ_LINE gsi %d level %d: %s", gsi, level, strerror(errno));
}

static void signal_msi(uint32_t dest, uint32_t vector) {
  struct kvm_msi m = { .address_lo = 0xfee00000u | (dest << 12), .address_hi = 0, .data = vector };
  if (ioctl(vm_fd, KVM_SIGNAL_MSI, &m) < 0) fail("KVM_SIGNAL_MSI: %s", strerror(errno));
}

/* The split scenario's 8259 (master only; what the guest programs of it): ICW1-4, OCW1 (IMR),
 * non-specific EOI, one edge line (IRQ4). Data sheet semantics: a rising edge sets IRR; INTA moves
 * the highest unmasked IRR bit above the highest ISR bit into ISR and returns base + irq. */
static struct { int icw; uint8_t base, imr, irr, isr; } pic = { 0, 0, 0xff, 0, 0 };

static int pic_pending(void) {
  uint8_t req = pic.irr & (uint8_t)~pic.imr;
  for (int i = 0; i < 8; i++) {
    if (pic.isr & (1u << i)) return -1; /* fixed priority: IRQ i in service blocks lower ones */
    if (req & (1u << i)) return i;
  }
  return -1;
}

static void pic_write(uint16_t port, uint8_t v) {
  if (port == 0x20) {
    if (v & 0x10) { pic.icw = 2; pic.imr = 0; pic.isr = 0; pic.irr = 0; }
    else if ((v & 0x18) == 0 && (v & 0x20)) { /* OCW2 EOI: non-specific clears the highest ISR bit */
      for (int i = 0; i < 8; i++) if (pic.isr & (1u << i)) { pic.isr &= (uint8_t)~(1u << i); break; }
    }
  } else if (port == 0x21) {
    if (pic.icw == 2) { pic.base = v & 0xf8; pic.icw = 3; }
    else if (pic.icw == 3) pic.icw = 4;
    else if (pic.icw == 4) pic.icw = 0;
    else pic.imr = v;
  }
}

/* ---------------------------------------------------------------- vCPUs -------------------- */

struct vcpu {
  int id, fd;
  struct kvm_run *run;
  pthread_t thread;
  pid_t tid;
};
static struct vcpu vcpus[2];
static int n_vcpus;
static pthread_barrier_t start_barrier;
static volatile int started = 0;

static void setup_vcpu(struct vcpu *v) {
  struct kvm_sregs s;
  struct kvm_regs r;
  if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0) fail("KVM_GET_SREGS: %s", strerror(errno));
  memset(&r, 0, sizeof r);
  r.rflags = 2;
  const uint32_t *entries = (const uint32_t *)guest_bin;
  int idx = entry_index[sc];
  if (sc == IPI && v->id == 1) idx = 6;
  r.rip = entries[idx];
  if (sc <= SPLIT) { /* real mode: CS=0 */
    s.cs.base = 0; s.cs.selector = 0;
    s.ds = s.es = s.ss = s.cs;
    s.ds.type = s.es.type = s.ss.type = 3;
    r.rsp = 0x8000;
  } else { /* flat 32-bit protected mode; the guest's GDT matches these caches */
    struct kvm_segment code = { .base = 0, .limit = 0xffffffff, .selector = 0x08, .type = 11, .present = 1,
                                .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1 };
    struct kvm_segment data = code;
    data.selector = 0x10; data.type = 3;
    s.cs = code;
    s.ds = s.es = s.fs = s.gs = s.ss = data;
    s.cr0 |= 1; /* PE */
    r.rsp = v->id == 0 ? 0x8000 : 0x7000;
  }
  if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0) fail("KVM_SET_SREGS: %s", strerror(errno));
  if (ioctl(v->fd, KVM_SET_REGS, &r) < 0) fail("KVM_SET_REGS: %s", strerror(errno));
  if (v->id > 0) { /* an AP starts waiting for SIPI; start it directly instead */
    struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
    if (ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0) fail("KVM_SET_MP_STATE: %s", strerror(errno));
  }
}

/* split: inject when the kernel says ready, else ask for the window (api.rst: KVM_INTERRUPT,
 * request_interrupt_window, ready_for_interrupt_injection) */
static void split_try_inject(struct vcpu *v) {
  pthread_mutex_lock(&dev_lock);
  int irq = pic_pending();
  if (irq >= 0) {
    if (v->run->ready_for_interrupt_injection) {
      pic.irr &= (uint8_t)~(1u << irq); /* INTA: edge IRR → ISR */
      pic.isr |= (uint8_t)(1u << irq);
      struct kvm_interrupt k = { .irq = pic.base + irq };
      if (debug) fprintf(stderr, "virq-vmm: vcpu %d KVM_INTERRUPT 0x%x\n", v->id, k.irq);
      if (ioctl(v->fd, KVM_INTERRUPT, &k) < 0) fail("KVM_INTERRUPT: %s", strerror(errno));
      v->run->request_interrupt_window = 0;
    } else {
      if (debug) fprintf(stderr, "virq-vmm: vcpu %d irq %d pending, not ready: request window\n", v->id, irq);
      v->run->request_interrupt_window = 1;
    }
  } else {
    v->run->request_interrupt_window = 0;
  }
  pthread_mutex_unlock(&dev_lock);
}

static void handle_io(struct vcpu *v) {
  struct kvm_run *run = v->run;
  uint8_t *data = (uint8_t *)run + run->io.data_offset;
  uint16_t port = run->io.port;
  if (run->io.direction == KVM_EXIT_IO_IN) { memset(data, 0, run->io.size * run->io.count); return; }
  uint8_t val = data[0];
  switch (port) {
  case PORT_REQ:
    pthread_mutex_lock(&dev_lock);
    dev_need += val;
    if (sc == PIC_EDGE) { irq_line(0, 1); irq_line(0, 0); }
    else if (sc == PIC_LEVEL) irq_line(10, 1);
    else if (sc == IOAPIC_LEVEL) irq_line(10, 1);
    else if (sc == MSI) signal_msi(0, 0x41);
    else if (sc == IRQFD) { uint64_t one = 1; if (write(irq_fd, &one, 8) != 8) fail("irqfd write: %s", strerror(errno)); }
    else if (sc == SPLIT) {
      /* the first request is raised at once, while the guest has IF clear: the VMM must ask for
       * the interrupt window; later ones come from the device thread, with a kick */
      if (split_requests++ == 0) pic.irr |= 1u << 4;
      else { dev_request = 1; pthread_cond_signal(&dev_cond); }
    }
    pthread_mutex_unlock(&dev_lock);
    break;
  case PORT_ACK:
    pthread_mutex_lock(&dev_lock);
    if (dev_need > 0) dev_need--;
    if (dev_need == 0 && sc == PIC_LEVEL) irq_line(10, 0);
    if (dev_need == 0 && sc == IOAPIC_LEVEL) irq_line(10, 0);
    pthread_mutex_unlock(&dev_lock);
    break;
  case PORT_DONE:
    done_value = val;
    done = 1;
    break;
  case PORT_FAIL:
    fail("the guest reported failure code %u", val);
    break;
  case 0x20: case 0x21:
    if (sc == SPLIT) {
      pthread_mutex_lock(&dev_lock);
      pic_write(port, val);
      if (debug) fprintf(stderr, "virq-vmm: 8259 write 0x%x = 0x%x: irr 0x%x isr 0x%x imr 0x%x\n", port, val, pic.irr, pic.isr, pic.imr);
      pthread_mutex_unlock(&dev_lock);
    }
    break;
  default:
    break; /* the slave 8259 and ELCR of the split scenario: not used by its guest */
  }
}

static void noop_handler(int sig) { (void)sig; }

static void *vcpu_main(void *arg) {
  struct vcpu *v = arg;
  v->tid = (pid_t)syscall(SYS_gettid);
  /* QEMU's name for vCPU threads: the trace's task column then says which vCPU ran each event */
  char tname[16];
  snprintf(tname, sizeof tname, "CPU %d/KVM", v->id);
  pthread_setname_np(pthread_self(), tname);
  pthread_barrier_wait(&start_barrier); /* tids known */
  pthread_barrier_wait(&start_barrier); /* tracing on */
  while (!done) {
    if (sc == SPLIT) split_try_inject(v);
    int r = ioctl(v->fd, KVM_RUN, 0);
    v->run->immediate_exit = 0;
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) { /* a kick: re-evaluate the PIC */
        if (debug) fprintf(stderr, "virq-vmm: vcpu %d kicked (%s) ready %u\n", v->id, strerror(errno), v->run->ready_for_interrupt_injection);
        continue;
      }
      fail("KVM_RUN (vcpu %d): %s", v->id, strerror(errno));
      break;
    }
    if (debug > 1 || (debug && v->run->exit_reason != KVM_EXIT_IO)) fprintf(stderr, "virq-vmm: vcpu %d exit %u ready %u if %u\n", v->id, v->run->exit_reason,
                       v->run->ready_for_interrupt_injection, v->run->if_flag);
    switch (v->run->exit_reason) {
    case KVM_EXIT_IO: handle_io(v); break;
    case KVM_EXIT_IRQ_WINDOW_OPEN: break; /* split_try_inject at the top of the loop */
    case KVM_EXIT_INTR: break;
    case KVM_EXIT_HLT: fail("vcpu %d: unexpected KVM_EXIT_HLT", v->id); break;
    case KVM_EXIT_MMIO:
      fail("vcpu %d: unexpected MMIO %s at 0x%llx", v->id, v->run->mmio.is_write ? "write" : "read",
           (unsigned long long)v->run->mmio.phys_addr);
      break;
    case KVM_EXIT_SHUTDOWN: fail("vcpu %d: guest shutdown (triple fault)", v->id); break;
    case KVM_EXIT_FAIL_ENTRY:
      fail("vcpu %d: entry failed, reason 0x%llx", v->id, (unsigned long long)v->run->fail_entry.hardware_entry_failure_reason);
      break;
    case KVM_EXIT_INTERNAL_ERROR: fail("vcpu %d: KVM internal error, suberror %u", v->id, v->run->internal.suberror); break;
    default: fail("vcpu %d: unexpected exit reason %u", v->id, v->run->exit_reason); break;
    }
  }
  /* stop the other vCPUs (the AP of the IPI scenario halts forever) */
  for (int i = 0; i < n_vcpus; i++)
    if (&vcpus[i] != v && vcpus[i].run) { vcpus[i].run->immediate_exit = 1; pthread_kill(vcpus[i].thread, SIGUSR1); }
  return NULL;
}

/* split: the device raises IRQ4 some time after the request and kicks the vCPU out of the guest
 * (immediate_exit first, then the signal: a kick that arrives between the VMM's check and KVM_RUN
 * is not lost, api.rst "immediate_exit") */
static void *device_main(void *arg) {
  (void)arg;
  int n_requests = 0;
  pthread_barrier_wait(&start_barrier);
  pthread_barrier_wait(&start_barrier);
  for (;;) {
    pthread_mutex_lock(&dev_lock);
    while (!dev_request && !done) pthread_cond_wait(&dev_cond, &dev_lock);
    if (done) { pthread_mutex_unlock(&dev_lock); break; }
    dev_request = 0;
    pthread_mutex_unlock(&dev_lock);
    /* two delays, so that the kick may find the guest with IF clear (in its loop) or halted */
    static const long delay_ns[] = { 300000, 3000000 };
    struct timespec ts = { 0, delay_ns[n_requests++ % 2] };
    nanosleep(&ts, NULL);
    pthread_mutex_lock(&dev_lock);
    pic.irr |= 1u << 4;
    pthread_mutex_unlock(&dev_lock);
    vcpus[0].run->immediate_exit = 1;
    pthread_kill(vcpus[0].thread, SIGUSR1);
  }
  return NULL;
}

/* irqfd: the resampler signals after the EOI that de-asserted the line; re-assert while the device
 * still needs service (virt/kvm/eventfd.c, irqfd_resampler_ack) */
static void *resample_main(void *arg) {
  (void)arg;
  pthread_barrier_wait(&start_barrier);
  pthread_barrier_wait(&start_barrier);
  while (!done) {
    uint64_t n;
    if (read(resample_fd, &n, 8) != 8) { if (errno == EINTR) continue; break; }
    pthread_mutex_lock(&dev_lock);
    int need = dev_need;
    pthread_mutex_unlock(&dev_lock);
    if (need > 0) { uint64_t one = 1; if (write(irq_fd, &one, 8) != 8) fail("irqfd write: %s", strerror(errno)); }
  }
  return NULL;
}

static void usage(FILE *f) {
  fprintf(f, "usage: virq-vmm [--trace FILE] [--instance NAME] SCENARIO\n       virq-vmm --list\nscenarios:\n");
  for (int i = 0; i < N_SCENARIOS; i++) fprintf(f, "  %-15s %s\n", scenario_name[i], scenario_about[i]);
}

int main(int argc, char **argv) {
  const char *trace_out = NULL, *name = NULL, *scn = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--trace") && i + 1 < argc) trace_out = argv[++i];
    else if (!strcmp(argv[i], "--instance") && i + 1 < argc) name = argv[++i];
    else if (!strcmp(argv[i], "--list")) { for (int k = 0; k < N_SCENARIOS; k++) printf("%s\t%s\n", scenario_name[k], scenario_about[k]); return 0; }
    else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return 0; }
    else if (argv[i][0] == '-') { fprintf(stderr, "virq-vmm: unknown option %s\n", argv[i]); usage(stderr); return 2; }
    else if (!scn) scn = argv[i];
    else { fprintf(stderr, "virq-vmm: one scenario only\n"); return 2; }
  }
  if (!scn) { usage(stderr); return 2; }
  int found = -1;
  for (int k = 0; k < N_SCENARIOS; k++) if (!strcmp(scn, scenario_name[k])) found = k;
  if (found < 0) { fprintf(stderr, "virq-vmm: unknown scenario '%s'\n", scn); usage(stderr); return 2; }
  sc = (enum scenario)found;
  debug = getenv("VIRQ_VMM_DEBUG") ? atoi(getenv("VIRQ_VMM_DEBUG")) : 0;
  n_vcpus = scenario_vcpus[sc];

  kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm_fd < 0) { fprintf(stderr, "virq-vmm: /dev/kvm: %s\n", strerror(errno)); return 3; }
  if (ioctl(kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) { fprintf(stderr, "virq-vmm: unexpected KVM API version\n"); return 3; }
  if (trace_out) {
    char why[256];
    if (tracefs_ready(why, sizeof why) != 0) { fprintf(stderr, "virq-vmm: %s\n", why); return 3; }
  }
  vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
  if (vm_fd < 0) { fprintf(stderr, "virq-vmm: KVM_CREATE_VM: %s\n", strerror(errno)); return 1; }
  mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) { perror("virq-vmm: mmap"); return 1; }
  memcpy(mem + GUEST_BASE, guest_bin, guest_bin_len);
  struct kvm_userspace_memory_region region = { .slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE, .userspace_addr = (uintptr_t)mem };
  if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) { fprintf(stderr, "virq-vmm: KVM_SET_USER_MEMORY_REGION: %s\n", strerror(errno)); return 1; }
  if (ioctl(vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000) < 0 && errno != ENOTTY && errno != EINVAL) { /* VMX needs it; others ignore */ }
  if (sc == SPLIT) {
    struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 } };
    if (ioctl(vm_fd, KVM_ENABLE_CAP, &cap) < 0) { fprintf(stderr, "virq-vmm: KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP): %s\n", strerror(errno)); return 1; }
  } else if (ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) { fprintf(stderr, "virq-vmm: KVM_CREATE_IRQCHIP: %s\n", strerror(errno)); return 1; }
  if (sc == IRQFD) {
    irq_fd = eventfd(0, EFD_CLOEXEC);
    resample_fd = eventfd(0, EFD_CLOEXEC);
    struct kvm_irqfd f = { .fd = (uint32_t)irq_fd, .gsi = 11, .flags = KVM_IRQFD_FLAG_RESAMPLE, .resamplefd = (uint32_t)resample_fd };
    if (ioctl(vm_fd, KVM_IRQFD, &f) < 0) { fprintf(stderr, "virq-vmm: KVM_IRQFD with resamplefd: %s\n", strerror(errno)); return 1; }
  }
  int run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
  for (int i = 0; i < n_vcpus; i++) {
    vcpus[i].id = i;
    vcpus[i].fd = ioctl(vm_fd, KVM_CREATE_VCPU, i);
    if (vcpus[i].fd < 0) { fprintf(stderr, "virq-vmm: KVM_CREATE_VCPU %d: %s\n", i, strerror(errno)); return 1; }
    vcpus[i].run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpus[i].fd, 0);
    if (vcpus[i].run == MAP_FAILED) { perror("virq-vmm: mmap kvm_run"); return 1; }
    struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + 100 * sizeof(struct kvm_cpuid_entry2));
    cpuid->nent = 100;
    if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0) {
      for (unsigned k = 0; k < cpuid->nent; k++)
        if (cpuid->entries[k].function == 1) cpuid->entries[k].ebx = (cpuid->entries[k].ebx & 0x00ffffffu) | ((uint32_t)i << 24);
      ioctl(vcpus[i].fd, KVM_SET_CPUID2, cpuid);
    }
    free(cpuid);
    setup_vcpu(&vcpus[i]);
  }
  if (failed) { fprintf(stderr, "virq-vmm: %s\n", fail_msg); return 1; }

  struct sigaction sa = { .sa_handler = noop_handler };
  sigaction(SIGUSR1, &sa, NULL);
  int n_threads = n_vcpus + (sc == SPLIT || sc == IRQFD ? 1 : 0);
  pthread_barrier_init(&start_barrier, NULL, (unsigned)n_threads + 1);
  for (int i = 0; i < n_vcpus; i++) pthread_create(&vcpus[i].thread, NULL, vcpu_main, &vcpus[i]);
  pthread_t dev;
  if (sc == SPLIT) pthread_create(&dev, NULL, device_main, NULL);
  if (sc == IRQFD) pthread_create(&dev, NULL, resample_main, NULL);
  pthread_barrier_wait(&start_barrier);
  if (trace_out) {
    pid_t tids[4];
    int nt = 0;
    tids[nt++] = (pid_t)syscall(SYS_gettid);
    for (int i = 0; i < n_vcpus; i++) tids[nt++] = vcpus[i].tid;
    char iname[128];
    if (!name) { snprintf(iname, sizeof iname, "virq-%d", (int)getpid()); name = iname; }
    if (trace_start(name, tids, nt) != 0) { fprintf(stderr, "virq-vmm: cannot start tracing in %s: %s\n", inst, strerror(errno)); trace_cleanup(); return 3; }
  }
  pthread_barrier_wait(&start_barrier);
  for (int s = 0; s < TIMEOUT_SECONDS * 10 && !done; s++) { struct timespec ts = { 0, 100000000 }; nanosleep(&ts, NULL); }
  if (!done) fail("timeout: the guest did not finish in %d s", TIMEOUT_SECONDS);
  for (int i = 0; i < n_vcpus; i++) { vcpus[i].run->immediate_exit = 1; pthread_kill(vcpus[i].thread, SIGUSR1); }
  pthread_mutex_lock(&dev_lock); pthread_cond_broadcast(&dev_cond); pthread_mutex_unlock(&dev_lock);
  for (int i = 0; i < n_vcpus; i++) pthread_join(vcpus[i].thread, NULL);
  if (sc == SPLIT) pthread_join(dev, NULL);
  if (sc == IRQFD) { uint64_t one = 1; done = 1; if (write(resample_fd, &one, 8) != 8) {} pthread_join(dev, NULL); }
  int rc = 0;
  if (failed) { fprintf(stderr, "virq-vmm: scenario %s failed: %s\n", scenario_name[sc], fail_msg); rc = 1; }
  else if (done_value != scenario_expect[sc]) {
    fprintf(stderr, "virq-vmm: scenario %s: the guest handled %d interrupts, expected %d\n", scenario_name[sc], done_value, scenario_expect[sc]);
    rc = 1;
  }
  if (trace_out) {
    if (trace_finish(trace_out, name) != 0) rc = 1;
    trace_cleanup();
  }
  if (rc == 0) fprintf(stderr, "virq-vmm: scenario %s: %d interrupts handled%s%s\n", scenario_name[sc], done_value, trace_out ? ", trace in " : "", trace_out ? trace_out : "");
  return rc;
}
