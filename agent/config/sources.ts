// Where each part of an assembled config came from: which document (the user
// config, a merged or replacing config by its URL, a base config) and which
// JSON path inside it. Kept through 2.x translation and through merging, so
// that an error found at stage time, in the merged config, points into the
// document a person wrote.
//
// A source tree has the shape of the config but only where origins change: a
// node without `at` inherits its parent's origin, extended by the path below
// it. One document with no merging is a single node.

import type { JsonPath } from "./issues";
import { locatePaths, type Position } from "./locate";

/** One document that went into a config; `text` gives line and column. */
export interface SourceDocument {
  /** As a person knows it: `merged config https://host/x.ign`, `base config /usr/lib/flint/base.d/a.ign`. */
  name: string;
  text?: string;
  /** Butane YAML: paths are YAML paths, and lines are found in YAML text. */
  format?: "yaml";
}

export interface Origin {
  document: SourceDocument;
  path: JsonPath;
}

export interface SourceTree {
  at?: Origin;
  kids?: Record<string, SourceTree>;
  /** List items taken whole from another list, a run at a time: items start… of this list are items from… of `list`. */
  spans?: Span[];
}

export interface Span {
  start: number;
  count: number;
  from: number;
  list: SourceTree;
}

/** A whole document, path for path. */
export function documentTree(document: SourceDocument): SourceTree {
  return { at: { document, path: [] } };
}

/** A document whose config paths differ from its own (2.x translation): `origins` maps config paths to document paths. */
export function translatedTree(document: SourceDocument, origins: Iterable<[JsonPath, JsonPath]>): SourceTree {
  const tree = documentTree(document);
  for (const [to, from] of origins) {
    let node = tree;
    for (const key of to) node = (node.kids ??= {})[key] ??= {};
    node.at = { document, path: from };
  }
  return tree;
}

/** A position in a source tree: the node there (if any) and the origin in force. */
export interface Cursor {
  node?: SourceTree;
  origin: Origin;
}

export function rootCursor(tree: SourceTree, fallback: SourceDocument): Cursor {
  return { node: tree, origin: tree.at ?? { document: fallback, path: [] } };
}

export function descend(cursor: Cursor, key: string | number): Cursor {
  const node = cursor.node?.kids?.[key];
  if (!node && typeof key === "number" && cursor.node?.spans) {
    const span = cursor.node.spans.find((s) => key >= s.start && key < s.start + s.count);
    if (span) return descend({ node: span.list, origin: span.list.at! }, span.from + key - span.start);
  }
  return { node, origin: node?.at ?? { document: cursor.origin.document, path: [...cursor.origin.path, key] } };
}

/** The subtree at a cursor, standing on its own (to be placed elsewhere in another tree). */
export function detach(cursor: Cursor): SourceTree {
  const { kids, spans } = cursor.node ?? {};
  return { at: cursor.origin, ...(kids ? { kids } : {}), ...(spans ? { spans } : {}) };
}

/** Where one item of a new list came from: whole from an item of another list, or merged (its own tree). */
export type ListItemSource = { list: SourceTree; index: number } | { tree: SourceTree };

/** A list's node from where each of its items came, runs of whole items kept as spans (a 100,000-entry list is one span, not 100,000 nodes). */
export function listTree(origin: Origin, items: ListItemSource[]): SourceTree {
  const node: SourceTree = { at: origin };
  let run: Span | undefined;
  items.forEach((item, i) => {
    if ("tree" in item) {
      (node.kids ??= {})[i] = item.tree;
      run = undefined;
    } else if (run && run.list === item.list && run.from + run.count === item.index && run.start + run.count === i) {
      run.count++;
    } else {
      run = { start: i, count: 1, from: item.index, list: item.list };
      (node.spans ??= []).push(run);
    }
  });
  return node;
}

/** The origin of a config path. */
export function originOf(tree: SourceTree, path: JsonPath): Origin | undefined {
  if (!tree.at) return undefined;
  let cursor: Cursor = { node: tree, origin: tree.at };
  for (const key of path) cursor = descend(cursor, key);
  return cursor.origin;
}

export interface Located {
  document: string;
  path: JsonPath;
  position?: Position;
}

/** Where a config path lies in the documents the config was made of (line and column when the text is known). */
export function locateInSources(tree: SourceTree, path: JsonPath): Located | undefined {
  const origin = originOf(tree, path);
  if (!origin) return undefined;
  const { text, format } = origin.document;
  const position = text === undefined ? undefined : format === "yaml" ? locateInYaml(text, origin.path) : locatePaths(text, [{ path: origin.path }])[0];
  return { document: origin.document.name, path: origin.path, ...(position ? { position } : {}) };
}

/** Only when an error is reported at stage time: the YAML library is loaded then, not before. */
function locateInYaml(text: string, path: JsonPath): Position | undefined {
  const { parseYaml } = require("./butane/yaml") as typeof import("./butane/yaml");
  const parsed = parseYaml(text);
  return parsed.ok ? parsed.source.position(path) : undefined;
}

// On disk (beside the config cache) the documents are listed once and the
// tree refers to them by index.
interface StoredTree {
  at?: { document: number; path: JsonPath };
  kids?: Record<string, StoredTree>;
  spans?: (Omit<Span, "list"> & { list: StoredTree })[];
}

interface StoredSources {
  documents: SourceDocument[];
  tree: StoredTree;
}

export function serializeSources(tree: SourceTree): string {
  const documents: SourceDocument[] = [];
  const index = new Map<SourceDocument, number>();
  const store = (node: SourceTree): StoredTree => {
    const out: StoredTree = {};
    if (node.at) {
      let n = index.get(node.at.document);
      if (n === undefined) index.set(node.at.document, (n = documents.push(node.at.document) - 1));
      out.at = { document: n, path: node.at.path };
    }
    if (node.kids) out.kids = Object.fromEntries(Object.entries(node.kids).map(([k, v]) => [k, store(v)]));
    if (node.spans) out.spans = node.spans.map((span) => ({ ...span, list: store(span.list) }));
    return out;
  };
  const stored = store(tree);
  return JSON.stringify({ documents, tree: stored } satisfies StoredSources);
}

export function parseSources(text: string): SourceTree {
  const stored = JSON.parse(text) as StoredSources;
  const load = (node: StoredTree): SourceTree => {
    const out: SourceTree = {};
    if (node.at) {
      const document = stored.documents[node.at.document];
      if (document) out.at = { document, path: node.at.path };
    }
    if (node.kids) out.kids = Object.fromEntries(Object.entries(node.kids).map(([k, v]) => [k, load(v)]));
    if (node.spans) out.spans = node.spans.map((span) => ({ ...span, list: load(span.list) }));
    return out;
  };
  return load(stored.tree);
}
