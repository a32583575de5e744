// How the files stage notes what it does (or, in a plan, would do).

import { log } from "../../log";
import type { StageContext } from "../context";

/** Details repeat (a few modes and owners): each is kept once, not once per action of a 100,000-file run. */
const details = new Map<string, string>();
const DETAILS_KEPT = 1024;

function shared(detail: string): string {
  const known = details.get(detail);
  if (known !== undefined) return known;
  if (details.size < DETAILS_KEPT) details.set(detail, detail);
  return detail;
}

export function record(ctx: StageContext, kind: string, target: string, detail?: string): void {
  ctx.actions.push(detail ? { kind, target, detail: shared(detail) } : { kind, target });
  if (!ctx.dryRun) log.info(`${kind} ${target}${detail ? ` ${detail}` : ""}`);
}

export function octal(mode: number): string {
  return "0" + (mode & 0o7777).toString(8).padStart(3, "0");
}
