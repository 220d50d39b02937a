/** Sending planned requests to the stack, and judging each answer against the contract. */
import type { Pool } from "undici";
import type { Expected, GraphLeadPlan, HttpCall, PlannedRequest, SendContext } from "./fuzz-plan.ts";

/** A request as sent, what the contract allowed, and what came back. */
export interface SentRequest {
  request: PlannedRequest;
  status: number | undefined;
  expected: Expected;
  /** The event ids an accepted events request names in its answer. */
  acceptedEvents?: string[];
}

export interface Answer {
  call: HttpCall;
  status: number | undefined;
  expected: Expected;
  /** Why the answer breaks the contract, grouped by cause; undefined when it does not. */
  failure?: { group: string; detail: string };
  body: string;
}

/** Sends one planned request and judges its answer against the contract. */
export async function sendOne(pool: Pool, request: PlannedRequest, anchors: readonly string[]): Promise<Answer> {
  const context: SendContext = { now: Date.now(), anchors };
  const call = request.call(context);
  const expected = typeof request.expected === "function" ? request.expected(context) : request.expected;
  const allowed = [...expected.accepted, ...expected.refused];
  const family = request.what
    .replace(/^same person from [^:]+: /, "same person: ")
    .split(/[,(]/)[0]
    ?.trim();
  const target = `${call.method} ${call.path.slice(0, 80)}`;
  try {
    const answer = await pool.request({
      method: call.method as "GET",
      path: call.path,
      headers: call.headers.flat(),
      ...(call.body === undefined ? {} : { body: call.body }),
    });
    // Decoded as sent: `text()` would drop a leading byte order mark.
    const body = Buffer.from(await answer.body.arrayBuffer()).toString("utf8");
    const status = answer.statusCode;
    if (!allowed.includes(status)) {
      const group = `${request.route} (${family}) answered ${status}, expected ${allowed.join(" or ")}`;
      return { call, status, expected, body, failure: { group, detail: `${target} → ${status} ${bodyExcerpt(body)}` } };
    }
    const problem = expected.accepted.includes(status) ? request.checkBody?.(body) : undefined;
    if (problem) {
      return {
        call,
        status,
        expected,
        body,
        failure: { group: `${request.route}: wrong answer body`, detail: problem },
      };
    }
    return { call, status, expected, body };
  } catch (error) {
    const detail = `${target}: ${(error as Error).message}`;
    return { call, status: undefined, expected, body: "", failure: { group: `${request.route}: no answer`, detail } };
  }
}

export async function registerGraphLeads(metaGraph: string, leads: GraphLeadPlan[]): Promise<void> {
  for (let start = 0; start < leads.length; start += 500) {
    const chunk = leads.slice(start, start + 500).map(({ leadgenId, fieldData }) => [
      leadgenId,
      {
        id: leadgenId,
        created_time: "2026-11-24T08:49:14+0000",
        form_id: "1234567890123456",
        field_data: fieldData.map(([name, value]) => ({ name, values: [value] })),
      },
    ]);
    const response = await fetch(`${metaGraph}/leads`, {
      method: "POST",
      body: JSON.stringify(Object.fromEntries(chunk)),
    });
    if (!response.ok) throw new Error(`The Meta Graph stand-in answered ${response.status}`);
  }
}

/** The same order for the same seed (mulberry32 behind a Fisher-Yates shuffle). */
export function shuffled<T>(items: T[], seed: number): T[] {
  let state = seed | 0;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const result = [...items];
  for (let index = result.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [result[index], result[other]] = [result[other] as T, result[index] as T];
  }
  return result;
}

export async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index] as T, index);
      }
    }),
  );
  return results;
}

/** What a failure message says of an answer's body: its error code, or its first characters. */
function bodyExcerpt(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: string; message?: string } };
    if (parsed.error?.code) return `${parsed.error.code}: ${parsed.error.message ?? ""}`.slice(0, 160);
  } catch {}
  return JSON.stringify(body.slice(0, 120));
}
