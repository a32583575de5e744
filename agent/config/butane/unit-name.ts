// systemd's escaping of a path into a unit name (as `systemd-escape --path`):
// /var/lib/data -> var-lib-data, so a mount unit's name matches its mount point.

const ALLOWED = /[A-Za-z0-9:_.]/;

export function escapePathForUnit(path: string): string {
  let out = "";
  let inSlashes = false;
  let start = true;
  for (const byte of Buffer.from(path, "utf8")) {
    const c = String.fromCharCode(byte);
    if (c === "/") {
      inSlashes = true;
      continue;
    }
    if (inSlashes) {
      if (!start) out += "-";
      inSlashes = false;
    }
    out += byte < 0x80 && ALLOWED.test(c) && !(c === "." && start) ? c : "\\x" + byte.toString(16).padStart(2, "0");
    start = false;
  }
  return start ? "-" : out;
}
