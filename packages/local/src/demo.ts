/**
 * `npm run demo`: sends one signed lead from each source to a running `npm start`, then two
 * behaviour events (a pricing page view and a demo request), and reads the scored lead back
 * through the admin API. Uses the development secrets unless the environment
 * sets others.
 */
import { createHmac, randomUUID } from "node:crypto";
import { secretNames } from "@leadflow/manifest";
import { Webhook } from "standardwebhooks";
import { developmentSecrets, loadDotEnv } from "./development.ts";

loadDotEnv();

const base = (process.argv[2] ?? `http://localhost:${process.env.PORT ?? 3000}`).replace(/\/$/, "");
const secrets = Object.fromEntries(secretNames.map((name) => [name, process.env[name] || developmentSecrets[name]]));
const run = randomUUID().slice(0, 6);
const email = `ada-${run}@analytical-engines.example`;

async function post(path: string, headers: Record<string, string>, body: string) {
  const response = await fetch(`${base}${path}`, { method: "POST", headers, body });
  console.log(`POST ${path} -> ${response.status} ${await response.text()}`);
}

async function sendForm() {
  const body = JSON.stringify({
    email,
    first_name: "Ada",
    last_name: "Lovelace",
    company: "Analytical Engines",
    utm_source: "demo",
  });
  const id = `msg_${run}`;
  const signature = new Webhook(secrets.FORM_SIGNING_SECRET as string).sign(id, new Date(), body);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const headers = {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": signature,
  };
  await post("/webhooks/form", headers, body);
}

async function sendMeta() {
  const leadgenId = `${Date.now()}${Math.floor(Math.random() * 1000)}`;
  const fields = { email, phone_number: "+14155550132", job_title: "Analyst" };
  const graphLead = {
    id: leadgenId,
    field_data: Object.entries(fields).map(([name, value]) => ({ name, values: [value] })),
  };
  const standIn = await fetch(`${base}/_local/meta-graph/leads`, {
    method: "POST",
    body: JSON.stringify({ [leadgenId]: graphLead }),
  });
  if (!standIn.ok) console.log("(no local Meta Graph stand-in: META_GRAPH_URL points elsewhere)");
  const body = JSON.stringify({
    object: "page",
    entry: [
      {
        id: "153125381133",
        time: Math.floor(Date.now() / 1000),
        changes: [
          {
            field: "leadgen",
            value: {
              leadgen_id: leadgenId,
              form_id: "1234",
              page_id: "153125381133",
              created_time: Math.floor(Date.now() / 1000),
            },
          },
        ],
      },
    ],
  });
  const signature = `sha256=${createHmac("sha256", secrets.META_APP_SECRET as string)
    .update(body)
    .digest("hex")}`;
  await post("/webhooks/meta", { "content-type": "application/json", "x-hub-signature-256": signature }, body);
}

async function sendGoogleAds() {
  const body = JSON.stringify({
    lead_id: `TeSter-${run}`,
    user_column_data: [
      { column_id: "EMAIL", string_value: email },
      { column_id: "COMPANY_NAME", string_value: "Analytical Engines Ltd" },
    ],
    api_version: "1.0",
    form_id: 1234,
    campaign_id: 123456,
    google_key: secrets.GOOGLE_ADS_WEBHOOK_KEY,
    is_test: true,
  });
  await post("/webhooks/google-ads", { "content-type": "application/json" }, body);
}

await sendForm();
await sendMeta();
await sendGoogleAds();

const headers = { "x-api-key": secrets.ADMIN_API_KEY as string };

interface LeadView {
  id: string;
  sources: unknown[];
  history: { type: string; summary: string }[];
}

/** Polls `path` until `ready` holds for the answer (10 s at most). */
async function waitFor<Answer>(path: string, ready: (answer: Answer) => boolean, what: string): Promise<Answer> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const answer = (await (await fetch(`${base}${path}`, { headers })).json()) as Answer;
    if (ready(answer)) return answer;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  console.error(`${what} did not happen within 10 s; see the \`npm start\` terminal.`);
  process.exit(1);
}

const { items } = await waitFor<{ items: LeadView[] }>(
  `/leads?email=${encodeURIComponent(email)}`,
  (answer) => answer.items[0]?.sources.length === 3,
  "The lead's three captures",
);
const leadId = (items[0] as LeadView).id;

// What the site and the CRM tell leadflow next: a look at pricing, then a demo request.
const at = new Date().toISOString();
await post(
  `/leads/${leadId}/events`,
  { ...headers, "content-type": "application/json" },
  JSON.stringify({
    events: [
      { id: `view-${run}`, type: "page_view", at, properties: { url: "https://example.com/pricing" } },
      { id: `demo-${run}`, type: "demo_request", at },
    ],
  }),
);
const lead = await waitFor<LeadView>(
  `/leads/${leadId}`,
  (answer) => answer.history.filter((entry) => entry.type === "lead.event").length === 2,
  "Scoring the two events",
);
console.log(`\nGET /leads/${leadId}\n${JSON.stringify(lead, null, 2)}`);
