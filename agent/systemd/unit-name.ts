// systemd unit names: templates (`foo@.service`), instances (`foo@bar.service`)
// and the specifiers systemd expands in an [Install] section (systemd.unit(5)).

const SUFFIXES = ["service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer", "slice", "scope"];
const NAME = new RegExp(`^([A-Za-z0-9:_.\\\\-]+)(?:@([A-Za-z0-9:_.\\\\-]*))?\\.(${SUFFIXES.join("|")})$`);

export interface UnitName {
  /** Before the `@` (or the suffix): `foo`. */
  prefix: string;
  /** After the `@`: `bar`, `""` for a template, undefined for a plain unit. */
  instance?: string;
  /** `.service`, `.target`… */
  suffix: string;
}

export function parseUnitName(name: string): UnitName | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  return { prefix: m[1]!, instance: m[2], suffix: `.${m[3]}` };
}

export function isTemplate(name: string): boolean {
  return parseUnitName(name)?.instance === "";
}

export function isInstance(name: string): boolean {
  return Boolean(parseUnitName(name)?.instance);
}

/** `foo@bar.service` → `foo@.service`; undefined when `name` is no instance. */
export function templateOf(name: string): string | undefined {
  const n = parseUnitName(name);
  return n?.instance ? `${n.prefix}@${n.suffix}` : undefined;
}

export function instanceOf(name: string): string | undefined {
  return parseUnitName(name)?.instance || undefined;
}

/** `foo@.service` (or `foo@x.service`) with instance `bar` → `foo@bar.service`. */
export function withInstance(name: string, instance: string): string {
  const n = parseUnitName(name)!;
  return `${n.prefix}@${instance}${n.suffix}`;
}

/**
 * Expands the specifiers systemd allows in [Install] values for the system
 * scope. Host-specific ones (%m, %H, %b…) have no meaning before the first
 * boot: the value is then refused (undefined) rather than guessed.
 */
export function expandInstallSpecifiers(value: string, unit: string): string | undefined {
  const n = parseUnitName(unit);
  if (!n) return undefined;
  const prefix = n.prefix;
  const known: Record<string, string> = {
    n: unit,
    N: unit.slice(0, -n.suffix.length),
    p: prefix,
    i: n.instance ?? "",
    j: prefix.slice(prefix.lastIndexOf("-") + 1),
    u: "root",
    U: "0",
    g: "root",
    G: "0",
    T: "/tmp",
    V: "/var/tmp",
    "%": "%",
  };
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c !== "%") {
      out += c;
      continue;
    }
    const spec = value[++i];
    if (spec === undefined || !(spec in known)) return undefined;
    out += known[spec];
  }
  return out;
}
