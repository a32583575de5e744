// The YAML side of Butane configs: loads the `yaml` library only when a
// config is YAML (JSON configs and ordinary boots never pay for it), parses
// one document keeping every node's position, and finds the line and column
// of a YAML path for messages.
//
// In dist/ the library is its own file, flint-yaml.js, beside flint.js
// (build.mjs points `yaml` there); from source it comes from node_modules.

import type * as YamlLib from "yaml";
import { FlintError } from "../../errors";
import type { JsonPath, RawIssue } from "../issues";
import type { Position } from "../locate";
import { isWellFormed, notWellFormed } from "../read";

export type YamlNode = YamlLib.Node;
export type YamlMap = YamlLib.YAMLMap<YamlLib.Scalar, YamlNode | null>;
export type YamlSeq = YamlLib.YAMLSeq<YamlNode | null>;
export type YamlScalar = YamlLib.Scalar<string>;

let lib: typeof YamlLib | undefined;

function yaml(): typeof YamlLib {
  if (lib) return lib;
  try {
    // A plain require, resolved at run time: esbuild keeps it out of flint.js.
    lib = require("yaml") as typeof YamlLib;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND") throw e;
    throw new FlintError("this is a Butane (YAML) config, and the YAML library flint-yaml.js is missing beside flint.js");
  }
  return lib;
}

export function isMap(node: unknown): node is YamlMap {
  return yaml().isMap(node);
}
export function isSeq(node: unknown): node is YamlSeq {
  return yaml().isSeq(node);
}
export function isScalar(node: unknown): node is YamlScalar {
  return yaml().isScalar(node);
}
export function isAlias(node: unknown): node is YamlLib.Alias {
  return yaml().isAlias(node);
}

export interface YamlSource {
  text: string;
  root: YamlNode | null;
  /** Line and column of the node at `path` (or of its key); the deepest existing ancestor when absent. */
  position(path: JsonPath, atKey?: boolean): Position | undefined;
  /** Follows an alias (`*name`) to the node it names. */
  resolve(node: YamlNode | null | undefined): YamlNode | null | undefined;
}

/** Parses the first YAML document of `text`; syntax errors come back as issues with their position. */
export function parseYaml(text: string): { ok: true; source: YamlSource } | { ok: false; issues: (RawIssue & Partial<Position>)[] } {
  const Y = yaml();
  const lineCounter = new Y.LineCounter();
  // failsafe: every scalar stays a string, typed later the way Butane's Go decoder types it.
  const docs = Y.parseAllDocuments(text, { lineCounter, schema: "failsafe", uniqueKeys: true, prettyErrors: true, merge: false });
  const list = Array.isArray(docs) ? docs : [];
  const first = list[0];
  const errors = first ? first.errors : [];
  if (errors.length > 0) {
    return {
      ok: false,
      issues: errors.slice(0, 5).map((e) => {
        const at = e.linePos?.[0];
        // The field being written where the text broke, from what did parse.
        const path = pathAt(first?.contents as YamlNode | null | undefined, e.pos[0]);
        return { severity: "error" as const, path, message: `invalid YAML: ${describeYamlError(e)}`, ...(at ? { line: at.line, column: at.col } : {}) };
      }),
    };
  }
  const doc = first;
  const root = (doc?.contents ?? null) as YamlNode | null;
  const resolve = (node: YamlNode | null | undefined) => (node && Y.isAlias(node) && doc ? (node.resolve(doc) as YamlNode | undefined) : node);
  const refused = refusedNode(root, resolve);
  if (refused) {
    const offset = refused.node.range?.[0] ?? 0;
    const p = lineCounter.linePos(offset);
    return { ok: false, issues: [{ severity: "error", path: pathAt(root, offset), message: refused.message, line: p.line, column: p.col }] };
  }
  const at = (offset: number): Position => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  return {
    ok: true,
    source: {
      text,
      root,
      resolve,
      position(path, atKey = false) {
        let node: YamlNode | null | undefined = resolve(root);
        let best: Position | undefined = node?.range ? at(node.range[0]) : undefined;
        for (let i = 0; i < path.length && node; i++) {
          const step = path[i]!;
          if (Y.isMap(node) && typeof step === "string") {
            const pair = (node as YamlMap).items.find((p) => Y.isScalar(p.key) && String((p.key as YamlScalar).value) === step);
            if (!pair) break;
            const last = i === path.length - 1;
            if ((last && atKey) || !pair.value) {
              const key = pair.key as YamlScalar;
              best = key.range ? at(key.range[0]) : best;
              if (last && atKey) break;
            }
            node = resolve(pair.value);
          } else if (Y.isSeq(node) && typeof step === "number") {
            node = resolve((node as YamlSeq).items[step]);
          } else break;
          if (node?.range) best = at(node.range[0]);
        }
        return best;
      },
    },
  };
}

