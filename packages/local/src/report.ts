/**
 * `npm run report -- speed-to-lead [--from ISO] [--to ISO]`: the speed-to-lead report of the
 * running `npm start` (or LEADFLOW_URL) as tables, per rep and per team (default: the last 7 days).
 */
import { parseArgs } from "node:util";
import type { SpeedToLeadRow } from "@leadflow/core";
import { developmentSecrets } from "@leadflow/manifest";
import { localStackUrl } from "./tool-environment.ts";

type Row = SpeedToLeadRow;

const reports = ["speed-to-lead"];
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { from: { type: "string" }, to: { type: "string" } },
});
const [name] = positionals;
if (!name || !reports.includes(name)) {
  console.error(`Usage: npm run report -- <report> [--from ISO] [--to ISO]\n\nReports: ${reports.join(", ")}`);
  process.exit(1);
}

const query = new URLSearchParams(Object.entries(values).filter((entry): entry is [string, string] => !!entry[1]));
const url = `${localStackUrl()}/reports/${name}${query.size > 0 ? `?${query}` : ""}`;
const response = await fetch(url, {
  headers: { "x-api-key": process.env.ADMIN_API_KEY || developmentSecrets.ADMIN_API_KEY },
}).catch(() => {
  console.error(`No leadflow at ${localStackUrl()}: start it with \`npm start\` (or set LEADFLOW_URL).`);
  process.exit(1);
});
const body = (await response.json()) as { from: string; to: string; reps: Row[]; teams: Row[] };
if (!response.ok) {
  console.error(`The report failed (${response.status}): ${JSON.stringify(body)}`);
  process.exit(1);
}

console.log(`Speed-to-lead from ${body.from} to ${body.to}\n`);
console.log(table(body.reps, ["team", "rep"]));
console.log(table(body.teams, ["team"]));

function table(rows: Row[], keys: ("team" | "rep")[]): string {
  const columns = [
    ...keys,
    "alerts",
    "accepted",
    "declined",
    "timedOut",
    "escalated",
    "p50AcceptSeconds",
    "p90AcceptSeconds",
  ];
  const cells = rows.map((row) => columns.map((column) => String(row[column as keyof Row] ?? "–")));
  const widths = columns.map((column, index) =>
    Math.max(column.length, ...cells.map((line) => (line[index] as string).length)),
  );
  const line = (parts: string[]) => parts.map((part, index) => part.padEnd(widths[index] as number)).join("  ");
  if (rows.length === 0) return `${line(columns)}\n(no alerts in this period)\n`;
  return `${[line(columns), ...cells.map(line)].join("\n")}\n`;
}
