// Turns measurements into table rows and prints the table.
// A measurement is { ms?, kib?, text?, na? }; a cell shows "n/a (reason)"
// when the figure could not be taken, so a missing feature never fails the run.

export function ratio(a, b) {
  if (a === null || a === undefined || !b) return null;
  return Math.round((a / b) * 1000) / 1000;
}

export function fmtMs(ms) {
  if (ms === null || ms === undefined) return "?";
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  return `${ms.toFixed(1)} ms`;
}

export function fmtKiB(kib) {
  if (kib === null || kib === undefined) return "?";
  if (kib >= 1024 * 1024) return `${(kib / 1024 / 1024).toFixed(2)} GiB`;
  if (kib >= 1024) return `${(kib / 1024).toFixed(1)} MiB`;
  return `${kib.toFixed(1)} KiB`;
}

export function fmtBytes(bytes) {
  return bytes === null || bytes === undefined ? "?" : fmtKiB(bytes / 1024);
}

function cell(m) {
  if (!m) return "";
  if (m.na) return `n/a (${m.na})`;
  if (m.text) return m.text;
  return [m.ms !== undefined ? fmtMs(m.ms) : null, m.kib !== undefined ? fmtKiB(m.kib) : null].filter(Boolean).join(", ");
}

/**
 * One line of the table. `target` is { max } (a ratio ceiling), { min } (a
 * ratio floor), or { text, ok } for anything else. The ratio is Flint/floor
 * of wall time when both sides have one, else of memory; `ratioOverride`
 * replaces it (the fetch figure compares throughput, the inverse).
 * `ignition`, where given, is the real Ignition doing the same work in the
 * same run, with Flint's wall time over its own.
 */
export function row(figure, what, flint, floor, target, ratioOverride, ignition) {
  let r = ratioOverride ?? null;
  if (r === null && flint && floor && !flint.na && !floor.na) {
    if (flint.ms !== undefined && floor.ms !== undefined) r = ratio(flint.ms, floor.ms);
    else if (flint.kib !== undefined && floor.kib !== undefined) r = ratio(flint.kib, floor.kib);
  }
  let targetText = "";
  let ok = null;
  if (target?.max !== undefined) {
    targetText = `≤ ${target.max}×`;
    ok = r === null ? null : r <= target.max;
  } else if (target?.min !== undefined) {
    targetText = `≥ ${target.min}×`;
    ok = r === null ? null : r >= target.min;
  } else if (target?.text) {
    targetText = target.text;
    ok = target.ok ?? null;
  }
  if (flint?.na) ok = null;
  return {
    figure,
    what,
    flint: cell(flint),
    floor: cell(floor),
    ratio: r === null ? "" : `${r.toFixed(2)}×`,
    ignition: cell(ignition),
    vsIgnition: ignition && !ignition.na && flint && !flint.na && ignition.ms !== undefined ? `${ratio(flint.ms, ignition.ms).toFixed(2)}×` : "",
    target: targetText ? `${targetText} ${ok === null ? "" : ok ? "✓" : "✗"}`.trim() : "",
  };
}

const COLUMNS = [
  ["figure", "#"],
  ["what", "figure"],
  ["flint", "Flint"],
  ["floor", "floor"],
  ["ratio", "ratio"],
  ["ignition", "Ignition"],
  ["vsIgnition", "Flint / Ignition"],
  ["target", "target"],
];

/** A Markdown table (it reads as well in a terminal as in BENCHMARKS.md). */
export function formatTable(rows) {
  // Rows kept from a results.json older than a column have no cell for it.
  const widths = COLUMNS.map(([key, head]) => Math.max(head.length, ...rows.map((r) => [...(r[key] ?? "")].length)));
  const line = (cells) => `| ${cells.map((c, i) => c + " ".repeat(widths[i] - [...c].length)).join(" | ")} |`;
  return [
    line(COLUMNS.map(([, head]) => head)),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.map((r) => line(COLUMNS.map(([key]) => r[key] ?? ""))),
  ].join("\n");
}
