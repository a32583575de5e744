// jsonc-parser's streaming parser alone: its main module also loads the
// formatter and editor, whose module set-up builds string caches Flint never
// uses (about 1 ms of every start-up that reads a config). The module has no
// typings of its own; `visit` is the one in the package's main typings.
declare module "jsonc-parser/lib/esm/impl/parser.js" {
  export { visit } from "jsonc-parser/lib/esm/main.js";
}
