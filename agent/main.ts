// CLI entry: one command line per process (see dispatch.ts).

import { runFlint } from "./dispatch";

void runFlint(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
