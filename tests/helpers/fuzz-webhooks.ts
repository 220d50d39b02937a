/**
 * Generated deliveries for `POST /webhooks/{source}`: signed forms (Standard Webhooks), Meta Lead
 * Ads and Google Ads lead forms, good and adversarial, and what the contract says each must get.
 */
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describeIdentity, type IdentitySpec, identityFields, identitySpec } from "./fuzz-identity.ts";
import {
  flattenForm,
  hasTextSqsRefuses,
  identityOf,
  isIdentityName,
  isRecord,
  jsonDepthLimit,
  levelsOf,
  maxPlatformLeadIdBytes,
  maxWebhookBytes,
} from "./fuzz-oracle.ts";
import {
  type CaseTag,
  type Expected,
  either,
  type HttpCall,
  mustAccept,
  mustRefuse,
  once,
  type PlannedCase,
  type PlannedRequest,
  type SendContext,
} from "./fuzz-plan.ts";
import {
  anyText,
  describeNoise,
  heavyNoise,
  illFormedText,
  jsonText,
  type NoiseObject,
  noiseFields,
  sometimes,
} from "./fuzz-values.ts";

export interface FuzzSecrets {
  FORM_SIGNING_SECRET: string;
  META_APP_SECRET: string;
  META_VERIFY_TOKEN: string;
  GOOGLE_ADS_WEBHOOK_KEY: string;
  ADMIN_API_KEY: string;
}

type Entries = NoiseObject["entries"];
type HeaderCase = "lower" | "upper" | "title";
const headerCase = fc.constantFrom<HeaderCase>("lower", "lower", "upper", "title");
const route = "POST /webhooks/{source}" as const;
/** True once in `n` times. */
const rarely = (n: number) => fc.nat(n - 1).map((value) => value === 0);
/** A signature older or newer than this is refused; replays stay well inside it. */
const toleranceMs = 5 * 60_000;

function named(name: string, style: HeaderCase): string {
  if (style === "upper") return name.toUpperCase();
  if (style === "title")
    return name.replace(/(^|-)([a-z])/g, (_all, dash: string, letter: string) => dash + letter.toUpperCase());
  return name;
}

/** Printable ASCII without spaces: HTTP trims header values, so spaces at the ends would not arrive. */
const headerText = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength });

// ---------------------------------------------------------------------------------------------
// Forms (Standard Webhooks)

const formFaults = [
  "none",
  "valid-among-forged",
  "other-secret",
  "tampered-body",
  "signed-other-id",
  "signed-other-timestamp",
  "no-v1",
  "garbage-signature",
  "empty-signature",
  "stale",
  "future",
  "timestamp-not-integer",
  "missing-id",
  "missing-timestamp",
  "missing-signature",
  "not-json",
  "json-array",
  "json-string",
  "json-null",
] as const;
type FormFault = (typeof formFaults)[number];
const signatureFaults: readonly FormFault[] = formFaults.slice(2, 15);

const contentTypes = ["canonical", "charset", "upper", "suffix", "text/plain", "xml", "missing"] as const;

export interface FormSpec {
  kind: "form";
  identity: IdentitySpec;
  identityAt: number;
  noise: Entries;
  heavy?: { what: string; entries: Entries };
  encoding: "json" | "urlencoded";
  contentType: (typeof contentTypes)[number];
  fault: FormFault;
  headerCase: HeaderCase;
  duplicate?: "webhook-signature" | "webhook-id" | "webhook-timestamp" | "content-type";
  skewSeconds: number;
  idExtra: string;
  replays: ("exact" | "re-signed")[];
  timestampText: string;
}