/**
 * The first node Butane's YAML decoder would refuse, and why: a string that
 * is not well-formed Unicode (a `"\ud800"` escape; Butane: "found invalid
 * Unicode character escape code"), or the alias at which reading the
 * document, aliases expanded, would be mostly the expansion of aliases. Flint reads
 * the YAML tree itself, following aliases (resolve), so the library's own
 * limit (maxAliasCount) never applies: it is checked only by toJS(). The
 * rule is Butane's decoder's (Go's yaml.v3): past 100 nodes from aliases and
 * 1,000 in all, at most 99% of the nodes read may come from aliases up to
 * 400,000 nodes, falling to 10% at 4,000,000. So 3 KB cannot become
 * megabytes, and the walk here stops as soon as the share is passed.
 */
function refusedNode(root: YamlNode | null, resolve: (node: YamlNode | null | undefined) => YamlNode | null | undefined): { node: YamlNode; message: string } | undefined {
  const Y = yaml();
  let read = 0;
  let fromAliases = 0;
  const tooMany = (): boolean => {
    if (fromAliases <= 100 || read <= 1000) return false;
    const allowed = read <= 400_000 ? 0.99 : read >= 4_000_000 ? 0.1 : 0.99 - (0.89 * (read - 400_000)) / 3_600_000;
    return fromAliases / read > allowed;
  };
  // An explicit stack (node, alias depth, the alias it came through): a deep document cannot overflow the call stack.
  const stack: [YamlNode | null | undefined, number, YamlNode | undefined][] = [[root, 0, undefined]];
  while (stack.length > 0) {
    const [node, depth, via] = stack.pop()!;
    if (!node) continue;
    read++;
    if (depth > 0) fromAliases++;
    if (tooMany()) return { node: via!, message: "the YAML document contains excessive aliasing" };
    if (depth === 0 && Y.isScalar(node) && typeof node.value === "string" && !isWellFormed(node.value)) return { node, message: notWellFormed(node.value) };
    if (Y.isAlias(node)) {
      // An alias to itself (or to an anchor around it) is the library's error, reported before this.
      if (depth < 1000) stack.push([resolve(node), depth + 1, via ?? node]);
    } else if (Y.isMap(node)) {
      // Pushed last first: the walk goes in the document's order.
      for (const pair of [...(node as YamlMap).items].reverse()) stack.push([pair.value as YamlNode | null, depth, via], [pair.key as YamlNode | null, depth, via]);
    } else if (Y.isSeq(node)) {
      for (const item of [...(node as YamlSeq).items].reverse()) stack.push([item, depth, via]);
    }
  }
  return undefined;
}

function describeYamlError(e: YamlLib.YAMLError): string {
  const message = e.message.replace(/ at line \d+, column \d+:?[\s\S]*$/, "").trim();
  switch (e.code) {
    case "BAD_INDENT":
      return `bad indentation (${message})`;
    case "TAB_AS_INDENT":
      return "a tab character cannot indent YAML; use spaces";
    case "DUPLICATE_KEY":
      return `a key appears twice in one mapping (${message})`;
    default:
      return message;
  }
}

/** The path of the innermost mapping entry or list item whose text spans `offset`. */
function pathAt(node: YamlNode | null | undefined, offset: number): JsonPath {
  const Y = yaml();
  const path: JsonPath = [];
  const within = (n: unknown, end?: number) => {
    const r = (n as YamlNode | null)?.range;
    return r !== undefined && r !== null && r[0] <= offset && offset <= (end ?? r[2]);
  };
  for (let depth = 0; node && depth < 100; depth++) {
    if (Y.isMap(node)) {
      const items = (node as YamlMap).items;
      // the last entry starting before the offset holds it (its value may end early in broken text)
      const pair = [...items].reverse().find((p) => (p.key as YamlScalar | null)?.range && (p.key as YamlScalar).range![0] <= offset);
      if (!pair || !Y.isScalar(pair.key)) break;
      path.push(String((pair.key as YamlScalar).value));
      node = pair.value as YamlNode | null;
    } else if (Y.isSeq(node)) {
      const items = (node as YamlSeq).items;
      let i = items.length - 1;
      while (i >= 0 && !(items[i]?.range && items[i]!.range![0] <= offset)) i--;
      if (i < 0) break;
      path.push(i);
      node = items[i] ?? null;
    } else break;
    if (node && !within(node, Number.MAX_SAFE_INTEGER)) break;
  }
  return path;
}
