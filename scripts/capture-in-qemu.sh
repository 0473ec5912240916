#!/usr/bin/env bash
# Record real KVM captures on a machine WITHOUT /dev/kvm: boot a Debian kernel under QEMU's software
# emulation (TCG, `-cpu max` exposes SVM), load kvm and kvm_amd in it, and run native/build/virq-vmm
# there. The L1 kernel's KVM is the real kernel code (kvm_amd, nested paging emulated by TCG), so its
# kvm:* tracepoints are a real kernel's. This is how test/fixtures/captures/ were recorded (see the
# README there). Where /dev/kvm exists, `virq capture` records directly and this script is not needed.
#
# usage: scripts/capture-in-qemu.sh OUTDIR [SCENARIO...]      (default: every scenario)
# needs: qemu-system-x86 busybox-static cpio (Debian packages), a Debian linux-image .deb
#        (downloaded with `apt-get download`), make/gcc/as for native/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/capture-in-qemu.sh OUTDIR [SCENARIO...]}
shift || true
make -s -C native
scenarios=("$@")
if [ ${#scenarios[@]} -eq 0 ]; then mapfile -t scenarios < <(native/build/virq-vmm --list | cut -f1); fi
for tool in qemu-system-x86_64 busybox cpio; do
  command -v "$tool" >/dev/null || { echo "capture-in-qemu: $tool not found (apt-get install qemu-system-x86 busybox-static cpio)" >&2; exit 3; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kpkg=${VIRQ_KERNEL_DEB:-}
if [ -z "$kpkg" ]; then
  pkg=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1)
  (cd "$work" && apt-get download "$pkg" >/dev/null 2>&1) || { echo "capture-in-qemu: cannot download $pkg (set VIRQ_KERNEL_DEB to a linux-image .deb)" >&2; exit 3; }
  kpkg=$(ls "$work"/linux-image-*.deb)
fi
dpkg-deb -x "$kpkg" "$work/k"
kver=$(ls "$work/k/lib/modules")
mods="$work/k/lib/modules/$kver/kernel"
ird="$work/initrd"
mkdir -p "$ird"/{bin,proc,sys,dev,tmp,mod}
cp "$(command -v busybox)" "$ird/bin/"
for a in sh mount cat echo insmod poweroff sync tr sed; do ln -sf busybox "$ird/bin/$a"; done
for m in virt/lib/irqbypass.ko drivers/crypto/ccp/ccp.ko arch/x86/kvm/kvm.ko arch/x86/kvm/kvm-amd.ko; do
  f="$mods/$m"; [ -f "$f" ] || f=$(ls "$f".* 2>/dev/null | head -1)
  cp "$f" "$ird/mod/"
done
cp native/build/virq-vmm "$ird/bin/"
cat > "$ird/init" <<'EOF'
#!/bin/sh
mount -t proc none /proc
mount -t sysfs none /sys
mount -t devtmpfs none /dev
mount -t tracefs nodev /sys/kernel/tracing
for m in irqbypass ccp kvm kvm-amd; do insmod /mod/$m.ko; done
for s in $(sed -n 's/.*virq=\([^ ]*\).*/\1/p' /proc/cmdline | tr , ' '); do
  /bin/virq-vmm --trace /tmp/$s.trace $s; rc=$?
  echo "=== BEGIN $s rc=$rc" > /dev/ttyS1
  cat /tmp/$s.trace > /dev/ttyS1
  echo "=== END $s" > /dev/ttyS1
done
sync
poweroff -f
EOF
chmod +x "$ird/init"
(cd "$ird" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$work/initrd.gz"
list=$(IFS=,; echo "${scenarios[*]}")
echo "capture-in-qemu: kernel $kver under TCG, scenarios $list" >&2
timeout 1200 qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp 2 -m 1024 -nographic -no-reboot \
  -kernel "$work/k/boot/vmlinuz-$kver" -initrd "$work/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1 virq=$list" \
  -serial mon:stdio -serial file:"$work/out.txt" > "$work/console.log" 2>&1 || true
grep -a 'virq-vmm' "$work/console.log" >&2 || true
mkdir -p "$out"
# the serial line turns each \n into \r\n (onlcr): strip the \r
awk -v dir="$out" '{sub(/\r$/, "")} /^=== BEGIN /{split($4,r,"="); f=dir"/"$3".trace"; rc[$3]=r[2]; next} /^=== END /{f=""; next} f{print > f}
  END{bad=0; for (s in rc) if (rc[s] != 0) {print "capture-in-qemu: " s " failed (rc " rc[s] ")" > "/dev/stderr"; bad=1}; exit bad}' "$work/out.txt"
ls -l "$out" >&2