export const formSpec: fc.Arbitrary<FormSpec> = fc.record(
  {
    kind: fc.constant("form" as const),
    identity: identitySpec,
    identityAt: fc.nat(10),
    noise: fc.oneof(
      noiseFields(),
      noiseFields({ maxFields: 3 }).chain((entries) =>
        fc
          .array(illFormedText, { minLength: 1, maxLength: 2 })
          .map((bad) => [...entries, ...bad.map((text, i): [string, string] => [`odd_${i}`, text])]),
      ),
    ),
    heavy: sometimes(heavyNoise, 12),
    encoding: fc.constantFrom("json", "json", "json", "urlencoded"),
    contentType: fc.oneof(
      { weight: 12, arbitrary: fc.constantFrom("canonical" as const, "charset" as const, "upper" as const) },
      { weight: 1, arbitrary: fc.constantFrom(...contentTypes) },
    ),
    fault: fc.oneof(
      { weight: 14, arbitrary: fc.constant("none" as const) },
      { weight: 6, arbitrary: fc.constantFrom(...formFaults) },
    ),
    headerCase,
    duplicate: sometimes(
      fc.constantFrom(
        "webhook-signature" as const,
        "webhook-id" as const,
        "webhook-timestamp" as const,
        "content-type" as const,
      ),
      15,
    ),
    skewSeconds: fc.integer({ min: -240, max: 240 }),
    idExtra: fc.oneof({ weight: 9, arbitrary: headerText(24) }, { weight: 1, arbitrary: headerText(700) }),
    replays: fc.array(fc.constantFrom("exact" as const, "re-signed" as const), { maxLength: 2 }),
    timestampText: fc.constantFrom("1.7e9", "{now}.5", "-{now}", "0x6553f100", "{now}{now}", "+{now}"),
  },
  {
    requiredKeys: [
      "kind",
      "identity",
      "identityAt",
      "noise",
      "encoding",
      "contentType",
      "fault",
      "headerCase",
      "skewSeconds",
      "idExtra",
      "replays",
      "timestampText",
    ],
  },
);

function standardSignature(secret: string, id: string, timestamp: string, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  return createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
}

function formBody(spec: FormSpec, identity: [string, string][]): string {
  const noise = [...spec.noise, ...(spec.heavy?.entries ?? [])];
  const entries: Entries = [...noise];
  entries.splice(Math.min(spec.identityAt, entries.length), 0, ...identity);
  if (spec.encoding === "urlencoded" && spec.fault === "none") {
    return new URLSearchParams(
      entries.map(([name, value]): [string, string] => [name, typeof value === "string" ? value : jsonText(value)]),
    ).toString();
  }
  const json = jsonText({ entries });
  switch (spec.fault) {
    case "not-json":
      return json.slice(0, -1);
    case "json-array":
      return `[${json}]`;
    case "json-string":
      return JSON.stringify(json);
    case "json-null":
      return "null";
    default:
      return json;
  }
}

function formContentType(spec: FormSpec): string | undefined {
  const canonical =
    spec.encoding === "urlencoded" && spec.fault === "none" ? "application/x-www-form-urlencoded" : "application/json";
  switch (spec.contentType) {
    case "canonical":
      return canonical;
    case "charset":
      return `${canonical}; charset=utf-8`;
    case "upper":
      return canonical.toUpperCase();
    case "suffix":
      return canonical === "application/json" ? "application/vnd.lead+json" : canonical;
    case "text/plain":
      return "text/plain";
    case "xml":
      return "application/xml";
    case "missing":
      return undefined;
  }
}

/** What the contract says of a form delivery, in the order the webhook checks it. */
function expectForm(spec: FormSpec, id: string, body: string, contentType: string | undefined) {
  const refused = (status: number, why: string) => ({ expected: mustRefuse(status), identity: undefined, why });
  if (Buffer.byteLength(body) > maxWebhookBytes) return refused(413, "over 256 KB");
  if (signatureFaults.includes(spec.fault)) return refused(401, spec.fault);
  if (Buffer.byteLength(id) > maxPlatformLeadIdBytes) return refused(422, "webhook-id over 512 bytes");
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const urlencoded = type === "application/x-www-form-urlencoded";
  if (!urlencoded && type !== "application/json" && !type.endsWith("+json")) return refused(415, "content type");
  let parsed: unknown;
  try {
    parsed = urlencoded ? new URLSearchParams(body) : JSON.parse(body);
  } catch {
    return refused(400, "not JSON");
  }
  if (!urlencoded && levelsOf(parsed) > jsonDepthLimit) return refused(422, `nested over ${jsonDepthLimit} levels`);
  if (!(parsed instanceof URLSearchParams) && !isRecord(parsed)) return refused(400, "not an object");
  const flat = flattenForm(parsed);
  if ("overLimit" in flat) return refused(422, flat.overLimit);
  const identity = identityOf(flat.fields);
  if (!identity) return refused(422, "no valid email or phone");
  const text = [...flat.fields].flat().join("\n");
  return { expected: hasTextSqsRefuses(text) ? either([202], [400, 422]) : mustAccept(202), identity, why: "storable" };
}

