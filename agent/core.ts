// What dist/flint-core.js exports: the whole CLI, run by dist/flint.js
// (agent/loader.ts) with a V8 code cache. agent/main.ts runs the same from
// source (tsx).

export { runFlint } from "./dispatch";
