// Prints, one per line, what the enabled units of an Ignition config echo
// (`ExecStart=... echo TEXT`): vm.sh --check expects each on the console.
// vm.sh gives it `flint translate`'s output, so Butane configs work too.
import { readFileSync } from "node:fs";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const units = config?.systemd?.units ?? [];
for (const unit of units) {
  if (!unit.enabled || typeof unit.contents !== "string") continue;
  for (const match of unit.contents.matchAll(/^ExecStart=.*?\becho\s+(?:-e\s+)?["']?([^"'\n]+?)["']?\s*$/gm)) {
    process.stdout.write(match[1] + "\n");
  }
}
