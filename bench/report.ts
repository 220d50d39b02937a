import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import type { LoadResult } from "./load.ts";

const file = "docs/benchmarks.md";

interface CaptureResults {
  date: string;
  machine: string;
  command: string;
  total: number;
  warmup: number;
  concurrency: number;
  floor: LoadResult & { memoryMB: number };
  stack: LoadResult & {
    memoryMB: number;
    storedSeconds: number;
    ingestedDuringLoad: number;
    stored: number;
    duplicates: number;
  };
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

function captureTable({ date, machine, command, total, warmup, concurrency, floor, stack }: CaptureResults): string {
  const rateShare = stack.ratePerSecond / floor.ratePerSecond;
  const p99Ratio = stack.p99 / floor.p99;
  const verdict = (ok: boolean) => (ok ? "met" : "**missed**");
  return [
    `Run: ${date} · \`${command}\` · ${machine}`,
    "",
    `${total} signed \`form\` leads at concurrency ${concurrency} (after ${warmup} unmeasured ones to warm each target up), client in the benchmark process.`,
    "",
    "| | floor (bare node:http + HMAC + SQS send) | leadflow `npm start` |",
    "| --- | --- | --- |",
    `| acknowledged per second | ${floor.ratePerSecond.toFixed(0)} | ${stack.ratePerSecond.toFixed(0)} |`,
    `| latency p50 | ${ms(floor.p50)} | ${ms(stack.p50)} |`,
    `| latency p99 | ${ms(floor.p99)} | ${ms(stack.p99)} |`,
    `| latency max | ${ms(floor.max)} | ${ms(stack.max)} |`,
    `| non-2xx answers | ${floor.failures} | ${stack.failures} |`,
    `| stored while the load ran (${stack.seconds.toFixed(1)} s) | — | ${stack.ingestedDuringLoad} (${(stack.ingestedDuringLoad / stack.seconds).toFixed(0)}/s) |`,
    `| all stored after (from the first request) | — | ${stack.storedSeconds.toFixed(1)} s (${(total / stack.storedSeconds).toFixed(0)}/s overall) |`,
    `| leads stored / duplicates | — | ${stack.stored} / ${stack.duplicates} |`,
    `| peak memory (RSS, all processes) | ${floor.memoryMB.toFixed(0)} MB | ${stack.memoryMB.toFixed(0)} MB |`,
    "",
    "| target | result | |",
    "| --- | --- | --- |",
    `| rate ≥ 70 % of the floor's | ${(rateShare * 100).toFixed(0)} % | ${verdict(rateShare >= 0.7)} |`,
    `| p99 ≤ 1.5 × the floor's | ${p99Ratio.toFixed(2)} × | ${verdict(p99Ratio <= 1.5)} |`,
    `| all ${total} stored | ${stack.stored} | ${verdict(stack.stored === total)} |`,
    `| 0 duplicates | ${stack.duplicates} | ${verdict(stack.duplicates === 0)} |`,
  ].join("\n");
}

/** Replaces the generated block of one benchmark in docs/benchmarks.md, keeping the prose around it. */
export async function writeResults(name: "capture", results: CaptureResults): Promise<void> {
  writeBlock(name, "Capture", captureTable(results));
}

/** Writes `table` between the `<!-- name:results:start/end -->` markers, or appends a section with them. */
export function writeBlock(name: string, heading: string, table: string): void {
  const start = `<!-- ${name}:results:start -->`;
  const end = `<!-- ${name}:results:end -->`;
  const block = `${start}\n${table}\n${end}`;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    text = "# Benchmarks\n";
  }
  const pattern = new RegExp(`${start}[\\s\\S]*?${end}`);
  text = pattern.test(text) ? text.replace(pattern, () => block) : `${text.trimEnd()}\n\n## ${heading}\n\n${block}\n`;
  writeFileSync(file, text);
  // The doc is linted with the code; aligning its tables here keeps `npm test` green after a run.
  execFileSync("node_modules/.bin/biome", ["format", "--write", file], { stdio: "ignore" });
  console.log(`\n${table}\n\nwritten to ${file}`);
}
