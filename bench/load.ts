import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import type { Webhook } from "standardwebhooks";
import type { Dispatcher, Pool } from "undici";

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface LoadResult extends Percentiles {
  seconds: number;
  ratePerSecond: number;
  failures: number;
  /** Each answer's JSON body, in request order, when `readBodies` was asked for. */
  bodies: unknown[];
}

export function percentiles(samples: Float64Array): Percentiles {
  const sorted = samples.slice().sort();
  const at = (fraction: number) => sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] as number;
  return { p50: at(0.5), p99: at(0.99), max: at(1) };
}

/**
 * Sends `requests` over `concurrency` workers sharing `pool`'s keep-alive connections, timing each
 * answer; any status but `expected` counts as a failure. Bodies are only parsed when asked for,
 * so the client spends as little CPU as it can beside the server it measures.
 */
export async function load(
  pool: Pool,
  requests: Dispatcher.RequestOptions[],
  options: { expected: number; concurrency: number; readBodies?: boolean },
): Promise<LoadResult> {
  const latencies = new Float64Array(requests.length);
  const bodies: unknown[] = options.readBodies ? new Array(requests.length) : [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < requests.length) {
        const index = next++;
        const sent = performance.now();
        const response = await pool.request(requests[index] as Dispatcher.RequestOptions);
        if (options.readBodies) bodies[index] = await response.body.json().catch(() => undefined);
        else await response.body.dump();
        latencies[index] = performance.now() - sent;
        if (response.statusCode !== options.expected) failures++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { seconds, ratePerSecond: requests.length / seconds, failures, bodies, ...percentiles(latencies) };
}

/** Peak resident memory (VmHWM) of a process and all its descendants, from /proc (Linux). */
export function peakMemoryMB(pid: number, { withChildren = true } = {}): number {
  const ids = withChildren ? [pid, ...descendantsOf(pid)] : [pid];
  const kilobytes = ids.map((id) =>
    Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${id}/status`, "utf8"))?.[1] ?? 0),
  );
  return kilobytes.reduce((sum, value) => sum + value, 0) / 1024;
}

/** CPU time (user + system) used so far by a process and all its descendants, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  const ticksPerSecond = 100; // USER_HZ on Linux
  return [pid, ...descendantsOf(pid)]
    .map((id) => readFileSync(`/proc/${id}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [])
    .reduce((sum, fields) => sum + (Number(fields[11]) + Number(fields[12])) / ticksPerSecond, 0);
}

export function descendantsOf(pid: number): number[] {
  const direct = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  return direct.flatMap((child) => [child, ...descendantsOf(child)]);
}

/** The Standard Webhooks headers of a signed JSON delivery, as a form platform sends them. */
export function signedJsonHeaders(webhook: Webhook, id: string, body: string): Record<string, string> {
  const now = new Date();
  return {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
    "webhook-signature": webhook.sign(id, now, body),
  };
}
