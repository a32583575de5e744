// Figure 6 — boot: time from kernel start to initrd-switch-root on a first
// boot vs a later boot of the same image (Flint's overhead), and the
// initramfs size with and without the Flint module. These come from the
// end-to-end harness of the boot work (test/e2e/); this figure only reads
// what that harness recorded, it boots nothing itself.

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fmtBytes, ratio, row } from "../lib/report.mjs";

export const title = "boot";

/** Where the e2e harness leaves its boot figures, newest first. */
const CANDIDATES = ["test-output/e2e/boot-figures.json", ".cache/e2e/boot-figures.json"];

export async function measure(ctx) {
  const found = CANDIDATES.map((p) => join(ctx.repo, p)).filter((p) => existsSync(p)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!found) {
    const reason = !existsSync(join(ctx.repo, "test/e2e")) || readdirSync(join(ctx.repo, "test/e2e")).length === 0
      ? "the e2e boot harness (test/e2e/) is not there yet"
      : "no boot figures recorded by the e2e harness (run npm run test:e2e)";
    return { data: { na: reason }, rows: [row("6", "boot: kernel start → switch-root, first vs later boot", { na: reason })] };
  }
  const figures = JSON.parse(readFileSync(found, "utf8"));
  const first = figures.firstBootSwitchRootMs;
  const later = figures.laterBootSwitchRootMs;
  const withFlint = figures.initramfsBytesWithFlint;
  const without = figures.initramfsBytesWithoutFlint;
  const data = { source: found, recordedAt: figures.recordedAt ?? statSync(found).mtime.toISOString(), ...figures };
  return {
    data,
    rows: [
      row("6", "boot: kernel start → switch-root, first vs later", first && later ? { ms: first } : { na: "not recorded" }, later ? { ms: later } : null),
      row("6", "initramfs with vs without the Flint module", withFlint ? { text: fmtBytes(withFlint) } : { na: "not recorded" }, without ? { text: fmtBytes(without) } : null, undefined, withFlint && without ? ratio(withFlint, without) : null),
    ],
  };
}
