/**
 * Property-based fuzzing of every route over the local stack (fast-check): signed and forged
 * deliveries from forms, Meta and Google Ads with adversarial bodies and headers, replays,
 * lookups, events, the handshake. After the run, nothing answered 5xx or outside the contract,
 * the stack is still up, every accepted lead with a valid email or phone is stored exactly once
 * (one lead per person, one source per delivery), nothing else is stored, and every accepted
 * event is applied. `LEADFLOW_FUZZ_RUNS` sets the number of generated cases (each one request or
 * a few), `LEADFLOW_FUZZ_SEED` replays a run (`random` draws a new one); `npm run bench -- fuzz`
 * runs 10,000 with a new seed each time. `npm test` uses a fixed seed, so CI gives the same answer
 * twice: exploring new seeds is the benchmark's and a developer's job, not a gate's.
 */
import { describe, expect, inject, it } from "vitest";
import { describeFailures, runFuzz } from "../helpers/fuzz-run.ts";
import { testSecrets } from "../helpers/secrets.ts";

const runs = Number(process.env.LEADFLOW_FUZZ_RUNS ?? 800);
/** The seed `npm test` runs: the one that found the last oracle gap (a deep top-level list). */
const fixedSeed = 2107119035;
const seedSetting = process.env.LEADFLOW_FUZZ_SEED;
const seed = seedSetting === "random" ? Math.floor(Math.random() * 2 ** 31) : Number(seedSetting ?? fixedSeed);

describe(`fuzzing every route (${runs} generated cases, seed ${seed})`, () => {
  it("answers within the contract, stays up, stores each accepted lead exactly once and nothing else", async () => {
    const stack = inject("stack");
    console.log(`fuzz: seed ${seed} (replay with LEADFLOW_FUZZ_SEED=${seed} LEADFLOW_FUZZ_RUNS=${runs})`);
    const report = await runFuzz(
      {
        url: stack.url,
        metaGraph: stack.metaGraph,
        dynamodbEndpoint: stack.dynamodbEndpoint,
        sqsEndpoint: stack.sqsEndpoint,
        tableName: stack.tableName,
        queues: stack.queues,
      },
      {
        runs,
        seed,
        concurrency: 8,
        secrets: testSecrets,
        drainStallMs: 60_000,
        shrink: { groups: 8, timeLimitMs: 10_000 },
        log: console.log,
      },
    );
    const { failures: _failures, ...figures } = report;
    console.log("fuzz:", JSON.stringify(figures));
    if (report.failures.length > 0) throw new Error(describeFailures(report));
    expect(report.serverErrors).toBe(0);
    expect(report.leadsStoredRight).toBe(report.leadsExpected);
    expect(report.leadsCreated).toBe(report.leadsExpected);
  }, 600_000);
});
