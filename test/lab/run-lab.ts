// `scripts/lab.sh` in TypeScript: one first boot of the demo image on a fake
// cloud, for a person to watch (or, with --check, to check without a
// keyboard). The same pieces as the lab tests: test/e2e/lab.ts and harness.ts.
//
//   node --import tsx test/lab/run-lab.ts --platform ID [--config FILE]
//       [--scenario NAME] [--hostname NAME] [--ssh-key KEY] [--no-dhcp] [--check]
//       [--object URL=FILE]...

import { spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { artefacts, boot, freshDisk, PLACEHOLDER_GUID, REPO } from "../e2e/harness";
import { Lab } from "../e2e/lab";

const DEMO_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFlintLabDemoKeyFromTheFakeMetadataService00000 demo@flint-lab";
const SWITCHED_ROOT = "flint-test: multi-user.target reached";

const { values } = parseArgs({
  options: {
    platform: { type: "string" },
    config: { type: "string" },
    scenario: { type: "string" },
    hostname: { type: "string" },
    "ssh-key": { type: "string" },
    "no-dhcp": { type: "boolean", default: false },
    check: { type: "boolean", default: false },
    timeout: { type: "string", default: "900" },
    object: { type: "string", multiple: true },
  },
  strict: true,
});
const say = (text: string) => process.stderr.write(`\n==> ${text}\n`);
function usage(): never {
  process.stderr.write("run-lab: --platform is required (metal, aws, gcp, azure, digitalocean, openstack, packet, hetzner, vultr, proxmoxve)\n");
  process.exit(2);
}
const platform: string = values.platform ?? usage();
const config = values.config ?? [join(REPO, "examples/demo.ign"), join(REPO, "test/e2e/fixtures/demo-fallback.ign")].find(existsSync)!;

async function main(): Promise<number> {
  say("building (or reusing) the bundle, the initramfs and the disk image (.cache/boot/e2e)");
  artefacts();
  say(`starting the lab: namespace, bridge and tap, dnsmasq, the fake ${platform} services`);
  const lab = await Lab.start({
    name: `run-${platform}`,
    platform,
    userdata: config,
    sshKey: values["ssh-key"] ?? DEMO_KEY,
    hostname: values.hostname,
    scenario: values.scenario,
    dhcp: !values["no-dhcp"],
    // URL=FILE: a file in the cloud's storage service (s3://, gs://, an Azure Blob URL).
    objects: Object.fromEntries((values.object ?? []).map((spec) => [spec.slice(0, spec.lastIndexOf("=")), spec.slice(spec.lastIndexOf("=") + 1)])),
  });
  const stopOnSignal = (signal: NodeJS.Signals) => {
    void lab.stop().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, stopOnSignal);
  const disk = freshDisk(lab.dir, "disk.img");
  const append = `flatcar.first_boot=detected flatcar.randomize_guid=${PLACEHOLDER_GUID} ${lab.cmdline}`.trim();
  process.stderr.write(`    namespace ${lab.netns}; logs in ${lab.dir}\n    config (${platform === "metal" ? "served by name" : "user data"}): ${config}\n    kernel arguments: ${append}\n`);
  try {
    if (!values.check) {
      say("booting; quit QEMU with Ctrl-a x (the lab is removed afterwards)");
      const options = lab.bootOptions();
      const args = ["--interactive", "--disk", disk, "--initrd", options.initrd ?? artefacts().initramfs, "--kver", artefacts().kver, "--append", append];
      for (const smbios of options.smbios ?? []) args.push("--smbios", smbios);
      for (const arg of options.qemuArgs ?? []) args.push("--qemu", arg);
      args.push("--tap", options.network!.tap);
      const qemu = spawn("ip", ["netns", "exec", lab.netns, join(REPO, "scripts/lib/qemu-boot.sh"), ...args], { stdio: "inherit" });
      await new Promise((resolve) => qemu.once("close", resolve));
      summary(lab);
      return 0;
    }
    say("booting without a keyboard; the machine powers itself off once up");
    const result = await boot({ name: `lab-run-${platform}`, disk, append, timeoutSeconds: Number(values.timeout), ...lab.bootOptions() });
    summary(lab);
    const failures = [
      result.timedOut && `the boot did not finish within ${values.timeout} s`,
      result.console.includes("Flint failed") && "a Flint stage failed",
      !result.console.includes(SWITCHED_ROOT) && "the real root never reached multi-user.target",
    ].filter(Boolean);
    if (failures.length) {
      process.stderr.write(`lab --check: FAILED: ${failures.join("; ")} (console: ${result.logFile})\n`);
      return 1;
    }
    process.stderr.write(`lab --check: OK: provisioned on ${platform}, switched root, reached multi-user.target (console: ${result.logFile})\n`);
    return 0;
  } finally {
    await lab.stop();
    rmSync(disk, { force: true });
  }
}

function summary(lab: Lab): void {
  const requests = lab.requests();
  say(`the fake ${platform} services answered ${requests.length} request(s)`);
  for (const line of requests.slice(0, 40)) process.stderr.write(`    ${line}\n`);
  const leases = lab.dnsLog().split("\n").filter((l) => /DHCPACK|query\[/.test(l));
  if (leases.length) process.stderr.write(`    dnsmasq: ${leases.length} DHCP acknowledgement(s) and DNS queries (log: ${join(lab.dir, "net/dnsmasq.log")})\n`);
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`run-lab: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
