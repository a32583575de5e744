// Azure's check-in, as afterburn and the Azure agents do it: Azure waits for
// the VM to say it is provisioned, and without that the deployment ends in
// OSProvisioningTimedOut although the VM runs. Against the WireServer
// (168.63.129.16, the fixed address Azure documents; afterburn first looks
// for DHCP option 245, which Flint's DHCP set-up does not ask for):
//   1. `GET /?comp=versions`: the protocol version Flint speaks
//      (2012-11-30) must be among the supported ones;
//   2. `GET /machine/?comp=goalstate`: the incarnation, the container id and
//      the first role instance's id;
//   3. `POST /machine/?comp=health`: a Health report naming them, with
//      State Ready, or NotReady with SubStatus ProvisioningFailed and the
//      failure's one-line reason as the Description, which the portal shows.
// Every request carries `x-ms-agent-name` and `x-ms-version`.

import { FlintError } from "../errors";
import { log } from "../log";
import type { CheckInOutcome, MetadataRequest, PlatformContext } from "./types";
import { escapeXml, unescapeXml } from "./xml";

export const WIRESERVER = "http://168.63.129.16";
export const WIRE_PROTOCOL_VERSION = "2012-11-30";
const AGENT_NAME = "flint";
/** A check-in gives up after this long (the shared retries inside it). */
export const CHECKIN_TOTAL_MS = 60_000;
/** The Description Azure shows is short; a longer reason is cut. */
const REASON_MAX = 512;

function request(extra: MetadataRequest = {}): MetadataRequest {
  return { notFound: "error", totalMs: CHECKIN_TOTAL_MS, ...extra, headers: { "x-ms-agent-name": AGENT_NAME, "x-ms-version": WIRE_PROTOCOL_VERSION, ...extra.headers } };
}

export interface GoalState {
  incarnation: string;
  containerId: string;
  instanceId: string;
}

/** The first element named `name` (any namespace prefix) inside `xml`, its text unescaped. */
function element(xml: string, name: string): string | undefined {
  const match = new RegExp(`<(?:\\w+:)?${name}>([\\s\\S]*?)</(?:\\w+:)?${name}>`).exec(xml);
  return match ? unescapeXml(match[1]!.trim()) : undefined;
}

export function parseGoalState(xml: string): GoalState {
  const incarnation = element(xml, "Incarnation");
  const container = element(xml, "Container");
  const containerId = container && element(container, "ContainerId");
  const role = container && element(container, "RoleInstance");
  const instanceId = role && element(role, "InstanceId");
  if (!incarnation || !containerId || !instanceId) throw new FlintError("the goal state lacks its Incarnation, ContainerId or RoleInstance/InstanceId", "Azure WireServer goal state");
  return { incarnation, containerId, instanceId };
}

export function healthReport(goal: GoalState, outcome: CheckInOutcome): string {
  const state = outcome.ok
    ? "<State>Ready</State>"
    : `<State>NotReady</State>
          <Details>
            <SubStatus>ProvisioningFailed</SubStatus>
            <Description>${escapeXml(oneLine(outcome.reason))}</Description>
          </Details>`;
  return `<?xml version="1.0" encoding="utf-8"?>
<Health xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <GoalStateIncarnation>${escapeXml(goal.incarnation)}</GoalStateIncarnation>
  <Container>
    <ContainerId>${escapeXml(goal.containerId)}</ContainerId>
    <RoleInstanceList>
      <Role>
        <InstanceId>${escapeXml(goal.instanceId)}</InstanceId>
        <Health>
          ${state}
        </Health>
      </Role>
    </RoleInstanceList>
  </Container>
</Health>
`;
}

function oneLine(reason: string): string {
  const line = reason.replace(/\s+/g, " ").trim();
  return line.length > REASON_MAX ? `${line.slice(0, REASON_MAX - 1)}…` : line;
}

export async function reportHealth(ctx: PlatformContext, outcome: CheckInOutcome): Promise<void> {
  const versions = (await ctx.fetchUrl(`${WIRESERVER}/?comp=versions`, request()))!.toString("utf8");
  const supported = element(versions, "Supported") ?? "";
  if (!new RegExp(`<Version>${WIRE_PROTOCOL_VERSION}</Version>`).test(supported)) {
    throw new FlintError(`the WireServer does not support protocol version ${WIRE_PROTOCOL_VERSION}`, "Azure WireServer");
  }
  const goal = parseGoalState((await ctx.fetchUrl(`${WIRESERVER}/machine/?comp=goalstate`, request()))!.toString("utf8"));
  log.info(`reporting ${outcome.ok ? "Ready" : "NotReady"} to the Azure WireServer`, { container: goal.containerId, instance: goal.instanceId, incarnation: goal.incarnation });
  await ctx.fetchUrl(`${WIRESERVER}/machine/?comp=health`, request({ method: "POST", headers: { "Content-Type": "text/xml; charset=utf-8" }, body: healthReport(goal, outcome) }));
}
