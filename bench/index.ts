/** `npm run bench -- <name>`: runs one benchmark; results go to docs/benchmarks.md. */
const benchmarks: Record<string, () => Promise<unknown>> = {
  alerts: () => import("./alerts.ts"),
  capture: () => import("./capture.ts"),
  scoring: () => import("./scoring.ts"),
  fuzz: () => import("./fuzz.ts"),
  nurture: () => import("./nurture.ts"),
};

const name = process.argv[2];
const run = name ? benchmarks[name] : undefined;
if (!run) {
  console.error(`Usage: npm run bench -- <${Object.keys(benchmarks).join("|")}>`);
  process.exit(2);
}
await run();
