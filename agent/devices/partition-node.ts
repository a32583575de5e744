// The device node of a disk's partition, by the kernel's naming rule.

/** `/dev/sda` → `/dev/sda1`; `/dev/loop0`, `/dev/nvme0n1` → `…p1`. */
export function partitionNode(disk: string, number: number): string {
  return /\d$/.test(disk) ? `${disk}p${number}` : `${disk}${number}`;
}
