import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { formDelivery } from "../helpers/platforms.ts";
import { testSecrets } from "../helpers/secrets.ts";
import { stackClient } from "../helpers/stack-client.ts";
import { waitFor } from "../helpers/wait.ts";

const client = stackClient();

/** `npm run sequences -- <args>` from a user's shell, against the suite's stack. */
async function sequencesTool(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ["packages/local/src/sequences-tool.ts", ...args],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, LEADFLOW_URL: client.url }, timeout: 60_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("npm run sequences", () => {
  it("previews each sending step of a sequence for a lead, read from the running stack", async () => {
    // Prepare
    const email = `preview-${Date.now()}@acme-rockets.com`;
    const phone = "+12125550199";
    const delivery = formDelivery(
      { email, phone, first_name: "Grace", company: "Acme Rockets" },
      { secret: testSecrets.FORM_SIGNING_SECRET },
    );
    expect((await client.send(delivery)).status).toBe(202);
    await waitFor(async () => (await client.leadsByEmail(email)).length === 1, 30_000, "the lead");
    const id = (await client.leadsByEmail(email))[0]?.id as string;

    // Act
    const preview = await sequencesTool(["preview", "cold-reactivation", "--lead", id]);

    // Assess
    expect(preview.code).toBe(0);
    expect(preview.stdout).toContain(`Sequence cold-reactivation (version 3, digest `);
    expect(preview.stdout).toContain(`for lead ${id}`);
    expect(preview.stdout).toContain("Subject: Still looking at Acme Rockets?");
    expect(preview.stdout).toContain("── step-4 · SMS");
    expect(preview.stdout).toContain("Hi Grace, a quick question from Acme");
    expect(preview.stdout).toContain("Subject: 15 minutes this week?");
    expect(preview.stdout).toMatch(/HTML: yes/);
    expect(preview.stdout).toContain("/unsubscribe/<token>");
    // The lead is named by its id, its address and number never printed by the tool itself.
    expect(preview.stdout.split("\n").slice(0, 2).join("\n")).not.toContain(email);
    expect(preview.stdout).not.toContain(phone);
  });

  it("simulates the next days without sending or writing, as a table with totals", async () => {
    const before = await (await client.get("/_local/messages")).json();

    const simulation = await sequencesTool(["simulate", "cold-reactivation", "--days", "30"]);

    expect(simulation.code).toBe(0);
    expect(simulation.stdout).toMatch(/simulated from \S+ to \S+/);
    expect(simulation.stdout).toMatch(/when \(UTC\)\s+lead\s+lead's local time\s+zone\s+step\s+channel\s+what/);
    expect(simulation.stdout).toMatch(/Leads: \d+ enrolled, \d+ to be enrolled/);
    expect(simulation.stdout).toMatch(/Sent: \d+ \(email \d+, SMS \d+\)/);
    expect(simulation.stdout).not.toMatch(/@/);
    expect(await (await client.get("/_local/messages")).json()).toEqual(before);
  });

  it("says clearly what it does not know, on stderr, with exit code 1", async () => {
    const noSequence = await sequencesTool(["simulate", "no-such-sequence"]);
    expect(noSequence.code).toBe(1);
    expect(noSequence.stderr).toMatch(/No sequence "no-such-sequence" in the config .*; sequences: cold-reactivation/);

    const noLead = await sequencesTool(["preview", "cold-reactivation", "--lead", "no-such-lead"]);
    expect(noLead.code).toBe(1);
    expect(noLead.stderr).toContain('No lead "no-such-lead"');

    const usage = await sequencesTool(["render"]);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain("npm run sequences -- simulate <sequence id> [--days 30]");
  });
});
