// Azure's WireServer at 168.63.129.16, as the Azure agents (waagent,
// cloud-init, afterburn) talk to it:
// - `GET /?comp=versions`: the protocol versions (no headers needed);
// - `GET /machine/?comp=goalstate` (also `/machine?comp=goalstate`): needs
//   `x-ms-version` of a supported version and `x-ms-agent-name`, else 400;
//   the goal state XML with the incarnation, the container and the role
//   instance;
// - `POST /machine/?comp=health`: the same headers, `Content-Type: text/xml`,
//   a <Health> document whose GoalStateIncarnation, ContainerId and
//   InstanceId match the goal state, with State Ready, or NotReady with
//   Details/SubStatus and Details/Description; anything else 400.
// Each accepted report is logged on stderr (what serve-cloud's callers read)
// as `168.63.129.16 HEALTH <State> [<SubStatus>: <Description>]`, and kept
// in `reports`.

import type { IncomingMessage, ServerResponse } from "node:http";
import { notFound, parse, send, type Listener } from "./service";

export const WIRESERVER = "168.63.129.16";
export const SUPPORTED_VERSIONS = ["2015-04-05", "2012-11-30", "2012-09-15", "2012-05-15"];

export interface WireServerIds {
  incarnation: string;
  containerId: string;
  instanceId: string;
}

export const LAB_IDS: WireServerIds = {
  incarnation: "1",
  containerId: "c6d5e4f3-1b2a-4c3d-9e8f-7a6b5c4d3e2f",
  instanceId: "02aab8a4-74ef-476e-8182-f6d2ba4166a6._flint-lab",
};

export interface HealthReport {
  state: string;
  subStatus?: string;
  description?: string;
}

function versionsXml(): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<Versions>
  <Preferred>
    <Version>${SUPPORTED_VERSIONS[0]}</Version>
  </Preferred>
  <Supported>
${SUPPORTED_VERSIONS.map((v) => `    <Version>${v}</Version>`).join("\n")}
  </Supported>
</Versions>
`;
}

function goalStateXml(ids: WireServerIds): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<GoalState xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="goalstate10.xsd">
  <Version>2012-11-30</Version>
  <Incarnation>${ids.incarnation}</Incarnation>
  <Machine>
    <ExpectedState>Started</ExpectedState>
    <StopRolesDeadlineHint>300000</StopRolesDeadlineHint>
    <LBProbePorts>
      <Port>16001</Port>
    </LBProbePorts>
    <ExpectHealthReport>FALSE</ExpectHealthReport>
  </Machine>
  <Container>
    <ContainerId>${ids.containerId}</ContainerId>
    <RoleInstanceList>
      <RoleInstance>
        <InstanceId>${ids.instanceId}</InstanceId>
        <State>Started</State>
        <Configuration>
          <HostingEnvironmentConfig>http://${WIRESERVER}:80/machine/${ids.containerId}/${ids.instanceId}?comp=config&amp;type=hostingEnvironmentConfig&amp;incarnation=${ids.incarnation}</HostingEnvironmentConfig>
          <SharedConfig>http://${WIRESERVER}:80/machine/${ids.containerId}/${ids.instanceId}?comp=config&amp;type=sharedConfig&amp;incarnation=${ids.incarnation}</SharedConfig>
          <ConfigName>${ids.instanceId}.1.${ids.instanceId}.1.xml</ConfigName>
        </Configuration>
      </RoleInstance>
    </RoleInstanceList>
  </Container>
</GoalState>
`;
}

/** The text of the one element `path` names (a/b/c), or undefined; a second match of the first step is a shape error. */
function at(xml: string, path: string[]): string | undefined {
  let scope = xml;
  for (const name of path) {
    const all = [...scope.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, "g"))];
    if (all.length !== 1) return undefined;
    scope = all[0]![1]!;
  }
  return scope.trim();
}

const unescape = (text: string) => text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");

/** Why a health report is refused, or the report. */
export function checkHealth(body: string, ids: WireServerIds): HealthReport | string {
  const root = /^<\?xml[^>]*\?>\s*<Health\b[^>]*>([\s\S]*)<\/Health>\s*$/.exec(body);
  if (!root) return "the body is not a <Health> document";
  const health = root[1]!;
  if (at(health, ["GoalStateIncarnation"]) !== ids.incarnation) return "GoalStateIncarnation does not match the goal state";
  if (at(health, ["Container", "ContainerId"]) !== ids.containerId) return "ContainerId does not match the goal state";
  const role = at(health, ["Container", "RoleInstanceList", "Role"]);
  if (!role) return "no single Container/RoleInstanceList/Role";
  if (at(role, ["InstanceId"]) !== ids.instanceId) return "InstanceId does not match the goal state";
  const state = at(role, ["Health", "State"]);
  if (state === "Ready") return at(role, ["Health", "Details"]) === undefined ? { state } : "a Ready report has no Details";
  if (state !== "NotReady") return `State ${JSON.stringify(state)} is neither Ready nor NotReady`;
  const subStatus = at(role, ["Health", "Details", "SubStatus"]);
  const description = at(role, ["Health", "Details", "Description"]);
  if (!subStatus || description === undefined) return "a NotReady report needs Details/SubStatus and Details/Description";
  return { state, subStatus: unescape(subStatus), description: unescape(description) };
}

function agentHeadersProblem(req: IncomingMessage): string | undefined {
  const version = req.headers["x-ms-version"];
  if (typeof version !== "string" || !SUPPORTED_VERSIONS.includes(version)) return "x-ms-version is missing or not a supported version";
  if (!req.headers["x-ms-agent-name"]) return "x-ms-agent-name is missing";
  return undefined;
}

const bad = (res: ServerResponse, why: string) => send(res, 400, `<?xml version="1.0" encoding="utf-8"?><Error><Code>BadRequest</Code><Message>${why}</Message></Error>`, { "Content-Type": "application/xml" });

export function wireServer(ids: WireServerIds, reports: HealthReport[] = []): Listener {
  return {
    address: WIRESERVER,
    port: 80,
    handler: (req, res) => {
      const { path, query } = parse(req);
      const comp = query.get("comp");
      if (path === "/" && comp === "versions" && req.method === "GET") return send(res, 200, versionsXml(), { "Content-Type": "text/xml; charset=utf-8" });
      if (path !== "/machine/" && path !== "/machine") return notFound(res);
      const problem = agentHeadersProblem(req);
      if (comp === "goalstate" && req.method === "GET") {
        if (problem) return bad(res, problem);
        return send(res, 200, goalStateXml(ids), { "Content-Type": "text/xml; charset=utf-8", "x-ms-latest-goal-state-incarnation-number": ids.incarnation });
      }
      if (comp === "health" && req.method === "POST") {
        let body = "";
        req.setEncoding("utf8");
        req.on("data", (chunk: string) => (body += chunk));
        req.on("end", () => {
          if (problem) return bad(res, problem);
          if (!/^text\/xml\b/.test(String(req.headers["content-type"] ?? ""))) return bad(res, "Content-Type must be text/xml");
          const report = checkHealth(body, ids);
          if (typeof report === "string") return bad(res, report);
          reports.push(report);
          process.stderr.write(`${WIRESERVER} HEALTH ${report.state}${report.subStatus ? ` ${report.subStatus}: ${report.description}` : ""}\n`);
          send(res, 200, "");
        });
        return;
      }
      notFound(res);
    },
  };
}