export function planForm(spec: FormSpec, tag: CaseTag, secrets: FuzzSecrets): PlannedCase {
  const id = `msg_${tag.run}_${tag.index}_${spec.idExtra}`;
  const body = formBody(spec, identityFields(tag, spec.identity, "form"));
  const contentType = formContentType(spec);
  const verdict = expectForm(spec, id, body, contentType);
  // The contract does not say how a repeated header reads (joined, first, refused).
  if (spec.duplicate) verdict.expected = either(verdict.expected.accepted, [400, 401, 413, 415, 422]);
  const lead = { source: "form" as const, platformLeadId: id, identity: verdict.identity };
  const what =
    `form ${spec.encoding}, ${describeIdentity(spec.identity)}, ${describeNoise(spec.noise)}` +
    `${spec.heavy ? `, ${spec.heavy.what}` : ""}${spec.fault === "none" ? "" : `, ${spec.fault}`}` +
    `${spec.contentType === "canonical" ? "" : `, content type ${spec.contentType}`}` +
    `${spec.duplicate ? `, ${spec.duplicate} twice` : ""}${spec.headerCase === "lower" ? "" : `, ${spec.headerCase}-case header names`}` +
    ` (expected: ${verdict.why})`;

  const build = (context: SendContext): HttpCall => {
    const seconds = Math.floor(context.now / 1000);
    const timestamp = timestampFor(spec, seconds);
    const signed = {
      id: spec.fault === "signed-other-id" ? `${id}x` : id,
      timestamp: spec.fault === "signed-other-timestamp" ? String(Number(timestamp) - 1) : timestamp,
      secret:
        spec.fault === "other-secret"
          ? `whsec_${Buffer.from("not-our-secret-at-all-1234").toString("base64")}`
          : secrets.FORM_SIGNING_SECRET,
    };
    const valid = standardSignature(signed.secret, signed.id, signed.timestamp, body);
    const signature = signatureHeader(spec.fault, valid);
    const headers: [string, string][] = [];
    const add = (name: string, value: string | undefined) => {
      if (value === undefined) return;
      headers.push([named(name, spec.headerCase), value]);
      if (spec.duplicate === name) headers.push([named(name, spec.headerCase), value]);
    };
    add("content-type", contentType);
    add("webhook-id", spec.fault === "missing-id" ? undefined : id);
    add("webhook-timestamp", spec.fault === "missing-timestamp" ? undefined : timestamp);
    add("webhook-signature", spec.fault === "missing-signature" ? undefined : signature);
    return {
      method: "POST",
      path: "/webhooks/form",
      headers,
      body: spec.fault === "tampered-body" ? `${body} ` : body,
    };
  };

  const first = once(build);
  // An exact replay sends the first signature again: refused once its timestamp is 5 minutes
  // old (the timestamp was written with the skew); the first of the two sent may be either.
  const ageAware = (context: SendContext): Expected => {
    const signedAt = first.signedAt() ?? context.now;
    const age = Math.abs(context.now - (signedAt + spec.skewSeconds * 1000));
    const { accepted, refused } = verdict.expected;
    return age < toleranceMs - 30_000 ? verdict.expected : either(accepted, [...refused, 401]);
  };
  const exact = spec.replays.includes("exact");
  const original: PlannedRequest = {
    route,
    what,
    call: first.call,
    expected: exact ? ageAware : verdict.expected,
    leads: [lead],
  };
  const replays = spec.replays.map(
    (replay): PlannedRequest =>
      replay === "re-signed"
        ? { ...original, what: `${what}, retried with a new signature`, call: build, expected: verdict.expected }
        : { ...original, what: `${what}, replayed byte for byte` },
  );
  return { requests: [original, ...replays] };
}

function timestampFor(spec: FormSpec, seconds: number): string {
  switch (spec.fault) {
    case "stale":
      return String(seconds - 360 - Math.abs(spec.skewSeconds) * 300);
    case "future":
      return String(seconds + 360 + Math.abs(spec.skewSeconds) * 300);
    case "timestamp-not-integer":
      return spec.timestampText.replaceAll("{now}", String(seconds));
    default:
      return String(seconds + spec.skewSeconds);
  }
}

