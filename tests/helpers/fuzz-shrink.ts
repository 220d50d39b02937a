/**
 * Turns a failing generated case into a small one: fast-check replays the case (same seed, its
 * index as the path) and shrinks it while the stack keeps answering it the same wrong way.
 */
import fc from "fast-check";
import type { Pool } from "undici";
import { caseSpec, planCase } from "./fuzz-cases.ts";
import type { HttpCall, PlannedRequest } from "./fuzz-plan.ts";
import type { FuzzFailure } from "./fuzz-run.ts";
import { type Answer, registerGraphLeads, sendOne } from "./fuzz-send.ts";
import type { FuzzSecrets } from "./fuzz-webhooks.ts";

export interface ShrinkContext {
  pool: Pool;
  seed: number;
  run: string;
  /** Indexes from here on are free: the run used the ones below. */
  firstFreeIndex: number;
  anchors: readonly string[];
  secrets: FuzzSecrets;
  metaGraph: string;
}

export interface MinimalExample {
  group: string;
  /** The smallest request fast-check found that still fails the same way. */
  example: string;
  shrinks: number;
}

/** One minimal example for each of the `groups` most frequent kinds of wrong answer. */
export async function shrinkFailures(
  failures: readonly FuzzFailure[],
  context: ShrinkContext,
  options: { groups: number; timeLimitMs: number },
): Promise<MinimalExample[]> {
  const firstOfGroup = new Map<string, { failure: FuzzFailure; count: number }>();
  for (const failure of failures) {
    if (failure.caseIndex === undefined) continue;
    const entry = firstOfGroup.get(failure.group);
    firstOfGroup.set(failure.group, { failure: entry?.failure ?? failure, count: (entry?.count ?? 0) + 1 });
  }
  const chosen = [...firstOfGroup.values()].sort((a, b) => b.count - a.count).slice(0, options.groups);
  let nextIndex = context.firstFreeIndex;
  const examples: MinimalExample[] = [];
  for (const { failure } of chosen) {
    let smallest: string | undefined;
    const property = fc.asyncProperty(caseSpec, async (spec) => {
      const planned = planCase(spec, context.run, nextIndex++, context.secrets);
      await registerGraphLeads(context.metaGraph, planned.graphLeads ?? []);
      for (const request of planned.requests) {
        const answer = await sendOne(context.pool, request, context.anchors);
        if (answer.failure?.group === failure.group) {
          smallest = describeRequest(request, answer);
          return false;
        }
      }
      return true;
    });
    const result = await fc.check(property, {
      seed: context.seed,
      path: String(failure.caseIndex),
      numRuns: 1,
      interruptAfterTimeLimit: options.timeLimitMs,
    });
    if (smallest) examples.push({ group: failure.group, example: smallest, shrinks: result.numShrinks });
  }
  return examples;
}

function describeRequest(request: PlannedRequest, answer: Answer): string {
  return `${request.what}\n      ${describeCall(answer.call)}\n      → ${answer.failure?.detail ?? answer.status}`;
}

/** The request as sent, signatures left out; invisible and astral characters escaped. */
export function describeCall(call: HttpCall): string {
  const headers = call.headers
    .filter(([name]) => !/signature|api-key/i.test(name))
    .map(([name, value]) => `${name}: ${value.length > 60 ? `${value.slice(0, 60)}…` : value}`);
  const body =
    call.body === undefined ? "" : ` body (${Buffer.byteLength(call.body)} bytes): ${escaped(call.body, 400)}`;
  return `${call.method} ${call.path.slice(0, 120)} [${headers.join("; ")}]${body}`;
}

function escaped(text: string, max: number): string {
  const shown = text.length > max ? `${text.slice(0, max)}…` : text;
  return shown
    .replace(/(.)\1{7,}/gsu, (run, character: string) => `${character}«×${[...run].length}»`)
    .replace(/[^\x20-\x7e«»×…]/gu, (character) => `\\u{${character.codePointAt(0)?.toString(16)}}`);
}
