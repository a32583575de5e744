// One flint command line, run to its exit status: global options, then
// dispatch to one command (the table in commands/index.ts), and a failure
// logged (and boxed on the console inside the initramfs). main.ts runs one
// per process; the boot agent (commands/agent.ts) runs one per stage, each
// in the request's own scope (scope.ts).

import { COMMANDS } from "./commands/index";
import { describeError, EXIT_FAILED, EXIT_USAGE, FlintError, UsageError } from "./errors";
import { writeFailureSummary } from "./console/failure-summary";
import { configureLog, isLogLevel, log, logLevelEnabled, writeLogLine, writeNow } from "./log";
import { inScope, type Scope } from "./scope";
import { VERSION } from "./version";

const USAGE = `Usage: flint COMMAND [OPTIONS]

  validate [--json] [--experimental] [--strict] [--files-dir DIR] FILE|-...
                                  check configs (Ignition JSON or Butane YAML);
                                  exit 0 valid, 1 invalid, 2 unreadable
  translate [--experimental] [--strict] [--files-dir DIR] FILE|-
                                  print the config in the newest 3.x spec; a
                                  Butane config as the Ignition config Butane makes
  cmdline [--cmdline-file F]      print the parsed boot parameters as JSON
  fetch-offline|fetch [--platform ID] [--cmdline-file F] [--cache PATH]
  disks|mount|files|umount|kargs --root DIR [--cache PATH]
                                  (kargs also [--oem-device DEV] [--cmdline-file F])
  apply --config FILE|- --root DIR [--stages LIST] [--files-dir DIR]
        [--oem-device DEV] [--cmdline-file F]
  plan --config FILE|- --root DIR [--files-dir DIR] [--cmdline-file F]
                                  print what apply would do; change nothing
  randomize-guid [--guid G] [--cmdline-file F] [--device DEV]...
  quench [--esp DIR | --esp-device DEV | --esp-label L] [--cmdline-file F]
                                  delete flatcar/first_boot and coreos/first_boot
  sshkeys --user NAME [--platform ID] [--root DIR]
  checkin [--failed] [--platform ID] [--cmdline-file F]
                                  tell the cloud how the first boot ended; after
                                  success delete the config from VMware/VirtualBox
  report [--root DIR] [--json]    show the last run's result
  agent [--dir DIR]               serve the boot stages' commands in one process
                                  (initramfs; the stage units are its clients)

Global options: --log-level error|warn|info|debug, --log-format text|json,
                --help, --version
`;

/** Removes the global options from argv and applies them. */
function takeGlobalOptions(argv: string[]): { rest: string[]; help: boolean; version: boolean } {
  const rest: string[] = [];
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.startsWith("--") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    if (name === "--help" || name === "-h") help = true;
    else if (name === "--version") version = true;
    else if (name === "--log-level" || name === "--log-format") {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      if (name === "--log-level") {
        if (!isLogLevel(value)) throw new UsageError(`--log-level must be error, warn, info or debug (got ${JSON.stringify(value)})`);
        configureLog({ level: value });
      } else {
        if (value !== "text" && value !== "json") throw new UsageError(`--log-format must be text or json (got ${JSON.stringify(value)})`);
        configureLog({ format: value });
      }
    } else rest.push(arg);
  }
  return { rest, help, version };
}

async function main(argv: string[], running: { command?: string }): Promise<number> {
  const { rest, help, version } = takeGlobalOptions(argv);
  if (version) {
    writeNow(1, `flint ${VERSION}\n`);
    return 0;
  }
  const [command, ...commandArgs] = rest;
  if (help || command === undefined || command === "help") {
    writeNow(1, USAGE);
    return command === undefined && !help ? EXIT_USAGE : 0;
  }
  const load = COMMANDS[command];
  if (!load) throw new UsageError(`unknown command ${JSON.stringify(command)}; see flint --help`);
  running.command = command;
  // Set by dist/flint.js (agent/loader.ts); absent when run from source.
  const codeCache = (globalThis as { flintCodeCache?: string }).flintCodeCache;
  if (codeCache) log.debug(`V8 code cache: ${codeCache}`);
  const module = await load();
  // Commands that share a module (fetch/fetch-offline, the stages) get their name first.
  return module.run([command, ...commandArgs]);
}

/** Logs a failure; inside the initramfs also boxes it on the console, with a machine dump at debug level. */
async function reportFailure(command: string, err: unknown): Promise<void> {
  log.error(describeError(err));
  if (!(err instanceof FlintError) && err instanceof Error && err.stack) log.debug(err.stack);
  const dump: string[] = [];
  if (logLevelEnabled("debug")) await (await import("./console/machine-dump")).dumpMachine((line) => dump.push(line));
  writeFailureSummary(command, err, dump);
}

/**
 * Runs one command line and returns its exit status: 0, 1 when the work
 * failed (after logging it), 2 on a usage error. With a scope (the agent's
 * request), everything the command does logs, scrubs and cancels through it.
 */
export function runFlint(argv: string[], scope?: Scope): Promise<number> {
  return scope ? inScope(scope, () => runInCurrentScope(argv)) : runInCurrentScope(argv);
}

async function runInCurrentScope(argv: string[]): Promise<number> {
  // The command being run, once the global options are out of the way: the failure box names it.
  const running: { command?: string } = {};
  try {
    return await main(argv, running);
  } catch (err) {
    if (err instanceof UsageError) {
      writeLogLine(`flint: ${err.message}`);
      return EXIT_USAGE;
    }
    await reportFailure(running.command ?? "flint", err);
    return EXIT_FAILED;
  }
}
