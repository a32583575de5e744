// The boot path measured (issue 22): one first boot of the e2e image under
// TCG per config size (10 and 10,000 files, the config in fw_cfg), with the
// e2e harness's initramfs. Prints, per boot: each Flint stage unit's time
// (systemd's Starting → Finished), their sum, each stage's own time in the
// agent, and the agent's peak RSS (its last `peakRssMiB`).
//
//   npx tsx bench/experiments/first-boot-files.mjs [COUNT...]
//
// Boots QEMU: not part of `npm run bench` nor of the tests. The harness
// forwards the initramfs journal to the serial console (its timestamps are
// what is read), so a stage's per-file lines also cross the emulated serial
// port: at 10,000 files that inflates the files unit; the agent's own figure
// is the stage without it.

import { rmSync } from "node:fs";
import { agentStageTimes, flintStages } from "../figures/boot.mjs";
import { boot, freshDisk, scratch, writeConfig } from "../../test/e2e/harness.ts";

const FIRST_BOOT = "flatcar.first_boot=detected flatcar.randomize_guid=00000000-0000-0000-0000-000000000001 flatcar.oem.id=qemu";

async function main(counts) {
  for (const count of counts) {
    const dir = scratch(`bench-${count}`);
    try {
      const files = Array.from({ length: count }, (_, i) => ({ path: `/opt/bench/d${i % 100}/f${i}`, mode: 0o644, contents: { source: `data:,${i}` } }));
      const config = writeConfig(dir, "bench.ign", { ignition: { version: "3.4.0" }, storage: { files } });
      const result = await boot({ name: `bench-first-boot-${count}`, disk: freshDisk(dir), config, append: FIRST_BOOT, timeoutSeconds: 1500 });
      const stages = flintStages(result.console);
      const inAgent = agentStageTimes(result.console);
      const rss = [...result.console.matchAll(/peakRssMiB=(\d+)/g)].map((m) => Number(m[1]));
      const total = stages.reduce((sum, s) => sum + s.ms, 0);
      console.log(JSON.stringify({
        files: count,
        ok: !result.timedOut && !result.console.includes("Flint failed") && result.console.includes("multi-user.target reached"),
        stageUnitsMs: Object.fromEntries(stages.map((s) => [s.unit, Math.round(s.ms)])),
        stageUnitsSummedMs: Math.round(total),
        inAgentMs: Object.fromEntries(inAgent),
        agentPeakRssMiB: rss.length ? Math.max(...rss) : null,
        log: result.logFile,
      }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

void main(process.argv.slice(2).map(Number).filter((n) => n > 0).length ? process.argv.slice(2).map(Number) : [10, 10_000]);
