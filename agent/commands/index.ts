// The command table: each command's module is loaded only when it runs, so
// start-up pays for the one command in use.

export type CommandRunner = (argv: string[]) => Promise<number>;

export const COMMANDS: Record<string, () => Promise<{ run: CommandRunner }>> = {
  validate: () => import("./validate"),
  translate: () => import("./translate"),
  cmdline: () => import("./cmdline"),
  "fetch-offline": () => import("./fetch"),
  fetch: () => import("./fetch"),
  disks: () => import("./stage"),
  mount: () => import("./stage"),
  files: () => import("./stage"),
  umount: () => import("./stage"),
  kargs: () => import("./stage"),
  apply: () => import("./apply"),
  plan: () => import("./plan"),
  "randomize-guid": () => import("./randomize-guid"),
  quench: () => import("./quench"),
  sshkeys: () => import("./sshkeys"),
  checkin: () => import("./checkin"),
  report: () => import("./report"),
  agent: () => import("./agent"),
};
