import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { LeadView } from "@leadflow/core";
import { type LocalStack, startLocalStack } from "@leadflow/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formDelivery } from "../helpers/platforms.ts";
import { testSecrets } from "../helpers/secrets.ts";
import { waitFor } from "../helpers/wait.ts";

/**
 * Speed-to-lead on the local stack in fast mode (5 min to accept plays out in 5 s): a stack of
 * its own, with a team whose reps always work, so the outcome does not depend on the hour.
 */

const routingYaml = `from: { email: "leadflow alerts <alerts@example.com>", sms: "+14155550000" }
sla: { accept: 5m, remind: 50%, tiers: 2 }
teams:
  sales:
    manager: { id: maria, name: Maria Diaz, email: maria@example.com, phone: "+14155550199" }
    reps:
      - { id: ana, name: Ana Ruiz, email: ana@example.com, phone: "+14155550101" }
      - { id: ben, name: Ben Okafor, email: ben@example.com, phone: "+14155550102" }
rules:
  - team: sales
`;
const sourcesYaml = `defaults: { phoneCountry: US }
sources:
  form: { type: form }
  hot-form: { type: form, alertOnArrival: true }
`;

interface Message {
  id: string;
  channel: "email" | "sms";
  to: string;
  subject?: string;
  text: string;
  at: string;
}

const admin = { "x-api-key": testSecrets.ADMIN_API_KEY };
let configDir = "";

function writeConfig(): string {
  const dir = mkdtempSync(join(tmpdir(), "leadflow-stl-"));
  writeFileSync(join(dir, "routing.yaml"), routingYaml);
  writeFileSync(join(dir, "sources.yaml"), sourcesYaml);
  return dir;
}

function startStack(dataDir?: string): Promise<LocalStack> {
  return startLocalStack({
    port: 0,
    fast: true,
    configDir,
    ...(dataDir ? { dataDir } : {}),
    environment: { ...testSecrets, POWERTOOLS_LOG_LEVEL: "ERROR" },
  });
}

let people = 0;

/** A person of their own (email and phone), whose messages name them in their text. */
function person(label: string) {
  const tag = `${label}${randomUUID().slice(0, 6)}`;
  const phone = `+1415555${String(2000 + (process.pid % 5000) + ++people).padStart(4, "0")}`;
  return { email: `${tag}@acme-rockets.com`, first_name: tag, phone };
}

function client(stack: LocalStack) {
  const messages = async (): Promise<Message[]> =>
    ((await (await fetch(`${stack.url}/_local/messages`)).json()) as { items: Message[] }).items;
  return {
    async capture(fields: Record<string, string>, source = "hot-form") {
      const delivery = formDelivery(fields, { secret: testSecrets.FORM_SIGNING_SECRET, source });
      const response = await fetch(`${stack.url}${delivery.path}`, {
        method: "POST",
        headers: delivery.headers,
        body: delivery.body,
      });
      expect(response.status).toBe(202);
    },
    /** The messages about one lead (named in their text), once `count` of them have arrived. */
    async messagesAbout(name: string, count: number, timeoutMs = 30_000): Promise<Message[]> {
      let found: Message[] = [];
      await waitFor(
        async () => {
          found = (await messages()).filter((message) => message.text.includes(name));
          return found.length >= count;
        },
        timeoutMs,
        `${count} message(s) about ${name}`,
      );
      return found;
    },
    async lead(email: string): Promise<LeadView> {
      let lead: LeadView | undefined;
      await waitFor(
        async () => {
          const answer = await fetch(`${stack.url}/leads?email=${encodeURIComponent(email)}`, { headers: admin });
          lead = ((await answer.json()) as { items: LeadView[] }).items[0];
          return lead !== undefined;
        },
        30_000,
        `the lead of ${email}`,
      );
      const answer = await fetch(`${stack.url}/leads/${lead?.id}`, { headers: admin });
      return (await answer.json()) as LeadView;
    },
    answer: (link: string, action: "accept" | "decline") =>
      fetch(link, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `action=${action}`,
      }),
    outage: (on: boolean) =>
      fetch(`${stack.url}/_local/messages/outage`, { method: "POST", body: JSON.stringify({ channel: "sms", on }) }),
  };
}

