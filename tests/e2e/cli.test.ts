import { type ChildProcess, execFile, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { formDelivery } from "../helpers/platforms.ts";
import { testSecrets } from "../helpers/secrets.ts";
import { waitFor } from "../helpers/wait.ts";

const dataDir = mkdtempSync(join(tmpdir(), "leadflow-data-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** `npm start` as a user runs it: the real entry point, in its own process. */
async function npmStart(args: string[], settings: Record<string, string> = {}) {
  // The suite's own stack exported its handler environment; this one serves its own Graph stand-in.
  const { META_GRAPH_URL: _suiteStandIn, ...environment } = process.env;
  const child = spawn(process.execPath, ["packages/local/src/main.ts", "--port", "0", ...args], {
    env: { ...environment, ...testSecrets, POWERTOOLS_LOG_LEVEL: "ERROR", ...settings },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  await waitFor(async () => output.includes("Press Ctrl-C to stop."), 30_000, "the banner of npm start");
  const url = /API\s+(http:\/\/\S+)/.exec(output)?.[1] as string;
  return { child, url, output: () => output };
}

function stopWithCtrlC(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.kill("SIGINT");
  });
}

async function postFormLead(url: string, email: string): Promise<number> {
  const delivery = formDelivery({ email }, { secret: testSecrets.FORM_SIGNING_SECRET });
  const response = await fetch(`${url}${delivery.path}`, {
    method: "POST",
    headers: delivery.headers,
    body: delivery.body,
  });
  return response.status;
}

async function leadsByEmail(url: string, email: string): Promise<unknown[]> {
  const response = await fetch(`${url}/leads?email=${encodeURIComponent(email)}`, {
    headers: { "x-api-key": testSecrets.ADMIN_API_KEY },
  });
  return ((await response.json()) as { items: unknown[] }).items;
}

interface ScoredLead {
  scoredWith: string;
  topRules: { rule: string; points: number }[];
  history: { type: string }[];
}

async function leadView(url: string, id: string): Promise<ScoredLead> {
  const response = await fetch(`${url}/leads/${id}`, { headers: { "x-api-key": testSecrets.ADMIN_API_KEY } });
  return (await response.json()) as ScoredLead;
}

/** Posts one event now and waits until the lead's history shows it. */
async function scoredEvent(url: string, leadId: string, id: string, type: string): Promise<void> {
  const response = await fetch(`${url}/leads/${leadId}/events`, {
    method: "POST",
    headers: { "x-api-key": testSecrets.ADMIN_API_KEY, "content-type": "application/json" },
    body: JSON.stringify({ id, type, at: new Date().toISOString() }),
  });
  expect(response.status).toBe(202);
  const events = (await leadView(url, leadId)).history.filter((entry) => entry.type === "lead.event").length;
  await waitFor(
    async () => (await leadView(url, leadId)).history.filter((entry) => entry.type === "lead.event").length > events,
    30_000,
    `event ${id} to be scored`,
  );
}

const demoPoints = (lead: ScoredLead) =>
  Math.round(lead.topRules.find(({ rule }) => rule === "demo-request")?.points ?? 0);

describe("npm start", () => {
  it("prints what it serves, answers /health, and keeps the table in --data DIR across a Ctrl-C restart", async () => {
    const email = `restart-${Date.now()}@example.com`;
    const first = await npmStart(["--data", dataDir]);
    expect(first.output()).toMatch(/POST \/webhooks\/\{source\}/);
    expect(first.output()).toContain(`kept in ${dataDir}`);
    expect((await fetch(`${first.url}/health`)).status).toBe(200);

    expect(await postFormLead(first.url, email)).toBe(202);
    await waitFor(async () => (await leadsByEmail(first.url, email)).length === 1, 30_000, "the lead to be stored");
    expect(await stopWithCtrlC(first.child)).toBe(0);
    expect(first.output()).toContain("stopped.");

    const second = await npmStart(["--data", dataDir]);
    try {
      expect(await leadsByEmail(second.url, email)).toEqual([expect.objectContaining({ email })]);
    } finally {
      await stopWithCtrlC(second.child);
    }
  });

  it("npm run demo shows the README's outcome: one lead from three sources, scored 72, hot and marketing-qualified", async () => {
    const stack = await npmStart([]);
    try {
      // Not spawnSync: the stack's output pipes must keep draining while the demo runs.
      const demo = await promisify(execFile)(process.execPath, ["packages/local/src/demo.ts", stack.url], {
        env: { ...process.env, ...testSecrets },
        timeout: 60_000,
      }).catch((error: { stdout: string; stderr: string }) => {
        throw new Error(`npm run demo failed:\n${error.stdout}${error.stderr}\nnpm start:\n${stack.output()}`);
      });
      const lead = JSON.parse(demo.stdout.slice(demo.stdout.indexOf("{\n"))) as Record<string, unknown>;
      expect(lead).toMatchObject({
        score: { total: 72 },
        temperature: "hot",
        stage: "marketing-qualified",
        sources: [expect.anything(), expect.anything(), expect.anything()],
      });
    } finally {
      await stopWithCtrlC(stack.child);
    }
  });

  it("stops promptly on Ctrl-C while a client keeps sending on keep-alive connections", async () => {
    const stack = await npmStart([]);
    let sending = true;
    const client = (async () => {
      let index = 0;
      while (sending) {
        await postFormLead(stack.url, `busy-${Date.now()}-${index++}@example.com`).catch(() => undefined);
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const asked = Date.now();
    expect(await stopWithCtrlC(stack.child)).toBe(0);
    sending = false;
    await client;
    expect(Date.now() - asked).toBeLessThan(10_000);
  });

  it("stops answering, loudly, if its queue worker dies: nothing is acknowledged that nobody would store", async () => {
    const stack = await npmStart([]);
    const pid = stack.child.pid as number;
    const [worker] = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).map(Number);
    const exited = new Promise<number | null>((resolve) => stack.child.once("exit", resolve));
    process.kill(worker as number, "SIGKILL");
    expect(await exited).toBe(1);
    expect(stack.output()).toContain("The queue worker stopped unexpectedly");
  });

  it("with --data, processes after a restart what it had acknowledged but not stored before Ctrl-C", async () => {
    const run = Date.now();
    const emails = Array.from({ length: 60 }, (_, index) => `queued-${run}-${index}@example.com`);
    const first = await npmStart(["--data", dataDir]);
    const statuses = await Promise.all(emails.map((email) => postFormLead(first.url, email)));
    expect(new Set(statuses)).toEqual(new Set([202]));
    expect(await stopWithCtrlC(first.child)).toBe(0);
    // The worker yields while requests arrive, so most of the 60 are still queued at Ctrl-C.
    expect(first.output()).toMatch(/[1-9]\d* queued messages are kept in /);

    const second = await npmStart(["--data", dataDir, "--fast"]);
    try {
      const stored = async () => (await Promise.all(emails.map((email) => leadsByEmail(second.url, email)))).flat();
      await waitFor(async () => (await stored()).length === emails.length, 60_000, "every acknowledged lead");
    } finally {
      await stopWithCtrlC(second.child);
    }
  });
});

describe("npm start with a config/ of its own", () => {
  let configDir = "";
  let stack: Awaited<ReturnType<typeof npmStart>>;
  let leadId = "";
  const scoringFile = () => join(configDir, "scoring.yaml");

  beforeEach(async () => {
    configDir = mkdtempSync(join(tmpdir(), "leadflow-config-"));
    cpSync("config", configDir, { recursive: true });
    stack = await npmStart([], { LEADFLOW_CONFIG_DIR: configDir });
    const email = `config-${Date.now()}@acme-rockets.com`;
    expect(await postFormLead(stack.url, email)).toBe(202);
    await waitFor(async () => (await leadsByEmail(stack.url, email)).length === 1, 30_000, "the lead");
    [{ id: leadId }] = (await leadsByEmail(stack.url, email)) as [{ id: string }];
    await scoredEvent(stack.url, leadId, "demo-1", "demo_request");
  });

  afterEach(async () => {
    await stopWithCtrlC(stack.child);
    rmSync(configDir, { recursive: true, force: true });
  });

  /** Saves scoring.yaml with demo requests worth 25 instead of 40, and waits for the stack to reload it. */
  async function makeDemosCheaper(): Promise<string> {
    const shipped = readFileSync(scoringFile(), "utf8");
    writeFileSync(
      scoringFile(),
      shipped.replace("event: demo_request\n      points: 40", "event: demo_request\n      points: 25"),
    );
    await waitFor(async () => stack.output().includes("config/ changed: now scoring with"), 10_000, "the reload");
    return shipped;
  }

  it("uses an edited scoring.yaml from the next event on, and keeps the previous config while an edit has mistakes", async () => {
    const before = await leadView(stack.url, leadId);
    expect(demoPoints(before)).toBe(40);

    const shipped = await makeDemosCheaper();
    await scoredEvent(stack.url, leadId, "open-1", "email_open");
    const after = await leadView(stack.url, leadId);
    expect(after.scoredWith).not.toBe(before.scoredWith);
    expect(stack.output()).toContain(`now scoring with ${after.scoredWith}`);
    expect(demoPoints(after)).toBe(25);

    writeFileSync(scoringFile(), `${shipped}\nthresholds: [`);
    await waitFor(async () => stack.output().includes("still using the previous config"), 10_000, "the refusal");
    expect(stack.output()).toMatch(/scoring\.yaml:\d+:\d+/);
    await scoredEvent(stack.url, leadId, "open-2", "email_open");
    expect((await leadView(stack.url, leadId)).scoredWith).toBe(after.scoredWith);
  });

  it("npm run rescore applies the config npm start uses to every lead, and npm run trigger runs a schedule", async () => {
    const tool = (script: string, args: string[]) =>
      promisify(execFile)(process.execPath, [`packages/local/src/${script}`, ...args], {
        // A user's shell: not the suite's environment, which points at the suite's own stack.
        env: { PATH: process.env.PATH, HOME: process.env.HOME, LEADFLOW_URL: stack.url },
      });
    const shipped = await makeDemosCheaper();
    // A later save with mistakes is kept from the rescore as it is from the stack.
    writeFileSync(scoringFile(), `${shipped}\nthresholds: [`);
    await waitFor(async () => stack.output().includes("still using the previous config"), 10_000, "the refusal");
    const rescore = await tool("rescore.ts", ["--checkpoint", join(configDir, "checkpoint.json")]);
    const [, reloaded] = /now scoring with (\w+);/.exec(stack.output()) ?? [];
    expect(rescore.stdout).toContain(`with config ${reloaded}`);
    expect(rescore.stdout).toMatch(/Done: \d+ lead\(s\) re-scored, 1 changed\./);
    const rescored = await leadView(stack.url, leadId);
    expect(demoPoints(rescored)).toBe(25);
    expect(rescored.history).toContainEqual(expect.objectContaining({ type: "lead.rescored" }));

    // The running stack scores with the same config: the next event keeps the rescore's result.
    await scoredEvent(stack.url, leadId, "open-1", "email_open");
    expect((await leadView(stack.url, leadId)).scoredWith).toBe(rescored.scoredWith);

    const trigger = await tool("trigger.ts", ["refresh-temperatures"]);
    expect(trigger.stdout).toMatch(/refresh-temperatures ran in \d+ ms: \{"checked":\d+,"changed":\d+\}/);
  });
});

describe("npm start -- --config DIR", () => {
  it("reads DIR, takes each file DIR lacks from config/, and takes a file added to DIR as an edit", async () => {
    const dir = mkdtempSync(join(tmpdir(), "leadflow-config-dir-"));
    const shipped = readFileSync("config/scoring.yaml", "utf8");
    writeFileSync(
      join(dir, "scoring.yaml"),
      shipped.replace("event: demo_request\n      points: 40", "event: demo_request\n      points: 25"),
    );
    const stack = await npmStart(["--config", dir]);
    try {
      expect(stack.output()).toContain(`Config      ${dir}, with config/ for each file or folder it lacks`);
      // DIR has no sources.yaml: config/'s declares the form source.
      const email = `config-dir-${Date.now()}@acme-rockets.com`;
      expect(await postFormLead(stack.url, email)).toBe(202);
      await waitFor(async () => (await leadsByEmail(stack.url, email)).length === 1, 30_000, "the lead");
      const [{ id }] = (await leadsByEmail(stack.url, email)) as [{ id: string }];
      await scoredEvent(stack.url, id, "demo-1", "demo_request");
      expect(demoPoints(await leadView(stack.url, id))).toBe(25);

      // A sources.yaml saved in DIR now wins over config/'s: one without the form source.
      writeFileSync(join(dir, "sources.yaml"), "sources:\n  meta:\n    type: meta\n");
      await waitFor(async () => stack.output().includes("config/ changed"), 10_000, "the reload");
      expect(await postFormLead(stack.url, `config-dir-2-${Date.now()}@acme-rockets.com`)).toBe(404);
    } finally {
      await stopWithCtrlC(stack.child);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
