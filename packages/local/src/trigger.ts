/** `npm run trigger -- <schedule>`: runs one of the stack's schedules now on the running `npm start`. */
import { schedules } from "@leadflow/manifest";
import { localStackUrl } from "./tool-environment.ts";

const name = process.argv[2];
const names = Object.keys(schedules);
if (!name || !names.includes(name)) {
  console.error(`Usage: npm run trigger -- <schedule>\n\nSchedules: ${names.join(", ")}`);
  process.exit(1);
}

const url = `${localStackUrl()}/_local/schedules/${name}`;
const response = await fetch(url, { method: "POST" }).catch(() => {
  console.error(`No leadflow at ${localStackUrl()}: start it with \`npm start\` (or set LEADFLOW_URL).`);
  process.exit(1);
});
const body = (await response.json()) as { result?: unknown; durationMs?: number };
if (!response.ok) {
  console.error(`${name} failed (${response.status}):`, JSON.stringify(body));
  process.exit(1);
}
console.log(`${name} ran in ${body.durationMs} ms: ${JSON.stringify(body.result)}`);