function linkIn(message: Message | undefined): string {
  const link = /https?:\/\/\S+\/alerts\/[\w-]+/.exec(message?.text ?? "")?.[0];
  if (!link) throw new Error("no alert link in the message");
  return link;
}

/** The lead's alert history, oldest first; entries of one moment (sent and escalated) in a fixed order. */
const historyTypes = (lead: LeadView) => {
  const order = [
    "alert.sent",
    "alert.escalated",
    "alert.reminded",
    "alert.timed-out",
    "alert.declined",
    "alert.accepted",
  ];
  return lead.history
    .filter((entry) => entry.type.startsWith("alert."))
    .sort((a, b) => a.at.localeCompare(b.at) || order.indexOf(a.type) - order.indexOf(b.type))
    .map((entry) => `${entry.type} ${String(entry.details.rep)}`);
};

describe("speed-to-lead, on the local stack in fast mode", () => {
  let stack: LocalStack;
  let api: ReturnType<typeof client>;

  beforeAll(async () => {
    configDir = writeConfig();
    stack = await startStack();
    api = client(stack);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  it("alerts a rep by email and SMS, with the link, when a lead turns hot", async () => {
    const who = person("hot");
    await api.capture({ ...who, job_title: "VP of Sales" }, "form");
    const lead = await api.lead(who.email);
    for (const id of ["demo-1", "pricing-1"]) {
      const event =
        id === "demo-1"
          ? { id, type: "demo_request", at: new Date().toISOString() }
          : { id, type: "page_view", at: new Date().toISOString(), properties: { url: "https://example.com/pricing" } };
      const response = await fetch(`${stack.url}/leads/${lead.id}/events`, {
        method: "POST",
        headers: { ...admin, "content-type": "application/json" },
        body: JSON.stringify(event),
      });
      expect(response.status).toBe(202);
    }
    const [first, second] = await api.messagesAbout(who.first_name, 2);
    expect(new Set([first?.channel, second?.channel])).toEqual(new Set(["email", "sms"]));
    expect(first?.to === "ana@example.com" || first?.to === "+14155550101" || first?.to === "ben@example.com").toBe(
      true,
    );
    expect(linkIn(first)).toBe(linkIn(second));
    expect((await fetch(linkIn(first))).status).toBe(200);
  });

  it("moves on to the next rep at the SLA (the first link is then gone), who accepts and owns the lead", async () => {
    const who = person("slow");
    await api.capture(who);
    // Alert and reminder to the first rep (email and SMS each), then the second rep's alert.
    const all = await api.messagesAbout(who.first_name, 6);
    const emails = all.filter((message) => message.channel === "email");
    const [firstAlert, reminder, secondAlert] = emails;
    expect(reminder?.subject).toMatch(/^Reminder: /);
    expect(secondAlert?.to).not.toBe(firstAlert?.to);
    expect((await api.answer(linkIn(firstAlert), "accept")).status).toBe(410);
    expect((await fetch(linkIn(firstAlert))).status).toBe(410);
    expect((await api.answer(linkIn(secondAlert), "accept")).status).toBe(200);

    const lead = await api.lead(who.email);
    const second = secondAlert?.to === "ana@example.com" ? "ana" : "ben";
    const first = second === "ana" ? "ben" : "ana";
    expect(lead).toMatchObject({ owner: second, ownerSince: expect.any(String) });
    expect(historyTypes(lead)).toEqual([
      `alert.sent ${first}`,
      `alert.reminded ${first}`,
      `alert.timed-out ${first}`,
      `alert.sent ${second}`,
      `alert.escalated ${second}`,
      `alert.accepted ${second}`,
    ]);
  });

  it("alerts the manager when every rep declines", async () => {
    const who = person("declined");
    await api.capture(who);
    const [first] = await api.messagesAbout(who.first_name, 1);
    const declined = await api.answer(linkIn(first), "decline");
    expect(declined.status, await declined.clone().text()).toBe(200);
    const afterFirst = await api.messagesAbout(who.first_name, 3);
    const second = afterFirst.find((message) => linkIn(message) !== linkIn(first));
    expect((await api.answer(linkIn(second), "decline")).status).toBe(200);
    const all = await api.messagesAbout(who.first_name, 5);
    const manager = all.find((message) => message.to === "maria@example.com");
    expect(manager?.subject).toMatch(/^Escalated: /);
    expect(historyTypes(await api.lead(who.email)).slice(-2)).toEqual(["alert.sent maria", "alert.escalated maria"]);
  });

  it("gives the lead to exactly one of 10 simultaneous accepts", async () => {
    const who = person("race");
    await api.capture(who);
    const [alert] = await api.messagesAbout(who.first_name, 1);
    const link = linkIn(alert);
    const answers = await Promise.all(Array.from({ length: 10 }, () => api.answer(link, "accept")));
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, ...Array(9).fill(410)]);
    const lead = await api.lead(who.email);
    expect(lead.owner).toMatch(/^(ana|ben)$/);
    expect(historyTypes(lead).filter((entry) => entry.startsWith("alert.accepted"))).toHaveLength(1);
  });

  it("retries an SMS that fails, and never holds the email back", async () => {
    const who = person("outage");
    await api.outage(true);
    try {
      await api.capture(who);
      const [first] = await api.messagesAbout(who.first_name, 1);
      expect(first?.channel).toBe("email");
      expect((await api.messagesAbout(who.first_name, 1)).every((message) => message.channel === "email")).toBe(true);
    } finally {
      await api.outage(false);
    }
    const sms = (await api.messagesAbout(who.first_name, 2)).find((message) => message.channel === "sms");
    expect(sms?.text).toContain("/alerts/");
  });

  it("answers a report of the alerts per rep and team", async () => {
    const response = await fetch(`${stack.url}/reports/speed-to-lead`, { headers: admin });
    expect(response.status).toBe(200);
    const report = (await response.json()) as { reps: { rep: string; alerts: number; accepted: number }[] };
    expect(report.reps.map((row) => row.rep)).toEqual(expect.arrayContaining(["ana", "ben"]));
    expect(report.reps.reduce((sum, row) => sum + row.accepted, 0)).toBeGreaterThanOrEqual(2);
    const printed = await promisify(execFile)(process.execPath, ["packages/local/src/report.ts", "speed-to-lead"], {
      env: { PATH: process.env.PATH, LEADFLOW_URL: stack.url, ADMIN_API_KEY: testSecrets.ADMIN_API_KEY },
    });
    expect(printed.stdout).toMatch(/team\s+rep\s+alerts\s+accepted/);
    expect(printed.stdout).toMatch(/sales\s+ana\s+\d+/);
    const bad = await fetch(`${stack.url}/reports/speed-to-lead?from=yesterday`, { headers: admin });
    expect(bad.status).toBe(422);
    expect((await fetch(`${stack.url}/reports/speed-to-lead`)).status).toBe(401);
  });
});

describe("speed-to-lead across a restart of npm start (--data)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "leadflow-stl-data-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("resumes an escalation under way: the next rep is alerted after the restart", async () => {
    configDir = writeConfig();
    mkdirSync(dataDir, { recursive: true });
    const who = person("restart");
    const first = await startStack(dataDir);
    try {
      await client(first).capture(who);
      await client(first).messagesAbout(who.first_name, 2);
    } finally {
      await first.stop();
    }
    const second = await startStack(dataDir);
    try {
      const all = await client(second).messagesAbout(who.first_name, 6, 60_000);
      const emailed = new Set(all.filter((message) => message.channel === "email").map((message) => message.to));
      expect(emailed.size).toBe(2);
      const secondRep = all.filter((message) => message.channel === "email").at(-1);
      expect((await client(second).answer(linkIn(secondRep), "accept")).status).toBe(200);
      expect((await client(second).lead(who.email)).owner).toMatch(/^(ana|ben)$/);
    } finally {
      await second.stop();
      rmSync(configDir, { recursive: true, force: true });
    }
  });
});
