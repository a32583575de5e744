// Finds where in the source text JSON paths lie, for messages. Only run for
// the few issues that get reported, so a valid config never pays for it; one
// streaming pass (no tree), so a 50 MB document costs no extra memory.

import { visit } from "jsonc-parser/lib/esm/impl/parser.js";
import type { JsonPath } from "./issues";

export interface Position {
  line: number;
  column: number;
}

/** 1-based line and column of a character offset. */
export function lineColumnAt(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

const keyOf = (path: JsonPath) => path.join("\u0000");

/**
 * Positions of the values at `paths` (or of their keys, when `atKey`); a path
 * that does not exist in the text resolves to its deepest existing ancestor.
 */
export function locatePaths(text: string, wanted: { path: JsonPath; atKey?: boolean }[]): (Position | undefined)[] {
  const values = new Set<string>();
  const keys = new Set<string>();
  for (const w of wanted) {
    for (let n = 0; n <= w.path.length; n++) values.add(keyOf(w.path.slice(0, n)));
    if (w.atKey) keys.add(keyOf(w.path));
  }
  const valueAt = new Map<string, Position>();
  const keyAt = new Map<string, Position>();
  const onValue = (_offset: number, _length: number, line: number, character: number, pathSupplier: () => JsonPath) => {
    const k = keyOf(pathSupplier());
    if (values.has(k)) valueAt.set(k, { line: line + 1, column: character + 1 });
  };
  visit(
    text,
    {
      onObjectBegin: onValue,
      onArrayBegin: onValue,
      onLiteralValue: (_value, offset, length, line, character, pathSupplier) => onValue(offset, length, line, character, pathSupplier),
      onObjectProperty: (property, _offset, _length, line, character, pathSupplier) => {
        if (keys.size === 0) return;
        const k = keyOf([...pathSupplier(), property]);
        if (keys.has(k)) keyAt.set(k, { line: line + 1, column: character + 1 });
      },
    },
    { disallowComments: true },
  );
  return wanted.map((w) => {
    if (w.atKey) {
      const at = keyAt.get(keyOf(w.path));
      if (at) return at;
    }
    for (let n = w.path.length; n >= 0; n--) {
      const at = valueAt.get(keyOf(w.path.slice(0, n)));
      if (at) return at;
    }
    return undefined;
  });
}
