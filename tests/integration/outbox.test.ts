import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openOutbox, startSms } from "@leadflow/local";
import { afterAll, describe, expect, it } from "vitest";

const dataDir = mkdtempSync(join(tmpdir(), "leadflow-outbox-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const item = (id: string, channel: "email" | "sms", to: string) => ({
  id,
  channel,
  to,
  from: "+18005550100",
  subject: null,
  text: "hello",
  html: null,
  headers: {},
  purpose: "test",
  providerMessageId: `p-${id}`,
});

describe("the local outbox", () => {
  it("keeps what was sent in DIR across restarts (--data), oldest first", () => {
    const first = openOutbox(dataDir);
    first.record(item("a", "sms", "+14155550101"));
    first.record(item("b", "email", "ana@example.com"));
    const reopened = openOutbox(dataDir);
    expect(reopened.list().map((entry) => entry.id)).toEqual(["a", "b"]);
    reopened.record(item("c", "sms", "+14155550102"));
    expect(
      openOutbox(dataDir)
        .list({ channel: "sms" })
        .map((entry) => entry.id),
    ).toEqual(["a", "c"]);
    expect(
      openOutbox(dataDir)
        .list({ to: "ana@example.com" })
        .map((entry) => entry.id),
    ).toEqual(["b"]);
    expect(
      openOutbox(dataDir)
        .list({ offset: 1 })
        .map((entry) => entry.id),
    ).toEqual(["b", "c"]);
    expect(openOutbox(dataDir).size).toBe(3);
    expect(openOutbox().list()).toEqual([]);
  });

  it("has an SMS emulator that answers SendTextMessage only", async () => {
    const sms = await startSms(openOutbox());
    try {
      const response = await fetch(sms.endpoint, {
        method: "POST",
        headers: {
          "x-amz-target": "PinpointSMSVoiceV2.SendVoiceMessage",
          "content-type": "application/x-amz-json-1.0",
        },
        body: "{}",
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ __type: "UnknownOperationException" });
    } finally {
      await sms.stop();
    }
  });
});
