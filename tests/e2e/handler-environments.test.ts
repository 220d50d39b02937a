import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import {
  type HandlerEnvironmentReport,
  type LocalStack,
  localWorkflowArn,
  sqsClient,
  startLocalStack,
} from "@leadflow/local";
import { consumers, routes, schedules, workflows } from "@leadflow/manifest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formDelivery } from "../helpers/platforms.ts";
import { testSecrets } from "../helpers/secrets.ts";
import { waitFor } from "../helpers/wait.ts";

/**
 * Each handler of `npm start` sees only the environment its manifest entry gives it, as on
 * Lambda: a stack of its own runs every route, consumer and schedule once, then reports, per
 * handler, what it read of `process.env` that its entry does not list. Such a read is undefined
 * to the handler; any that is not one of the runtime's or a library's own probes fails the test:
 * list the setting in the manifest entry (then the stack sets it on AWS too).
 */

/**
 * Names Lambda's runtime or SST sets, or libraries probe, the same with or without the manifest:
 * never the application's settings. The namespaces of AWS (Lambda's variables, the SDK's
 * options), X-Ray, Powertools, Node and SST; the home directory the SDK looks for ~/.aws in; TZ
 * (set by Lambda, read by Powertools); yaml's debug switches; Node's `--watch` report.
 */
const runtimePrefixes = /^(AWS_|_X_AMZN_|POWERTOOLS_|NODE_|SST_)/;
const libraryProbes = new Set([
  "HOME",
  "HOMEDRIVE",
  "HOMEPATH",
  "USERPROFILE",
  "TZ",
  "LOG_TOKENS",
  "LOG_STREAM",
  "WATCH_REPORT_DEPENDENCIES",
]);
const isRuntimeProbe = (name: string) => runtimePrefixes.test(name) || libraryProbes.has(name);

let stack: LocalStack;
const admin = { "x-api-key": testSecrets.ADMIN_API_KEY };
/** The shipped config, but for a source that alerts on arrival and reps who always work. */
const configDir = mkdtempSync(join(tmpdir(), "leadflow-environments-"));

beforeAll(async () => {
  cpSync("config", configDir, { recursive: true });
  appendFileSync(join(configDir, "sources.yaml"), "  hot-form:\n    type: form\n    alertOnArrival: true\n");
  writeFileSync(
    join(configDir, "routing.yaml"),
    readFileSync("config/routing.yaml", "utf8").replace(/hours: \{ mon-fri: "09:00-17:00" \}/, "hours: always"),
  );
  // A sequence that takes a lead as soon as it is cold, and may write at any hour.
  writeFileSync(
    join(configDir, "sequences", "at-once.yaml"),
    [
      "id: at-once",
      'window: { days: daily, from: "00:00", to: "24:00" }',
      'from: { email: "Acme <hello@acme.example>", sms: "+14155550000" }',
      "steps:",
      '  - email: { subject: "Hello", template: reactivate-1.liquid }',
      "",
    ].join("\n"),
  );
  stack = await startLocalStack({
    port: 0,
    fast: true,
    configDir,
    environment: { ...testSecrets, POWERTOOLS_LOG_LEVEL: "ERROR" },
  });
});

afterAll(async () => {
  await stack?.stop();
  rmSync(configDir, { recursive: true, force: true });
});

