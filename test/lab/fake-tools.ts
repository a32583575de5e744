// The hypervisor tools a platform calls (vmware-rpctool, VBoxControl, vmur…),
// as shell scripts that keep the hypervisor's properties in files under
// STATE, answering and exiting as the real tools do. `installTool` puts one
// on a test machine's PATH (DIR/bin).

import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Writes DIR/bin/NAME running `body` with STATE=DIR/state. */
export function installTool(dir: string, name: string, body: string): void {
  mkdirSync(join(dir, "bin"), { recursive: true });
  mkdirSync(join(dir, "state"), { recursive: true });
  writeFileSync(join(dir, "bin", name), `#!/bin/sh\nset -u\nSTATE=${join(dir, "state")}\n${body}\n`);
  chmodSync(join(dir, "bin", name), 0o755);
}

/** vmware-rpctool's one argument: `info-get KEY` (exit 1 when unset) or `info-set KEY VALUE`; STATE/KEY holds the value. */
export const RPCTOOL = `
case $1 in
"info-get "*) key=\${1#info-get }; [ -f "$STATE/$key" ] || { echo "No value found" >&2; exit 1; }; cat "$STATE/$key"; echo ;;
"info-set "*) rest=\${1#info-set }; key=\${rest%% *}; printf %s "\${rest#* }" >"$STATE/$key" ;;
*) exit 1 ;;
esac`;

/** VBoxControl's `guestproperty get|delete NAME` over files named after the property ('/' → '_'); an unset one prints "No value set!", exit 2. */
export const VBOXCONTROL = `
[ "$1" = --nologo ] && shift
[ "$1" = guestproperty ] || exit 1
file="$STATE/$(printf %s "$3" | tr / _)"
case $2 in
get) if [ -f "$file" ]; then printf 'Value: '; cat "$file"; echo; else echo 'No value set!'; exit 2; fi ;;
delete|unset) rm -f "$file" ;;
*) exit 1 ;;
esac`;

/** vmur: \`li\` lists the reader's queue (a PROFILE EXEC and a CONFIG ign, spool id 0017); \`re -f ID FILE\` receives STATE/ID. */
export const VMUR = `
case $1 in
li) echo 'ORIGINID FILE CLASS RECORDS  CPY HOLD DATE  TIME     NAME      TYPE     DIST'
    echo 'MAINT    0012 A PUN 00000001 001 NONE 12/08 00:00:01 PROFILE   EXEC     MAINT'
    echo 'MAINT    0017 A PUN 00000003 001 NONE 12/08 00:00:02 CONFIG    ign      MAINT' ;;
re) [ "$2" = -f ] || exit 1; cp "$STATE/$3" "$4" ;;
*) exit 1 ;;
esac`;
