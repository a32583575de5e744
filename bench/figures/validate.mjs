// Figure 3 — `flint validate` on generated configs of growing size (files,
// plus proportional directories, links, units and users; see
// generate-config.mjs). The floor beside each is `node` reading the same file
// and JSON.parse-ing it: what no validator written in Node can go under.
// Up to 10,000 files the real ignition-validate v2.17.0 runs beside them when
// the anchors are there (issue 13: Flint stays at ≤ 0.14× its time at 10,000).
// All sizes and all sides alternate in one loop, so the growth factors
// (time at 10N / time at N) compare like with like.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeConfig, generateConfig } from "../generate-config.mjs";
import { findAnchor } from "../lib/anchors.mjs";
import { alternate, NotAvailable, runOnce } from "../lib/measure.mjs";
import { fmtBytes, ratio, row } from "../lib/report.mjs";

export const title = "validate";

const FLOOR = "const t=require('fs').readFileSync(process.argv[1],'utf8');JSON.parse(t)";
/** Sizes the real ignition-validate runs at (it takes seconds at 10,000). */
const IGNITION_MAX = 10_000;
/** Issue 13: Flint's validate time over ignition-validate's at 10,000 files, as far ahead as it was. */
const VS_IGNITION_AT_10K = 0.14;

export async function measure(ctx) {
  const node = process.execPath;
  const sizes = ctx.validateSizes;
  const configs = sizes.map((n) => {
    const path = join(ctx.tmp, `validate-${n}.ign`);
    const text = JSON.stringify(generateConfig(n), null, 2);
    writeFileSync(path, text);
    return { n, path, bytes: Buffer.byteLength(text) };
  });

  const ignition = findAnchor(ctx.repo, "ignition-validate");
  const contenders = configs.flatMap(({ n, path }) => [
    { name: `flint-${n}`, run: () => runOnce(node, [ctx.flint, "validate", path]) },
    { name: `floor-${n}`, run: () => runOnce(node, ["-e", FLOOR, path]) },
    ...(ignition.path && n <= IGNITION_MAX ? [{ name: `ignition-${n}`, run: () => runOnce(ignition.path, [path]) }] : []),
  ]);
  const data = { ignitionValidate: ignition.path ?? null, sizes: configs.map(({ n, bytes }) => ({ n, configBytes: bytes, contains: describeConfig(n) })) };
  let m;
  try {
    m = alternate(contenders, ctx.runs);
  } catch (e) {
    if (!(e instanceof NotAvailable)) throw e;
    data.na = e.message;
    return { data, rows: [row("3", `validate ${sizes.join(" / ")} files`, { na: e.message })] };
  }

  const rows = [];
  configs.forEach(({ n, bytes }, i) => {
    const flint = m[`flint-${n}`];
    const floor = m[`floor-${n}`];
    const ign = m[`ignition-${n}`];
    const prev = i > 0 ? m[`flint-${configs[i - 1].n}`] : null;
    const growth = prev && n === configs[i - 1].n * 10 ? ratio(flint.ms, prev.ms) : null;
    Object.assign(data.sizes[i], { ms: flint.ms, rssKiB: flint.rssKiB, floorMs: floor.ms, floorRssKiB: floor.rssKiB, growthPer10x: growth, msAll: flint.msAll, ignitionMs: ign?.ms, ignitionRssKiB: ign?.rssKiB });
    const targets = [];
    let ok = true;
    if (n === 10_000) {
      targets.push("≤ 0.5 s");
      ok &&= flint.ms <= 500;
      if (ign) {
        targets.push(`≤ ${VS_IGNITION_AT_10K}× Ignition`);
        ok &&= flint.ms <= VS_IGNITION_AT_10K * ign.ms;
      }
    }
    if (growth !== null) {
      targets.push(`growth ${growth.toFixed(1)}× ≤ 12×`);
      ok &&= growth <= 12;
    }
    rows.push(
      row(
        "3",
        `validate ${n.toLocaleString("en")} files (${fmtBytes(bytes)} config)`,
        { ms: flint.ms, kib: flint.rssKiB },
        { ms: floor.ms, kib: floor.rssKiB },
        targets.length ? { text: targets.join(", "), ok } : undefined,
        undefined,
        ign ? { ms: ign.ms, kib: ign.rssKiB } : { na: ignition.na ?? `not run above ${IGNITION_MAX.toLocaleString("en")} files` },
      ),
    );
  });
  return { data, rows };
}
