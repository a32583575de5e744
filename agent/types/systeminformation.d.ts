// The machine dump loads only the parts of systeminformation it uses (a
// third of the package); their types are the package's own.

declare module "systeminformation/lib/system" {
  export { baseboard, bios, system } from "systeminformation";
}
declare module "systeminformation/lib/filesystem" {
  export { blockDevices } from "systeminformation";
}
declare module "systeminformation/lib/network" {
  export { networkInterfaces } from "systeminformation";
}