/** Speed-to-lead end to end: alert, reminder, time-out, the next rep, whose page is read and who accepts. */
async function escalate(get: (path: string, headers?: Record<string, string>) => Promise<Response>) {
  const email = `escalated-${Date.now()}@acme-rockets.com`;
  const delivery = formDelivery(
    { email, first_name: "Escalated" },
    { secret: testSecrets.FORM_SIGNING_SECRET, source: "hot-form" },
  );
  expect(
    (await fetch(`${stack.url}${delivery.path}`, { method: "POST", headers: delivery.headers, body: delivery.body }))
      .status,
  ).toBe(202);
  let links: string[] = [];
  await waitFor(
    async () => {
      const { items } = (await (await get("/_local/messages", {})).json()) as { items: { text: string }[] };
      const about = items.filter((item) => item.text.includes("Escalated"));
      links = [...new Set(about.map((item) => /https?:\/\/\S+\/alerts\/[\w-]+/.exec(item.text)?.[0] ?? ""))];
      return links.length >= 2;
    },
    30_000,
    "the second rep's alert",
  );
  const second = links[1] as string;
  expect((await fetch(second)).status).toBe(200);
  const accepted = await fetch(second, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "action=accept",
  });
  expect(accepted.status).toBe(200);
  expect((await get("/reports/speed-to-lead")).status).toBe(200);
  // A held alert's shift start: a resumed execution holding until now (its alert long gone).
  const sfn = new SFNClient({
    endpoint: stack.endpoints.stepFunctions,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const resume = {
    done: false,
    token: "gone",
    tier: 1,
    firstWaitSeconds: 1,
    secondWaitSeconds: 0,
    holdUntil: new Date().toISOString(),
  };
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: localWorkflowArn("speed-to-lead"),
      name: `environment-${Date.now()}`,
      input: JSON.stringify({ leadId: "none", escalationId: "none", resume }),
    }),
  );
  await waitFor(
    async () => (await sfn.send(new DescribeExecutionCommand({ executionArn }))).status !== "RUNNING",
    30_000,
    "the held execution",
  );
}

/** Every manifest entry, invoked once the way its users do. */
async function invokeEveryHandler(): Promise<void> {
  const get = (path: string, headers: Record<string, string> = admin) => fetch(`${stack.url}${path}`, { headers });
  expect((await get("/health")).status).toBe(200);
  const token = testSecrets.META_VERIFY_TOKEN;
  const handshake = await get(`/webhooks/meta?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=42`, {});
  expect(await handshake.text()).toBe("42");

  const email = `environment-${Date.now()}@acme-rockets.com`;
  const delivery = formDelivery({ email, jobTitle: "VP of Sales" }, { secret: testSecrets.FORM_SIGNING_SECRET });
  const capture = await fetch(`${stack.url}${delivery.path}`, {
    method: "POST",
    headers: delivery.headers,
    body: delivery.body,
  });
  expect(capture.status).toBe(202);
  let leadId = "";
  await waitFor(
    async () => {
      const found = (await (await get(`/leads?email=${encodeURIComponent(email)}`)).json()) as {
        items: { id: string }[];
      };
      leadId = found.items[0]?.id ?? "";
      return leadId !== "";
    },
    30_000,
    "the ingest consumer to store the lead",
  );
  const posted = await fetch(`${stack.url}/leads/${leadId}/events`, {
    method: "POST",
    headers: { ...admin, "content-type": "application/json" },
    body: JSON.stringify({ id: "demo-1", type: "demo_request", at: new Date().toISOString() }),
  });
  expect(posted.status).toBe(202);
  const sqs = sqsClient(stack.endpoints.sqs);
  const sms = { id: `environment-${Date.now()}`, purpose: "test", channel: "sms", to: "+14155550101" };
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: stack.queues.outbound.url,
      MessageBody: JSON.stringify({ ...sms, from: "+14155550000", text: "Every handler runs" }),
    }),
  );
  await waitFor(
    async () => {
      const { items } = (await (await get("/_local/messages", {})).json()) as { items: { id: string }[] };
      return items.some((item) => item.id === sms.id);
    },
    30_000,
    "the send consumer to send the SMS",
  );
  await waitFor(
    async () => {
      const lead = (await (await get(`/leads/${leadId}`)).json()) as { history: { type: string }[] };
      return lead.history.some((entry) => entry.type === "lead.event");
    },
    30_000,
    "the score consumer to apply the event",
  );
  await escalate(get);
  await nurture(get);
}

