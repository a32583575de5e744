// How the files stage notes what it does (or, in a plan, would do).

import { log } from "../../log";
import type { StageContext } from "../context";

export function record(ctx: StageContext, kind: string, target: string, detail?: string): void {
  // A run's actions go to an ActionLog, which keeps each repeated detail once (stages/action-log.ts).
  ctx.actions.push(detail ? { kind, target, detail } : { kind, target });
  if (!ctx.dryRun) log.info(`${kind} ${target}${detail ? ` ${detail}` : ""}`);
}

export function octal(mode: number): string {
  return "0" + (mode & 0o7777).toString(8).padStart(3, "0");
}
