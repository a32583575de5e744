// Placeholder: the boot issue fills this with a dump of the machine (block
// devices, partition tables, network, DMI) for a serial-console-only debug.

export async function dumpMachine(write: (line: string) => void): Promise<void> {
  write("(machine dump not implemented yet)");
}
