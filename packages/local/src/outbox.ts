import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { clock } from "@leadflow/core";

export type OutboxChannel = "email" | "sms";

/** One email or SMS an emulator accepted, as `GET /_local/messages` lists it. */
export interface OutboxItem {
  /** leadflow's message id (the `leadflow-message-id` tag or context), else the provider's id. */
  id: string;
  channel: OutboxChannel;
  to: string;
  from: string;
  subject: string | null;
  text: string | null;
  html: string | null;
  headers: Record<string, string>;
  /** When the emulator accepted it (ISO 8601, milliseconds). */
  at: string;
  purpose: string | null;
  providerMessageId: string;
}

export interface OutboxFilter {
  channel?: string | undefined;
  to?: string | undefined;
  /** Skips the first `offset` messages recorded (before the other filters apply). */
  offset?: number | undefined;
}

/**
 * Every email and SMS the local SES and SMS emulators accepted, oldest first, from either process
 * (handlers reach the emulators over HTTP). Kept in `<dataDir>/outbox.jsonl` with `--data`, in
 * memory otherwise. `outage` makes an emulator refuse sends (throttling), to show retries.
 */
export function openOutbox(dataDir?: string) {
  const file = dataDir ? join(dataDir, "outbox.jsonl") : undefined;
  const items: OutboxItem[] = file && existsSync(file) ? readItems(file) : [];
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const outage: Record<OutboxChannel, boolean> = { email: false, sms: false };

  return {
    outage,
    record(item: Omit<OutboxItem, "at">): OutboxItem {
      const recorded = { ...item, at: clock.nowIso() };
      items.push(recorded);
      if (file) appendFileSync(file, `${JSON.stringify(recorded)}\n`);
      return recorded;
    },
    list({ channel, to, offset = 0 }: OutboxFilter = {}): OutboxItem[] {
      return items.slice(offset).filter((item) => (!channel || item.channel === channel) && (!to || item.to === to));
    },
    /** How many messages were recorded: the `offset` from which only newer ones are listed. */
    get size(): number {
      return items.length;
    },
  };
}

export type Outbox = ReturnType<typeof openOutbox>;

function readItems(file: string): OutboxItem[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as OutboxItem];
      } catch {
        return []; // a line cut short by a crash
      }
    });
}