function signatureHeader(fault: FormFault, valid: string): string {
  switch (fault) {
    case "valid-among-forged":
      return `v1a,${valid} v1,${Buffer.alloc(32, 7).toString("base64")} v1,${valid}`;
    case "no-v1":
      return `v2,${valid}`;
    case "garbage-signature":
      return "v1,!!not-base64!!";
    case "empty-signature":
      return "";
    default:
      return `v1,${valid}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Google Ads lead forms

const googleFaults = [
  "none",
  "wrong-key",
  "no-key",
  "key-number",
  "not-json",
  "json-array",
  "lead-id-number",
  "lead-id-empty",
  "lead-id-long",
  "columns-object",
  "value-number",
  "is-test-string",
] as const;
type GoogleFault = (typeof googleFaults)[number];

export interface GoogleSpec {
  kind: "google";
  identity: IdentitySpec;
  columns: [string, string][];
  columnNameOnly: boolean;
  leadIdPrefix: string;
  euroLeadId: boolean;
  keyName: "google_key" | "Google_key" | "GOOGLE_KEY";
  fault: GoogleFault;
  idsAsNumbers: boolean;
  isTest: boolean;
  topLevel: Entries;
  contentType: "canonical" | "charset" | "text/plain" | "missing";
  resends: number;
}

/** Names the Google payload itself uses: noise must not override them. */
const googleKeys = new Set([
  "google_key",
  "lead_id",
  "user_column_data",
  "api_version",
  "form_id",
  "campaign_id",
  "adgroup_id",
  "creative_id",
  "gcl_id",
  "is_test",
]);
const columnName = anyText(30).filter((name) => name !== "" && !isIdentityName(name));

export const googleSpec: fc.Arbitrary<GoogleSpec> = fc.record({
  kind: fc.constant("google" as const),
  identity: identitySpec,
  columns: fc.array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom("__proto__", "constructor", "toString", "FULL_NAME", "JOB_TITLE", "COMPANY_NAME"),
        columnName,
      ),
      fc.oneof({ weight: 12, arbitrary: anyText(60) }, { weight: 1, arbitrary: illFormedText }),
    ),
    { maxLength: 6 },
  ),
  columnNameOnly: fc.boolean(),
  leadIdPrefix: fc.oneof({ weight: 4, arbitrary: anyText(20) }, { weight: 1, arbitrary: anyText(520) }),
  euroLeadId: rarely(12),
  keyName: fc.constantFrom("google_key", "google_key", "Google_key", "GOOGLE_KEY"),
  fault: fc.oneof(
    { weight: 14, arbitrary: fc.constant("none" as const) },
    { weight: 6, arbitrary: fc.constantFrom(...googleFaults) },
  ),
  idsAsNumbers: fc.boolean(),
  isTest: fc.boolean(),
  topLevel: noiseFields({ maxFields: 3 }).map((entries) =>
    entries.filter(([name]) => !googleKeys.has(name.toLowerCase())),
  ),
  contentType: fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom("canonical" as const, "charset" as const) },
    { weight: 1, arbitrary: fc.constantFrom("text/plain" as const, "missing" as const) },
  ),
  resends: fc.nat(2).map((count) => (count === 2 ? 1 : count)),
});

/** At most `max` UTF-16 units of `text`, never splitting a surrogate pair. */
function clipped(text: string, max: number): string {
  let result = "";
  for (const character of text) {
    if (result.length + character.length > max) break;
    result += character;
  }
  return result;
}

export function planGoogle(spec: GoogleSpec, tag: CaseTag, secrets: FuzzSecrets): PlannedCase {
  const suffix = `-${tag.run}-${tag.index}`;
  const room = maxPlatformLeadIdBytes - suffix.length;
  const prefix = spec.euroLeadId ? "€".repeat(room) : clipped(spec.leadIdPrefix, room);
  const leadId =
    spec.fault === "lead-id-long" ? `${"x".repeat(maxPlatformLeadIdBytes)}${suffix}` : `${prefix}${suffix}`;
  const identity = identityFields(tag, spec.identity, "google");
  const column = ([name, value]: [string, string], own: boolean): Record<string, unknown> =>
    own || !spec.columnNameOnly ? { column_id: name, string_value: value } : { column_name: name, string_value: value };
  const columns = [
    ...identity.map((field) => column(field, true)),
    ...spec.columns.map((field) => column(field, false)),
  ];
  if (spec.fault === "value-number" && columns[0]) columns[0] = { ...columns[0], string_value: 5 };
  const id = (value: number) => (spec.idsAsNumbers ? { raw: String(value) } : String(value));
  const entries: Entries = [
    ...(spec.fault === "no-key"
      ? []
      : [
          [
            spec.keyName,
            spec.fault === "key-number" ? 12345 : spec.fault === "wrong-key" ? "guess" : secrets.GOOGLE_ADS_WEBHOOK_KEY,
          ] as [string, string | number],
        ]),
    ["lead_id", spec.fault === "lead-id-number" ? 42 : spec.fault === "lead-id-empty" ? "" : leadId],
    ["user_column_data", spec.fault === "columns-object" ? { entries: [] } : { raw: JSON.stringify(columns) }],
    ["api_version", "1.0"],
    ["form_id", id(1234)],
    ["campaign_id", id(20000000000)],
    ["adgroup_id", id(30000000000)],
    ["creative_id", id(40000000000)],
    ["gcl_id", "Cj0KCQjwit_8BRCoARIsAIx3Rj7g"],
    ["is_test", spec.fault === "is-test-string" ? "true" : spec.isTest],
    ...spec.topLevel,
  ];
  const json = jsonText({ entries });
  const body = spec.fault === "not-json" ? json.slice(0, -1) : spec.fault === "json-array" ? `[${json}]` : json;
  const verdict = expectGoogle(spec, body, leadId);
  const what =
    `google-ads, ${describeIdentity(spec.identity)}, ${spec.columns.length} extra columns, lead_id of ${leadId.length} units` +
    `${spec.euroLeadId ? " (mostly €)" : ""}${spec.fault === "none" ? "" : `, ${spec.fault}`}` +
    `${spec.contentType === "canonical" ? "" : `, content type ${spec.contentType}`} (expected: ${verdict.why})`;
  const contentType = {
    canonical: "application/json",
    charset: "application/json; charset=UTF-8",
    "text/plain": "text/plain",
    missing: undefined,
  }[spec.contentType];
  const call = (): HttpCall => ({
    method: "POST",
    path: "/webhooks/google-ads",
    headers: contentType ? [["content-type", contentType]] : [],
    body,
  });
  const lead = { source: "google-ads" as const, platformLeadId: leadId, identity: verdict.identity };
  const request: PlannedRequest = { route, what, call, expected: verdict.expected, leads: [lead] };
  return {
    requests: [request, ...Array.from({ length: spec.resends }, () => ({ ...request, what: `${what}, sent again` }))],
  };
}

/** Levels of a JSON body (0 when it is not JSON). */
function jsonLevels(body: string): number {
  try {
    return levelsOf(JSON.parse(body));
  } catch {
    return 0;
  }
}

function expectGoogle(spec: GoogleSpec, body: string, leadId: string) {
  const loose = spec.contentType === "text/plain" || spec.contentType === "missing";
  const refused = (status: number, why: string) => ({
    expected: loose ? mustRefuse(status, 400, 415) : mustRefuse(status),
    identity: undefined,
    why,
  });
  if (Buffer.byteLength(body) > maxWebhookBytes) return refused(413, "over 256 KB");
  if (spec.fault === "not-json") return refused(400, "not JSON");
  if (jsonLevels(body) > jsonDepthLimit) return refused(422, `nested over ${jsonDepthLimit} levels`);
  if (["wrong-key", "no-key", "key-number", "json-array"].includes(spec.fault)) return refused(401, spec.fault);
  if (spec.fault !== "none") return refused(422, spec.fault);
  if (Buffer.byteLength(leadId) > maxPlatformLeadIdBytes) return refused(422, "lead_id over 512 bytes");
  const parsed = JSON.parse(body) as {
    user_column_data: { column_id?: string; column_name?: string; string_value: string }[];
  };
  const fields = new Map<string, string>();
  for (const column of parsed.user_column_data) {
    const name = column.column_id ?? column.column_name;
    if (name) fields.set(name, column.string_value);
  }
  const identity = identityOf(fields);
  if (!identity) return refused(422, "no valid email or phone");
  const open = loose || hasTextSqsRefuses([...fields].flat().join("\n") + leadId);
  return { expected: open ? either([200], [400, 415, 422]) : mustAccept(200), identity, why: "storable" };
}

// ---------------------------------------------------------------------------------------------
// Meta Lead Ads

const metaFaults = [
  "none",
  "other-secret",
  "tampered",
  "sha1",
  "missing",
  "no-prefix",
  "not-json",
  "not-meta",
] as const;
type MetaFault = (typeof metaFaults)[number];
const metaBreaks = ["missing-id", "object-id", "empty-id", "long-id", "bad-created-time"] as const;

export interface MetaChangeSpec {
  identity: IdentitySpec;
  graphNoise: [string, string][];
  idAs: "number" | "big-number" | "string";
  broken?: (typeof metaBreaks)[number];
}

export interface MetaSpec {
  kind: "meta";
  changes: MetaChangeSpec[];
  repeatFirst: boolean;
  otherChanges: number;
  fault: MetaFault;
  hexUpper: boolean;
  signatureHeaderCase: HeaderCase;
  duplicateSignature: boolean;
  contentType: "canonical" | "charset" | "missing";
  resends: number;
}

const metaChange: fc.Arbitrary<MetaChangeSpec> = fc.record(
  {
    identity: identitySpec,
    graphNoise: fc.array(
      fc.tuple(
        fc.oneof(fc.constantFrom("__proto__", "constructor", "toString", "full_name", "company_name"), columnName),
        anyText(60),
      ),
      { maxLength: 5 },
    ),
    idAs: fc.constantFrom("number", "big-number", "string"),
    broken: sometimes(fc.constantFrom(...metaBreaks), 8),
  },
  { requiredKeys: ["identity", "graphNoise", "idAs"] },
);

export const metaSpec: fc.Arbitrary<MetaSpec> = fc.record({
  kind: fc.constant("meta" as const),
  changes: fc.array(metaChange, { minLength: 1, maxLength: 4 }),
  repeatFirst: fc.boolean(),
  otherChanges: fc.nat(2),
  fault: fc.oneof(
    { weight: 14, arbitrary: fc.constant("none" as const) },
    { weight: 6, arbitrary: fc.constantFrom(...metaFaults) },
  ),
  hexUpper: rarely(10),
  signatureHeaderCase: headerCase,
  duplicateSignature: rarely(15),
  contentType: fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom("canonical" as const, "charset" as const) },
    { weight: 1, arbitrary: fc.constant("missing" as const) },
  ),
  resends: fc.nat(2).map((count) => (count === 2 ? 1 : count)),
});

/** A leadgen id of the run: digits only (the Graph stand-in looks ids up as written). */
export function leadgenIdFor(tag: CaseTag, big: boolean): string {
  const run = String(Number.parseInt(tag.run.slice(0, 6), 16) % 100_000).padStart(5, "0");
  return big ? `9${run}${String(tag.index).padStart(11, "0")}` : `1${run}${String(tag.index).padStart(9, "0")}`;
}

export function planMeta(spec: MetaSpec, tag: CaseTag, secrets: FuzzSecrets): PlannedCase {
  const planned = spec.changes.map((change, position) => {
    const own = { run: tag.run, index: tag.index + position };
    const leadgenId = leadgenIdFor(own, change.idAs === "big-number");
    const fieldData: [string, string][] = [...identityFields(own, change.identity, "meta"), ...change.graphNoise];
    return { change, leadgenId, fieldData };
  });
  const value = ({ change, leadgenId }: (typeof planned)[number]) => {
    const id = change.idAs === "string" ? JSON.stringify(leadgenId) : leadgenId;
    const leadgen = {
      "missing-id": "",
      "object-id": '"leadgen_id":{},',
      "empty-id": '"leadgen_id":"",',
      "long-id": `"leadgen_id":"${"9".repeat(600)}",`,
      "bad-created-time": `"leadgen_id":${id},`,
    }[change.broken ?? "bad-created-time"];
    const created = change.broken === "bad-created-time" ? '"yesterday"' : "1440120384";
    return `{${change.broken ? leadgen : `"leadgen_id":${id},`}"page_id":153125381133,"form_id":"12312312312","ad_id":0,"created_time":${created}}`;
  };
  const changes = [
    ...planned.map((entry) => `{"field":"leadgen","value":${value(entry)}}`),
    ...(spec.repeatFirst && planned[0] ? [`{"field":"leadgen","value":${value(planned[0])}}`] : []),
    ...Array.from(
      { length: spec.otherChanges },
      (_, i) => `{"field":"feed","value":{"item":"status","post_id":"${i}"}}`,
    ),
  ];
  const json = `{"object":"page","entry":[{"id":"153125381133","time":${1_700_000_000 + tag.index},"changes":[${changes.join(",")}]}]}`;
  const body =
    spec.fault === "not-json"
      ? json.slice(0, -2)
      : spec.fault === "not-meta"
        ? `{"object":"page","entry":{"changes":[${changes.join(",")}]}}`
        : json;
  const valid = planned.filter(({ change }) => !change.broken);
  const leads = valid.map(({ leadgenId, fieldData }) => ({
    source: "meta" as const,
    platformLeadId: leadgenId,
    identity: identityOf(new Map(fieldData.filter(([name]) => name !== ""))),
  }));
  const expected = expectMeta(spec, valid.length, planned.length - valid.length);
  const what =
    `meta, ${planned.length} leadgen change(s) (${planned.map(({ change }) => change.broken ?? describeIdentity(change.identity)).join("; ")})` +
    `, Graph fields: ${describeNoise(spec.changes.flatMap((change) => change.graphNoise))}` +
    `${spec.repeatFirst ? ", first repeated" : ""}${spec.fault === "none" ? "" : `, ${spec.fault}`}` +
    `${spec.hexUpper ? ", upper-case hex" : ""}${spec.duplicateSignature ? ", signature twice" : ""}` +
    `${spec.contentType === "missing" ? ", no content type" : ""}`;
  const call = (): HttpCall => {
    const secret = spec.fault === "other-secret" ? "not-the-app-secret" : secrets.META_APP_SECRET;
    let hex = createHmac(spec.fault === "sha1" ? "sha1" : "sha256", secret)
      .update(body)
      .digest("hex");
    if (spec.hexUpper) hex = hex.toUpperCase();
    const headerValue = spec.fault === "sha1" ? `sha1=${hex}` : spec.fault === "no-prefix" ? hex : `sha256=${hex}`;
    const headerName = named(
      spec.fault === "sha1" ? "x-hub-signature" : "x-hub-signature-256",
      spec.signatureHeaderCase,
    );
    const headers: [string, string][] = [];
    if (spec.contentType !== "missing")
      headers.push([
        "content-type",
        spec.contentType === "charset" ? "application/json; charset=utf-8" : "application/json",
      ]);
    if (spec.fault !== "missing") headers.push([headerName, headerValue]);
    if (spec.fault !== "missing" && spec.duplicateSignature) headers.push([headerName, headerValue]);
    return {
      method: "POST",
      path: "/webhooks/meta",
      headers,
      body: spec.fault === "tampered" ? body.replace("153125381133", "153125381134") : body,
    };
  };
  const request: PlannedRequest = { route, what, call, expected, leads };
  return {
    requests: [request, ...Array.from({ length: spec.resends }, () => ({ ...request, what: `${what}, sent again` }))],
    graphLeads: valid.map(({ leadgenId, fieldData }) => ({ leadgenId, fieldData })),
  };
}

function expectMeta(spec: MetaSpec, valid: number, broken: number): Expected {
  const statuses = (() => {
    if (["other-secret", "tampered", "sha1", "missing", "no-prefix"].includes(spec.fault)) return mustRefuse(401);
    if (spec.fault === "not-json") return mustRefuse(400);
    if (spec.fault === "not-meta") return mustRefuse(422);
    if (valid === 0 && broken > 0) return mustRefuse(422);
    return mustAccept(200);
  })();
  const open = spec.hexUpper || spec.duplicateSignature || spec.contentType === "missing";
  if (!open) return statuses;
  return statuses.accepted.length
    ? either(statuses.accepted, [400, 401, 415])
    : mustRefuse(...statuses.refused, 401, 415);
}

// ---------------------------------------------------------------------------------------------
// One person through several sources

export interface PersonSpec {
  kind: "person";
  sources: ("form" | "meta" | "google")[];
  withPhone: boolean;
  styles: ("clean" | "shouted" | "padded")[];
  noise: Entries;
  replays: number[];
}

export const personSpec: fc.Arbitrary<PersonSpec> = fc.record({
  kind: fc.constant("person" as const),
  sources: fc.array(fc.constantFrom("form" as const, "meta" as const, "google" as const), {
    minLength: 2,
    maxLength: 4,
  }),
  withPhone: fc.boolean(),
  styles: fc.array(fc.constantFrom("clean" as const, "shouted" as const, "padded" as const), {
    minLength: 4,
    maxLength: 4,
  }),
  noise: noiseFields({ maxFields: 4, flat: true }),
  replays: fc.array(fc.nat(1), { minLength: 4, maxLength: 4 }),
});

/** The same person from each source in turn: all of it one lead, with one source per delivery. */
export function planPerson(spec: PersonSpec, tag: CaseTag, secrets: FuzzSecrets): PlannedCase {
  const requests: PlannedRequest[] = [];
  const graphLeads: NonNullable<PlannedCase["graphLeads"]> = [];
  spec.sources.forEach((source, position) => {
    const identity: IdentitySpec = {
      email: { form: spec.styles[position] ?? "clean" },
      ...(spec.withPhone ? { phone: { form: "e164" as const } } : {}),
      emailName: 0,
      phoneName: 0,
    };
    const replays = spec.replays[position] ?? 0;
    const planned = planPersonDelivery(
      source,
      identity,
      spec,
      { run: tag.run, index: tag.index },
      position,
      replays,
      secrets,
    );
    const person = `person ${tag.index}`;
    for (const request of planned.requests) {
      requests.push({
        ...request,
        what: `same person from ${spec.sources.join(" + ")}: ${request.what}`,
        leads: request.leads?.map((lead) => ({ ...lead, person })),
      });
    }
    graphLeads.push(...(planned.graphLeads ?? []));
  });
  return { requests, graphLeads };
}

function planPersonDelivery(
  source: PersonSpec["sources"][number],
  identity: IdentitySpec,
  spec: PersonSpec,
  tag: CaseTag,
  position: number,
  replays: number,
  secrets: FuzzSecrets,
): PlannedCase {
  if (source === "form") {
    return planForm(
      {
        kind: "form",
        identity,
        identityAt: 0,
        noise: spec.noise,
        encoding: "json",
        contentType: "canonical",
        fault: "none",
        headerCase: "lower",
        skewSeconds: 0,
        idExtra: `p${position}`,
        replays: Array.from({ length: replays }, () => "re-signed" as const),
        timestampText: "",
      },
      tag,
      secrets,
    );
  }
  if (source === "google") {
    return planGoogle(
      {
        kind: "google",
        identity,
        columns: spec.noise.map(([name, value]) => [name, String(value)]),
        columnNameOnly: false,
        leadIdPrefix: `p${position}`,
        euroLeadId: false,
        keyName: "google_key",
        fault: "none",
        idsAsNumbers: true,
        isTest: false,
        topLevel: [],
        contentType: "canonical",
        resends: replays,
      },
      tag,
      secrets,
    );
  }
  // A Meta lead of its own (its own leadgen id) whose Graph fields name the same person.
  const planned = planMeta(
    {
      kind: "meta",
      changes: [{ identity, graphNoise: spec.noise.map(([name, value]) => [name, String(value)]), idAs: "number" }],
      repeatFirst: false,
      otherChanges: 0,
      fault: "none",
      hexUpper: false,
      signatureHeaderCase: "lower",
      duplicateSignature: false,
      contentType: "canonical",
      resends: replays,
    },
    { run: tag.run, index: tag.index + position },
    secrets,
  );
  // The Graph lead carries the person's email and phone, not those of index + position.
  const fieldData = identityFields(tag, identity, "meta");
  return {
    requests: planned.requests.map((request) => ({
      ...request,
      leads: request.leads?.map((lead) => ({ ...lead, identity: identityOf(new Map(fieldData)) })),
    })),
    graphLeads: planned.graphLeads?.map((lead) => ({
      ...lead,
      fieldData: [...fieldData, ...spec.noise.map(([n, v]): [string, string] => [n, String(v)])],
    })),
  };
}
