// Kernel arguments the Flatcar way: `set linux_append="$linux_append ARG"`
// lines in the grub.cfg of the OEM partition, which Flatcar's GRUB sources
// before booting. Only unconditional lines (at the start of a line, outside
// any block) are read or changed; anything else in the file stays as it is.

import { tokenizeCmdline } from "../../boot/cmdline";
import type { KernelArguments } from "../../config/types";

const LINE = /^set linux_append="\$linux_append((?:[^"\\]|\\.)*)"\s*$/;

/** GRUB double-quote escaping: `\`, `"` and `$` get a backslash. */
const escape = (arg: string): string => arg.replace(/[\\"$]/g, (c) => `\\${c}`);
const unescape = (text: string): string => text.replace(/\\(.)/g, "$1");

/** An argument as the kernel must see it: a value with blanks is quoted (`k="a b"`), as on a command line. */
function kernelForm(arg: string): string {
  if (!/\s/.test(arg) || arg.includes('"')) return arg;
  const eq = arg.indexOf("=");
  return eq > 0 ? `${arg.slice(0, eq + 1)}"${arg.slice(eq + 1)}"` : `"${arg}"`;
}

/** The one token the kernel makes of an argument, to compare a config's argument with the file's and /proc/cmdline's. */
export function asToken(arg: string): string {
  return tokenizeCmdline(kernelForm(arg)).join(" ");
}

/** `args` are kernel-form already (tokens read back from a line are re-quoted). */
export function appendLine(args: string[]): string {
  return `set linux_append="$linux_append ${args.map((a) => escape(kernelForm(a))).join(" ")}"`;
}

/** The arguments the file's linux_append lines add. */
export function appendedArguments(text: string): string[] {
  return text.split("\n").flatMap((line) => {
    const m = LINE.exec(line);
    return m ? tokenizeCmdline(unescape(m[1]!)) : [];
  });
}

export interface GrubEdit {
  text: string;
  added: string[];
  removed: string[];
  /** Unwanted arguments the file does not add (GRUB's defaults, another line): nothing here can remove them. */
  notHere: string[];
}

/**
 * The file with each wanted argument added once (a line of its own at the
 * end) and each unwanted one taken out of the linux_append lines (a line left
 * with none goes). Idempotent: editing the result again changes nothing.
 */
export function editGrubConfig(text: string, wanted: KernelArguments): GrubEdit {
  const unwanted = new Map((wanted.shouldNotExist ?? []).map((a) => [asToken(a), a]));
  const removed: string[] = [];
  const lines: string[] = [];
  const body = text.endsWith("\n") ? text.slice(0, -1) : text;
  for (const line of text === "" ? [] : body.split("\n")) {
    const m = LINE.exec(line);
    if (!m) {
      lines.push(line);
      continue;
    }
    const args = tokenizeCmdline(unescape(m[1]!));
    const kept = args.filter((a) => !unwanted.has(a));
    if (kept.length === args.length) {
      lines.push(line);
      continue;
    }
    removed.push(...args.filter((a) => unwanted.has(a)).map((a) => unwanted.get(a)!));
    if (kept.length) lines.push(appendLine(kept));
  }
  const present = new Set(appendedArguments(lines.join("\n")));
  const added: string[] = [];
  for (const arg of new Set(wanted.shouldExist ?? [])) {
    if (present.has(asToken(arg)) || unwanted.has(asToken(arg))) continue;
    lines.push(appendLine([arg]));
    added.push(arg);
  }
  const notHere = [...unwanted.values()].filter((a) => !removed.includes(a));
  if (!added.length && !removed.length) return { text, added, removed, notHere };
  return { text: lines.join("\n") + "\n", added, removed: [...new Set(removed)], notHere };
}

/**
 * Whether to reboot now: only when this boot changed grub.cfg and the running
 * command line is not yet what the config wants. A boot whose loader ignores
 * grub.cfg then changes nothing on the next try, so it cannot loop.
 */
export function rebootNeeded(changedThisBoot: boolean, wanted: KernelArguments, running: string[]): boolean {
  if (!changedThisBoot) return false;
  const now = new Set(running);
  return (wanted.shouldExist ?? []).some((a) => !now.has(asToken(a))) || (wanted.shouldNotExist ?? []).some((a) => now.has(asToken(a)));
}
