/**
 * Fuzz benchmark: the property-based fuzz test of tests/e2e/fuzz.test.ts at full size. Starts the
 * local stack in this process (`startLocalStack`, `fast`), sends 10,000 generated cases (each one
 * request or a few: retries, one person through several sources) over every route, then checks
 * the same properties as the test. Writes the figures to docs/benchmarks.md and exits with 1 if
 * a property failed. `LEADFLOW_FUZZ_RUNS` and `LEADFLOW_FUZZ_SEED` as in the test.
 */
import { cpus, totalmem } from "node:os";
import { performance } from "node:perf_hooks";
import { startLocalStack } from "@leadflow/local";
import { describeFailures, type FuzzReport, runFuzz } from "../tests/helpers/fuzz-run.ts";
import { testSecrets } from "../tests/helpers/secrets.ts";
import { writeBlock } from "./report.ts";

const runs = Number(process.env.LEADFLOW_FUZZ_RUNS ?? 10_000);
const seed = Number(process.env.LEADFLOW_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);

function fuzzTable(report: FuzzReport, totalSeconds: number): string {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`;
  const statuses = [...new Set(Object.values(report.byRoute).flatMap((counts) => Object.keys(counts)))].sort();
  const verdict = (ok: boolean) => (ok ? "held" : "**failed**");
  const groups = new Map<string, number>();
  for (const failure of report.failures) groups.set(failure.group, (groups.get(failure.group) ?? 0) + 1);
  const command = `LEADFLOW_FUZZ_SEED=${seed} npm run bench -- fuzz`;
  return [
    `Run: ${new Date().toISOString().slice(0, 10)} · \`${command}\` · ${machine}`,
    "",
    `${report.runs} generated cases (seed ${report.seed}) → ${report.requests} requests at concurrency ${concurrency}; sent in ${report.sendSeconds.toFixed(1)} s (${(report.requests / report.sendSeconds).toFixed(0)}/s), queues settled ${report.settleSeconds.toFixed(1)} s later; ${totalSeconds.toFixed(0)} s in all, shrinking included.`,
    "",
    `| route | ${statuses.join(" | ")} |`,
    `| --- | ${statuses.map(() => "---").join(" | ")} |`,
    ...Object.entries(report.byRoute).map(
      ([route, counts]) => `| \`${route}\` | ${statuses.map((status) => counts[status] ?? 0).join(" | ")} |`,
    ),
    "",
    "| property | figure | |",
    "| --- | --- | --- |",
    `| no 5xx (or no answer) | ${report.serverErrors} | ${verdict(report.serverErrors === 0)} |`,
    `| every answer within the contract | ${report.failures.filter((failure) => failure.kind === "answer").length} outside it | ${verdict(!report.failures.some((failure) => failure.kind === "answer"))} |`,
    `| the stack stays up, its queues empty | ${report.failures.filter((failure) => failure.kind === "stack").length} problem(s) | ${verdict(!report.failures.some((failure) => failure.kind === "stack"))} |`,
    `| accepted leads stored exactly once, with all their sources | ${report.leadsStoredRight} of ${report.leadsExpected} | ${verdict(report.leadsStoredRight === report.leadsExpected)} |`,
    `| nothing else stored (leads created) | ${report.leadsCreated} for ${report.leadsExpected} expected | ${verdict(report.leadsCreated === report.leadsExpected)} |`,
    `| accepted events applied | ${report.eventsApplied} of ${report.eventsAccepted} | ${verdict(report.eventsApplied === report.eventsAccepted)} |`,
    `| dead-lettered (capture / events) | ${report.deadLettered.capture} / ${report.deadLettered.events} | Meta leads whose Graph fields hold no valid email or phone go there by design |`,
    "",
    ...(groups.size === 0
      ? ["No failure."]
      : [
          `Failures by kind (${report.failures.length} in all; the test prints an example of each and a shrunk one):`,
          "",
          "| kind | count |",
          "| --- | --- |",
          ...[...groups]
            .sort((a, b) => b[1] - a[1])
            .map(([group, count]) => `| ${group.replaceAll("|", "\\|")} | ${count} |`),
        ]),
  ].join("\n");
}

console.log(`fuzz benchmark: ${runs} generated cases, seed ${seed}, concurrency ${concurrency}`);
const started = performance.now();
const stack = await startLocalStack({
  port: 0,
  fast: true,
  environment: { ...testSecrets, POWERTOOLS_LOG_LEVEL: "SILENT" },
});
let report: FuzzReport;
try {
  if (!stack.metaGraphStandIn)
    throw new Error("The fuzz benchmark needs the Meta Graph stand-in: unset META_GRAPH_URL");
  report = await runFuzz(
    {
      url: stack.url,
      metaGraph: stack.metaGraphStandIn,
      dynamodbEndpoint: stack.endpoints.dynamodb,
      sqsEndpoint: stack.endpoints.sqs,
      tableName: stack.tableName,
      queues: stack.queues,
    },
    {
      runs,
      seed,
      concurrency,
      secrets: testSecrets,
      drainStallMs: 120_000,
      shrink: { groups: 10, timeLimitMs: 10_000 },
      log: console.log,
    },
  );
} finally {
  await stack.stop();
}
writeBlock("fuzz", "Fuzz (`npm run bench -- fuzz`)", fuzzTable(report, (performance.now() - started) / 1000));
if (report.failures.length > 0) {
  console.log(`\n${describeFailures(report)}`);
  process.exitCode = 1;
}
