// systemd unit names: which names are valid (the one home of that rule, for
// validation and for the stage that writes them), templates (`foo@.service`),
// instances (`foo@bar.service`) and the specifiers systemd expands in an
// [Install] section (systemd.unit(5)).

const SUFFIXES = ["service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer", "slice", "scope"];
// The instance may hold further "@"s, as systemd allows.
const NAME = new RegExp(`^([A-Za-z0-9:_.\\\\-]+)(?:@([A-Za-z0-9:_.\\\\@-]*))?\\.(${SUFFIXES.join("|")})$`);
/** What a config may name: systemd dropped .snapshot units in v228, but Ignition configs may still name one. */
const ACCEPTED_TYPES = [...SUFFIXES, "snapshot"];

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

/** systemd's UNIT_NAME_MAX less its terminating NUL. */
const UNIT_NAME_MAX = 255;
/** What systemd allows before the type suffix (its VALID_CHARS_WITH_AT); anything else is escaped as \xNN. */
const UNIT_NAME_CHARS = /^[A-Za-z0-9:_.\\@-]*$/;

/**
 * Why `name` is not a unit name systemd would accept (as unit_name_is_valid
 * does: a plain name, a template `foo@.service` or an instance
 * `foo@bar.service`), or undefined when it is one. Also refuses a leading
 * "-" other than the root's own `-.mount`/`-.slice`, so no name can ever
 * look like an option to a tool.
 */
export function unitNameProblem(name: string): string | undefined {
  const quoted = JSON.stringify(name);
  if (name.includes("/")) return `unit name must not contain "/" (got ${quoted})`;
  const dot = name.lastIndexOf(".");
  const type = dot === -1 ? "" : name.slice(dot + 1);
  if (dot <= 0 || !ACCEPTED_TYPES.includes(type)) return `unit name must end in a unit type such as .service, .socket, .mount, .timer or .target (got ${quoted})`;
  if (name.length > UNIT_NAME_MAX) return `unit name is ${name.length} characters long; systemd allows at most ${UNIT_NAME_MAX}`;
  const prefix = name.slice(0, dot);
  // A line break would make more than one line of the preset file.
  if (/[\x00-\x1f\x7f]/.test(name)) return `unit name must not contain control characters (got ${quoted})`;
  if (prefix.startsWith("@")) return `invalid instantiated unit name ${quoted}: nothing before "@"`;
  if (prefix.startsWith("-") && prefix !== "-") return `unit name must not begin with "-" (got ${quoted}); only the root's own "-.${type}" does`;
  return undefined;
}

/**
 * Why systemd would not load a unit of this name although Ignition writes
 * it (a config warning, not an error): characters outside its set.
 */
export function unitNameDoubt(name: string): string | undefined {
  const prefix = name.slice(0, Math.max(name.lastIndexOf("."), 0));
  if (UNIT_NAME_CHARS.test(prefix)) return undefined;
  return `unit name ${JSON.stringify(name)} has characters systemd does not allow, so it will not load it: only letters, digits and ":-_.\\@" (escape others as systemd-escape does)`;
}

/** NAME_MAX: a drop-in is one file name in the unit's .d directory. */
const FILE_NAME_MAX = 255;

/** Why `name` cannot be a drop-in file name, or undefined. */
export function dropinNameProblem(name: string): string | undefined {
  const quoted = JSON.stringify(name);
  if (name.includes("/")) return `drop-in name must not contain "/" (got ${quoted})`;
  if (!name.endsWith(".conf") || name === ".conf") return `drop-in name must end in ".conf" (got ${quoted})`;
  if (/[\x00-\x1f\x7f]/.test(name)) return `drop-in name must not contain control characters (got ${quoted})`;
  if (Buffer.byteLength(name) > FILE_NAME_MAX) return `drop-in name is ${Buffer.byteLength(name)} bytes long; a file name is at most ${FILE_NAME_MAX}`;
  return undefined;
}

