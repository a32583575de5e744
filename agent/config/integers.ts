// Every number in an Ignition config is an integer, and Ignition's Go decoder
// refuses one written with a fraction or an exponent (420.0, 4.2e2) where
// JSON.parse reads it as 420. The text tells them apart; it is walked only
// when the scan that parsing makes anyway saw such a number (text.ts).

import { visit } from "jsonc-parser/lib/esm/impl/parser.js";
import type { IssueList, JsonPath } from "./issues";
import { StoredList, type ItemList } from "./item-list";
import { goFieldOf } from "./read";

/** Errors at the fields of `model` (the typed config read from `text`) whose number is written as a non-integer; for a text whose scan found one (ParsedJson.fractionalNumbers). */
export function checkIntegerSpelling(text: string, model: unknown, issues: IssueList): void {
  visit(
    text,
    {
      onLiteralValue: (value, offset, length, _line, _column, pathSupplier) => {
        if (typeof value !== "number") return;
        const written = text.slice(offset, offset + length);
        if (!/[.eE]/.test(written)) return;
        const path = pathSupplier();
        // A key Ignition ignores may hold any number.
        if (typeof valueAt(model, path) === "number") issues.error(path, `must be an integer, not ${written.length > 24 ? written.slice(0, 21) + "..." : written} (Ignition refuses a fraction or an exponent)`);
      },
    },
    { disallowComments: true },
  );
}

/** The model's value at a path of the text: keys as Ignition matches them (read.ts). */
function valueAt(model: unknown, path: JsonPath): unknown {
  let node = model;
  for (const step of path) {
    if (typeof node !== "object" || node === null) return undefined;
    if (Array.isArray(node) || node instanceof StoredList) node = (node as ItemList<unknown>).at(step as number);
    else {
      const fields = new Map(Object.keys(node).map((k) => [k, true]));
      node = (node as Record<string, unknown>)[goFieldOf(String(step), fields)];
    }
  }
  return node;
}
