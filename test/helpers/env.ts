// Restores process.env in place. Assigning a plain object to process.env
// (process.env = saved) replaces Node's environment object with one whose
// writes no longer reach the process (a later TZ change then does nothing),
// which made tests depend on the order they ran in.
export function restoreEnv(saved: NodeJS.ProcessEnv): void {
  for (const key of Object.keys(process.env)) {
    if (!(key in saved)) delete process.env[key];
  }
  for (const [key, value] of Object.entries(saved)) {
    if (value !== undefined) process.env[key] = value;
  }
}
