// The result report, `<root>/etc/.flint-result.json`: which stages ran, how
// long they took, whether they worked, and every action they took (paths,
// units, users — never contents). The runner that fills it is
// stages/run.ts.

import { FlintError } from "./errors";
import { readRootFile } from "./root/read";
import { writeRootFile } from "./root/write";
import { ActionLog, actionsOf, logOf } from "./stages/action-log";
import { REPORT_PATH_IN_ROOT, type Action } from "./stages/context";
import { ROOT_STAGE_ORDER, type RootStageName } from "./stages/index";


export const REPORT_FORMAT = 1;

export interface StageRecord {
  name: RootStageName;
  startedAt: string;
  durationMs: number;
  ok: boolean;
  error?: string;
  actions: Action[];
}

export interface FlintReport {
  format: number;
  flintVersion: string;
  /** The kernel's boot id: stages run separately in one boot share one report. */
  bootId?: string;
  /** The spec version the config declared, when known. */
  specVersion?: string;
  startedAt: string;
  finishedAt: string;
  ok: boolean;
  stages: StageRecord[];
}

/** A later run in the same boot replaces the stages it ran and keeps the others. */
export function mergeReports(previous: FlintReport | undefined, next: FlintReport): FlintReport {
  if (!previous || previous.format !== REPORT_FORMAT || !previous.bootId || previous.bootId !== next.bootId) return next;
  const byName = new Map(previous.stages.map((s) => [s.name, s] as const));
  for (const s of next.stages) byName.set(s.name, s);
  const stages = ROOT_STAGE_ORDER.flatMap((n) => (byName.has(n) ? [byName.get(n)!] : []));
  return { ...next, startedAt: previous.startedAt, specVersion: next.specVersion ?? previous.specVersion, stages, ok: stages.every((s) => s.ok) };
}

/** A report is a few KiB per thousand actions; more than this is not one Flint wrote. */
const REPORT_CAP = 256 * 1024 * 1024;

export async function readReport(root: string): Promise<FlintReport | undefined> {
  // A FIFO or device there is refused (never waited on); so is a huge file.
  const text = readRootFile(root, REPORT_PATH_IN_ROOT, REPORT_CAP);
  if (!text) return undefined;
  try {
    return JSON.parse(text.toString("utf8")) as FlintReport;
  } catch (e) {
    throw new FlintError(`cannot read the report: ${(e as Error).message}`, REPORT_PATH_IN_ROOT);
  }
}

/** Writes the report into the root atomically (by the one durability rule, root/write.ts). */
export async function writeReport(root: string, report: FlintReport): Promise<void> {
  try {
    // 0600: a failed stage's error quotes a tool, and the root's users have no business reading that.
    await writeRootFile(root, REPORT_PATH_IN_ROOT, reportBytes(report), 0o600);
  } catch (e) {
    // The root may hold anything at that path (a directory, a FIFO): say so, not a bare errno.
    if (e instanceof FlintError) throw e;
    throw new FlintError(`cannot write the result report: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, REPORT_PATH_IN_ROOT);
  }
}

/** Written out a piece at a time: a 100,000-file run's report is tens of MiB as one string. */
const REPORT_PIECE = 64 * 1024;
/** Up to this many actions (a few MiB of text), the report is written whole. */
const SMALL_REPORT_ACTIONS = 10_000;

/** The report's text, exactly JSON.stringify(report, null, 2) + "\n", in pieces of about REPORT_PIECE characters. */
export function* reportBytes(report: FlintReport): Generator<Buffer> {
  // A report of a usual size is one string: cheaper than the pieces, and small.
  if (report.stages.reduce((n, stage) => n + actionsOf(stage).length, 0) <= SMALL_REPORT_ACTIONS) {
    yield Buffer.from(JSON.stringify(report, null, 2) + "\n");
    return;
  }
  let pending = "";
  for (const part of prettyJson(report, "")) {
    pending += part;
    if (pending.length >= REPORT_PIECE) {
      yield Buffer.from(pending);
      pending = "";
    }
  }
  yield Buffer.from(pending + "\n");
}

/**
 * JSON.stringify(value, null, 2) for plain data, in parts; an object or list
 * without nested ones is one part. A stage record's actions are read from
 * its log (action-log.ts) one at a time, never made into a list.
 */
function* prettyJson(value: unknown, indent: string): Generator<string> {
  const log = typeof value === "object" && value !== null ? logOf(value) : undefined;
  if (log) {
    // Keys in their order, read without the getter that would make the list.
    const shown: Record<string, unknown> = {};
    for (const key of Object.keys(value as object)) shown[key] = key === "actions" ? log : (value as Record<string, unknown>)[key];
    yield* prettyJson(shown, indent);
    return;
  }
  if (value instanceof ActionLog) {
    if (value.length === 0) {
      yield "[]";
      return;
    }
    const inner = indent + "  ";
    yield "[\n";
    for (let i = 0; i < value.length; i++) {
      yield inner;
      yield* prettyJson(value.at(i), inner);
      yield i < value.length - 1 ? ",\n" : "\n";
    }
    yield indent + "]";
    return;
  }
  if (typeof value !== "object" || value === null || !Object.values(value).some((v) => typeof v === "object" && v !== null)) {
    const text = JSON.stringify(value, null, 2);
    yield indent === "" ? text : text.replaceAll("\n", "\n" + indent);
    return;
  }
  const inner = indent + "  ";
  if (Array.isArray(value)) {
    yield "[\n";
    for (let i = 0; i < value.length; i++) {
      yield inner;
      yield* prettyJson(value[i] === undefined ? null : value[i], inner);
      yield i < value.length - 1 ? ",\n" : "\n";
    }
    yield indent + "]";
    return;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== "function");
  yield "{\n";
  for (let i = 0; i < entries.length; i++) {
    const [key, v] = entries[i]!;
    yield `${inner}${JSON.stringify(key)}: `;
    yield* prettyJson(v, inner);
    yield i < entries.length - 1 ? ",\n" : "\n";
  }
  yield indent + "}";
}

/** One line per action: `create /etc/motd mode=0644 owner=0:0`. */
export function formatAction(a: Action): string {
  return `${a.kind} ${a.target}${a.detail ? ` ${a.detail}` : ""}`;
}

/** The report for people. */
export function formatReport(report: FlintReport): string {
  const lines = [
    `Flint ${report.flintVersion}: ${report.ok ? "succeeded" : "FAILED"} (${report.startedAt} → ${report.finishedAt})${report.specVersion ? `, config spec ${report.specVersion}` : ""}`,
  ];
  for (const s of report.stages) {
    const actions = actionsOf(s);
    lines.push(`stage ${s.name}: ${s.ok ? "ok" : "failed"} in ${s.durationMs.toFixed(1)} ms, ${actions.length} action(s)`);
    if (s.error) lines.push(`  error: ${s.error}`);
    for (const a of actions) lines.push(`  ${formatAction(a)}`);
  }
  return lines.join("\n") + "\n";
}
