// RAID1 and LUKS through the whole disks stage, and quench on a mounted vfat
// ESP, in a QEMU guest running the
// Debian kernel from /boot (which has md and device-mapper) with a small
// initramfs holding node, the bundled agent and the real tools. This host's
// own kernel has none of md, device-mapper and vfat, so this is where those
// paths really run.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const REPO = join(__dirname, "..", "..", "..");
const KVER = existsSync("/boot") ? readdirSync("/boot").find((f) => f.startsWith("vmlinuz-"))?.slice("vmlinuz-".length) : undefined;
const KEY = "open sesame";

const CONFIG = {
  ignition: { version: "3.4.0" },
  storage: {
    // Loop devices the guest attaches before running Flint (/dev/loop0 and /dev/loop1).
    raid: [{ name: "data", level: "raid1", devices: ["/dev/loop0", "/dev/loop1"] }],
    luks: [{ name: "secret", device: "/dev/vda", label: "locked", keyFile: { source: `data:,${encodeURIComponent(KEY)}` }, options: ["--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000"] }],
    filesystems: [
      { device: "/dev/md/data", format: "ext4", label: "mirror" },
      { device: "/dev/mapper/secret", format: "ext4", label: "inside" },
    ],
  },
};

const GUEST = `
set -u
cat > /tmp/c.ign <<'JSON'
${JSON.stringify(CONFIG)}
JSON
mkdir -p /tmp/root/etc
for i in 0 1; do truncate -s 48M /run/raid$i.img; /usr/bin/losetup /dev/loop$i /run/raid$i.img; done
echo "FLINT-VM: loops $(/usr/bin/losetup -l -n -O NAME | sort | tr '\n' ' ')"
apply() { node /flint/flint.js apply --config /tmp/c.ign --root /tmp/root --stages disks; echo "FLINT-VM: $1 rc=$?"; }
apply first
apply again
mdadm --stop /dev/md/data >/dev/null 2>&1; cryptsetup close secret
apply after-stop
echo "FLINT-VM: md $(mdadm --detail --export /dev/md/data | grep -E '^MD_(LEVEL|DEVICES)=' | tr '\\n' ' ')"
echo "FLINT-VM: md-fs $(blkid -s LABEL -o value /dev/md/data)"
cryptsetup close secret
printf '%s' '${KEY}' > /tmp/key
cryptsetup open --key-file /tmp/key /dev/vda again && echo "FLINT-VM: reopened $(blkid -s LABEL -o value /dev/mapper/again)"
echo "FLINT-VM: root-key $(cmp -s /tmp/key /tmp/root/etc/luks/secret && echo same)"
mkfs.vfat -n EFI-SYSTEM /dev/vdb >/dev/null
mkdir -p /mnt/esp && mount -t vfat /dev/vdb /mnt/esp && mkdir -p /mnt/esp/flatcar && touch /mnt/esp/flatcar/first_boot && umount /mnt/esp
echo "flatcar.first_boot=detected" > /tmp/cmdline
node /flint/flint.js quench --cmdline-file /tmp/cmdline; echo "FLINT-VM: quench rc=$?"
mount -t vfat /dev/vdb /mnt/esp && echo "FLINT-VM: flags-left $(ls /mnt/esp/flatcar | wc -l) mounted-now $(grep -c /run/flint/esp /proc/mounts)"; umount /mnt/esp
node /flint/flint.js quench --cmdline-file /tmp/cmdline; echo "FLINT-VM: quench-again rc=$?"
`;

describe("disks stage and quench in a VM: RAID1, LUKS, vfat ESP", function () {
  this.timeout(600_000);
  let work: string | undefined;
  let log = "";

  before(function () {
    const tools = ["qemu-system-x86_64", "cpio", "busybox", "mdadm", "cryptsetup"].every((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status === 0);
    if (!KVER || !tools || !existsSync(`/lib/modules/${KVER}/kernel/drivers/md`)) this.skip(); // no guest kernel with modules here
    work = mkdtempSync(join(tmpdir(), "flint-vm-"));
    // The bundle exactly as it ships: built by build.mjs, with the libraries beside it.
    execFileSync(process.execPath, [join(REPO, "build.mjs")]);
    const bundle = join(REPO, "dist", "flint.js");
    writeFileSync(join(work, "guest.sh"), GUEST);
    execFileSync(join(__dirname, "vm", "build-initramfs.sh"), [KVER, bundle, join(work, "guest.sh"), join(work, "initramfs.gz")]);
    for (const d of ["c", "d"]) {
      writeFileSync(join(work, `${d}.img`), "");
      truncateSync(join(work, `${d}.img`), 64 * 1024 * 1024);
    }
    const qemu = spawnSync(
      "timeout",
      ["500", "qemu-system-x86_64", "-accel", "tcg", "-m", "1024", "-smp", "2", "-nographic", "-no-reboot", "-kernel", `/boot/vmlinuz-${KVER}`, "-initrd", join(work, "initramfs.gz"),
        ...["c", "d"].flatMap((d) => ["-drive", `file=${join(work!, `${d}.img`)},if=virtio,format=raw`]),
        "-append", "console=ttyS0 panic=-1 quiet"],
      { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
    );
    log = qemu.stdout + qemu.stderr;
    writeFileSync(join(work, "console.log"), log);
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const marker = (name: string) => new RegExp(`^FLINT-VM: ${name}(.*)$`, "m").exec(log)?.[1]?.trim();

  it("creates the RAID1 array over two loop devices and the LUKS volume, with filesystems on both", () => {
    assert.equal(marker("loops"), "/dev/loop0 /dev/loop1", log);
    assert.equal(marker("first rc="), "0", log);
    assert.match(marker("md") ?? "", /MD_LEVEL=raid1 MD_DEVICES=2/);
    assert.equal(marker("md-fs"), "mirror");
  });

  it("keeps both on a second run, and assembles and reopens them after they were stopped", () => {
    assert.equal(marker("again rc="), "0", log);
    assert.match(log, /keeping the existing RAID array/);
    assert.match(log, /keeping the existing LUKS volume/);
    assert.equal(marker("after-stop rc="), "0", log);
  });

  it("leaves a volume the same key opens again, with the filesystem inside", () => {
    assert.equal(marker("reopened"), "inside", log);
  });

  it("writes the key to /etc/luks/<name> in the root when the root is there", () => {
    assert.equal(marker("root-key"), "same");
  });

  it("quenches a real vfat ESP found by its EFI-SYSTEM label, mounting and unmounting it", () => {
    assert.equal(marker("quench rc="), "0", log);
    assert.equal(marker("flags-left"), "0 mounted-now 0");
  });

  it("fails a second quench of a detected first boot", () => {
    assert.equal(marker("quench-again rc="), "1", log);
    assert.match(log, /refusing to continue/);
  });

  it("never shows the key on the console", () => {
    assert.ok(log.includes("FLINT-VM: first"), "the console was captured");
    assert.equal(log.includes(KEY), false);
  });
});