/** A cold lead enrolled and written to, its unsubscribe link used, an SES event and an inbound SMS. */
async function nurture(get: (path: string, headers?: Record<string, string>) => Promise<Response>) {
  const email = `nurtured-${Date.now()}@example.com`;
  const delivery = formDelivery({ email, first_name: "Nurtured" }, { secret: testSecrets.FORM_SIGNING_SECRET });
  const capture = await fetch(`${stack.url}${delivery.path}`, {
    method: "POST",
    headers: delivery.headers,
    body: delivery.body,
  });
  expect(capture.status).toBe(202);
  await waitFor(
    async () =>
      ((await (await get(`/leads?email=${encodeURIComponent(email)}`)).json()) as { items: unknown[] }).items.length >
      0,
    30_000,
    "the cold lead to be stored",
  );
  // Enrolment reads the cold index a few minutes behind now: let the lead be that old.
  const moved = await fetch(`${stack.url}/_local/clock`, {
    method: "POST",
    body: JSON.stringify({ advance: "PT10M" }),
  });
  expect(moved.status).toBe(200);
  let unsubscribe = "";
  await waitFor(
    async () => {
      for (const name of Object.keys(schedules)) await stack.schedules.run(name);
      const { items } = (await (await get("/_local/messages", {})).json()) as {
        items: { to: string; headers?: Record<string, string> }[];
      };
      const sent = items.find((item) => item.to === email);
      unsubscribe = /<(http[^>]+)>/.exec(sent?.headers?.["List-Unsubscribe"] ?? "")?.[1] ?? "";
      return unsubscribe !== "";
    },
    30_000,
    "the nurture email",
  );
  expect((await fetch(unsubscribe)).status).toBe(200);
  expect((await fetch(unsubscribe, { method: "POST", body: "List-Unsubscribe=One-Click" })).status).toBe(200);
  const open = {
    eventType: "Open",
    mail: { timestamp: new Date().toISOString(), messageId: `ses-${Date.now()}`, destination: [email], tags: {} },
    open: { timestamp: new Date().toISOString(), userAgent: "Mozilla/5.0", ipAddress: "192.0.2.1" },
  };
  const events = await fetch(`${stack.url}/_local/ses-events`, { method: "POST", body: JSON.stringify(open) });
  expect(events.status).toBe(202);
  const stop = {
    originationNumber: "+14155550123",
    destinationNumber: "+14155550000",
    messageKeyword: "KEYWORD_123456789012",
    messageBody: "STOP",
    inboundMessageId: `inbound-${Date.now()}`,
  };
  const inbound = await fetch(`${stack.url}/webhooks/sms-inbound`, {
    method: "POST",
    headers: { "content-type": "text/plain; charset=UTF-8" },
    body: JSON.stringify({
      Type: "Notification",
      MessageId: `sns-${Date.now()}`,
      TopicArn: "arn:aws:sns:us-east-1:000000000000:leadflow-sms-inbound",
      Message: JSON.stringify(stop),
      Timestamp: new Date().toISOString(),
      SignatureVersion: "1",
      Signature: "unchecked-locally",
      SigningCertURL: "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
    }),
  });
  expect(inbound.status).toBe(200);
  await waitFor(async () => (await stack.pendingMessages()) === 0, 30_000, "the deliverability consumer");
}

describe("handler environments", () => {
  let report: Record<string, HandlerEnvironmentReport>;

  beforeAll(async () => {
    await invokeEveryHandler();
    report = await stack.handlerEnvironments();
  });

  const entries = [
    ...Object.keys(routes),
    ...Object.keys(consumers).map((name) => `consumer ${name}`),
    ...Object.keys(schedules).map((name) => `schedule ${name}`),
    ...Object.entries(workflows).flatMap(([name, workflow]) => [
      ...Object.keys(workflow.tasks).map((task) => `workflow ${name} ${task}`),
      ...(workflow.localResume ? [`workflow ${name} resume`] : []),
    ]),
  ];

  it.each(entries)("%s ran in its own environment and read no setting its manifest entry does not list", (entry) => {
    const handler = report[entry];
    expect(handler, `${entry} is not loaded by the local stack`).toBeDefined();
    expect(handler?.invocations, `add an invocation of ${entry} to invokeEveryHandler`).toBeGreaterThan(0);
    expect(handler?.unlisted.filter((name) => !isRuntimeProbe(name))).toEqual([]);
  });

  it("reports exactly the manifest's handlers", () => {
    expect(Object.keys(report).sort()).toEqual([...entries].sort());
  });
});
