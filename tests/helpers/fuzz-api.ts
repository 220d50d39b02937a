/**
 * Generated requests for the other routes: Meta's handshake, the read API, behaviour events,
 * the health probe, and paths no route serves.
 */
import fc from "fast-check";
import { hasTextSqsRefuses } from "./fuzz-oracle.ts";
import {
  type CaseTag,
  type Expected,
  either,
  type HttpCall,
  mustAccept,
  mustRefuse,
  type PlannedCase,
  type PlannedRequest,
  type SendContext,
} from "./fuzz-plan.ts";
import { anyText, prototypeNames, sometimes } from "./fuzz-values.ts";
import type { FuzzSecrets } from "./fuzz-webhooks.ts";

const keyStyles = ["right", "right", "right", "upper-name", "missing", "wrong", "empty", "twice"] as const;
type KeyStyle = (typeof keyStyles)[number];

function keyHeaders(style: KeyStyle, secrets: FuzzSecrets): [string, string][] {
  switch (style) {
    case "right":
      return [["x-api-key", secrets.ADMIN_API_KEY]];
    case "upper-name":
      return [["X-API-KEY", secrets.ADMIN_API_KEY]];
    case "missing":
      return [];
    case "wrong":
      return [["x-api-key", `${secrets.ADMIN_API_KEY}x`]];
    case "empty":
      return [["x-api-key", ""]];
    case "twice":
      return [
        ["x-api-key", secrets.ADMIN_API_KEY],
        ["x-api-key", secrets.ADMIN_API_KEY],
      ];
  }
}

/** The answers a request may get given its key, when a right key allows `ok`. */
function withKey(style: KeyStyle, ok: Expected): Expected {
  if (style === "right" || style === "upper-name") return ok;
  if (style === "twice") return either(ok.accepted, [...ok.refused, 401]);
  return mustRefuse(401);
}

/** A path segment: encoded, or written raw (which may not be valid percent-encoding). */
const segment = fc.oneof(
  {
    weight: 4,
    arbitrary: anyText(40)
      .filter((text) => text !== "")
      .map((text) => ({ text, raw: false })),
  },
  { weight: 1, arbitrary: fc.constantFrom(...prototypeNames).map((text) => ({ text, raw: false })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom("%", "%zz", "%E0%A4%A", "a%2Fb", "%00", "..", "%2e%2e")
      .map((text) => ({ text, raw: true })),
  },
);
type Segment = { text: string; raw: boolean };

const encoded = ({ text, raw }: Segment) => (raw ? text : encodeURIComponent(text));
const malformedEncoding = ({ text, raw }: Segment) => {
  if (!raw) return false;
  try {
    decodeURIComponent(text);
    return false;
  } catch {
    return true;
  }
};

// ---------------------------------------------------------------------------------------------
// GET /webhooks/{source}: Meta's subscription handshake

export interface HandshakeSpec {
  kind: "handshake";
  source: "meta" | "form" | "google-ads" | Segment;
  mode: "subscribe" | "unsubscribe" | "missing" | "SUBSCRIBE";
  token: "right" | "wrong" | "missing";
  challenge: string | undefined;
  repeated?: "hub.mode" | "hub.challenge";
}

export const handshakeSpec: fc.Arbitrary<HandshakeSpec> = fc.record(
  {
    kind: fc.constant("handshake" as const),
    source: fc.oneof(
      { weight: 6, arbitrary: fc.constant("meta" as const) },
      { weight: 1, arbitrary: fc.constantFrom("form" as const, "google-ads" as const) },
      { weight: 1, arbitrary: segment },
    ),
    mode: fc.constantFrom("subscribe", "subscribe", "subscribe", "unsubscribe", "missing", "SUBSCRIBE"),
    token: fc.constantFrom("right", "right", "right", "wrong", "missing"),
    challenge: fc.option(fc.oneof(fc.nat().map(String), anyText(100)), { freq: 6, nil: undefined }),
    repeated: sometimes(fc.constantFrom("hub.mode" as const, "hub.challenge" as const), 10),
  },
  { requiredKeys: ["kind", "source", "mode", "token", "challenge"] },
);

export function planHandshake(spec: HandshakeSpec, _tag: CaseTag, secrets: FuzzSecrets): PlannedCase {
  const query = new URLSearchParams();
  if (spec.mode !== "missing") query.append("hub.mode", spec.mode);
  if (spec.token !== "missing")
    query.append("hub.verify_token", spec.token === "right" ? secrets.META_VERIFY_TOKEN : "guess");
  if (spec.challenge !== undefined) query.append("hub.challenge", spec.challenge);
  if (spec.repeated && query.has(spec.repeated)) query.append(spec.repeated, query.get(spec.repeated) ?? "");
  const source = typeof spec.source === "string" ? spec.source : encoded(spec.source);
  const expected = ((): Expected => {
    if (typeof spec.source !== "string" && malformedEncoding(spec.source)) return mustRefuse(400);
    if (spec.source !== "meta") return mustRefuse(404);
    if (spec.mode !== "subscribe" || spec.token !== "right") return mustRefuse(403);
    if (!spec.challenge) return mustRefuse(422);
    return mustAccept(200);
  })();
  const repeated = spec.repeated && query.getAll(spec.repeated).length > 1;
  const call = (): HttpCall => ({ method: "GET", path: `/webhooks/${source}?${query}`, headers: [] });
  const what =
    `handshake on ${typeof spec.source === "string" ? spec.source : JSON.stringify(spec.source.text)}, mode ${spec.mode}, ` +
    `token ${spec.token}, challenge ${spec.challenge === undefined ? "missing" : `of ${spec.challenge.length} units`}` +
    `${repeated ? `, ${spec.repeated} twice` : ""}`;
  const checkBody = (body: string) =>
    body === spec.challenge ? undefined : `answered ${JSON.stringify(body.slice(0, 80))} instead of the challenge`;
  const request: PlannedRequest = {
    route: "GET /webhooks/{source}",
    what,
    call,
    // How a repeated parameter reads (joined, first, last) is not in the contract.
    expected: repeated ? either([200], [...expected.refused, 403, 422]) : expected,
    ...(repeated ? {} : { checkBody }),
  };
  return { requests: [request] };
}

// ---------------------------------------------------------------------------------------------
// GET /leads?email= | ?phone=

export interface LookupSpec {
  kind: "lookup";
  key: KeyStyle;
  by: "email" | "phone" | "both" | "none" | "other";
  value: string;
  raw: boolean;
}

export const lookupSpec: fc.Arbitrary<LookupSpec> = fc.record({
  kind: fc.constant("lookup" as const),
  key: fc.constantFrom(...keyStyles),
  by: fc.constantFrom("email", "email", "phone", "phone", "both", "none", "other"),
  value: fc.oneof(
    anyText(60),
    fc.constantFrom(
      "ada@example.com",
      " ADA@EXAMPLE.COM ",
      "+14155550100",
      "14155550100",
      "+1 415 555 0100",
      "",
      "@",
      "+",
    ),
  ),
  raw: fc.boolean(),
});

export function planLookup(spec: LookupSpec, _tag: CaseTag, secrets: FuzzSecrets): PlannedCase {
  const value = spec.raw ? spec.value.replace(/[^\x21-\x7e]/g, "") : encodeURIComponent(spec.value);
  const query = {
    email: `email=${value}`,
    phone: `phone=${value}`,
    both: `email=${value}&phone=${value}`,
    none: "",
    other: `name=${value}`,
  }[spec.by];
  const call = (): HttpCall => ({
    method: "GET",
    path: `/leads${query ? `?${query}` : ""}`,
    headers: keyHeaders(spec.key, secrets),
  });
  const ok = spec.by === "none" || spec.by === "other" ? mustRefuse(422) : either([200], [400, 422]);
  const request: PlannedRequest = {
    route: "GET /leads",
    what: `lookup by ${spec.by} (${spec.raw ? "raw" : "encoded"}, ${spec.value.length} units), key ${spec.key}`,
    call,
    expected: withKey(spec.key, ok),
  };
  return { requests: [request] };
}

// ---------------------------------------------------------------------------------------------
// GET /leads/{id}

export interface GetLeadSpec {
  kind: "get";
  key: KeyStyle;
  target: "anchor" | "other";
  anchor: number;
  id: Segment;
}

export const getLeadSpec: fc.Arbitrary<GetLeadSpec> = fc.record({
  kind: fc.constant("get" as const),
  key: fc.constantFrom(...keyStyles),
  target: fc.constantFrom("anchor", "other", "other"),
  anchor: fc.nat(1_000),
  id: fc.oneof(
    segment,
    fc.integer({ min: 129, max: 300 }).map((length) => ({ text: "i".repeat(length), raw: false })),
  ),
});

export function planGetLead(spec: GetLeadSpec, _tag: CaseTag, secrets: FuzzSecrets): PlannedCase {
  const expected = (context: SendContext): Expected => {
    if (spec.target === "anchor") return withKey(spec.key, mustAccept(200));
    if (malformedEncoding(spec.id)) return mustRefuse(400);
    // A dot segment, even percent-encoded, is resolved away by the URL parser: another path.
    if (spec.id.raw && /\.\.|%2e/i.test(spec.id.text)) return either([200], [400, 401, 404, 422]);
    const id = spec.id.raw ? decodeURIComponent(spec.id.text) : spec.id.text;
    if (context.anchors.includes(id)) return withKey(spec.key, mustAccept(200));
    return withKey(spec.key, mustRefuse(id.length > 128 ? 422 : 404));
  };
  const call = (context: SendContext): HttpCall => {
    const anchor = context.anchors[spec.anchor % context.anchors.length] ?? "none";
    const id = spec.target === "anchor" ? anchor : encoded(spec.id);
    return { method: "GET", path: `/leads/${id}`, headers: keyHeaders(spec.key, secrets) };
  };
  const what =
    spec.target === "anchor"
      ? `get an existing lead, key ${spec.key}`
      : `get lead ${JSON.stringify(spec.id.text.slice(0, 40))} (${spec.id.text.length} units${spec.id.raw ? ", raw" : ""}), key ${spec.key}`;
  return { requests: [{ route: "GET /leads/{id}", what, call, expected }] };
}

// ---------------------------------------------------------------------------------------------
// POST /leads/{id}/events

const eventTypes = [
  "page_view",
  "form_submit",
  "demo_request",
  "meeting_booked",
  "email_open",
  "email_click",
  "reply",
  "webinar_attended",
  "trial_started",
] as const;

/** `at` values that are valid ISO 8601 with an offset, but far from an ordinary time. */
const oddTimes = fc.oneof(
  fc.constantFrom(
    "0000-01-01T00:30:00+01:00",
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00-14:00",
    "1969-12-31T23:59:59.999999999Z",
    "1970-01-01T00:00:00+00:00",
    "2024-02-29T12:00:00+14:00",
    "2023-02-29T12:00:00Z",
    "2026-04-31T00:00:00Z",
    "2026-01-01T24:00:00Z",
    "2026-01-01T23:59:60Z",
  ),
  fc
    .record({
      year: fc.oneof(fc.constantFrom(0, 1, 1969, 1970), fc.integer({ min: 0, max: 2025 })),
      month: fc.integer({ min: 1, max: 12 }),
      day: fc.integer({ min: 1, max: 31 }),
      minutes: fc.integer({ min: 0, max: 1439 }),
      offset: fc.integer({ min: -14 * 4, max: 14 * 4 }).map((quarters) => quarters * 15),
    })
    .map(({ year, month, day, minutes, offset }) => {
      const pad = (value: number, width = 2) => String(value).padStart(width, "0");
      const sign = offset < 0 ? "-" : "+";
      const zone =
        offset === 0 ? "Z" : `${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
      return `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}:00${zone}`;
    }),
);

export interface EventSpec {
  type: (typeof eventTypes)[number];
  at: { kind: "recent"; secondsAgo: number; offsetQuarters: number } | { kind: "odd"; text: string };
  properties: [string, string | number | boolean | null][];
  url: string;
  idExtra: string;
}

const eventSpec: fc.Arbitrary<EventSpec> = fc.record({
  type: fc.constantFrom(...eventTypes),
  at: fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant("recent" as const),
        secondsAgo: fc.integer({ min: 0, max: 30 * 86_400 }),
        offsetQuarters: fc.integer({ min: -14 * 4, max: 14 * 4 }),
      }),
    },
    { weight: 2, arbitrary: oddTimes.map((text) => ({ kind: "odd" as const, text })) },
  ),
  properties: fc.array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(...prototypeNames),
        anyText(30).filter((name) => name.length >= 1 && name !== "url"),
      ),
      fc.oneof(anyText(80), fc.integer(), fc.boolean(), fc.constant(null)),
    ),
    { maxLength: 5 },
  ),
  url: fc.oneof(
    fc.constant("https://example.com/pricing"),
    anyText(200).map((text) => `https://example.com/${text}`),
  ),
  idExtra: anyText(30),
});

const eventFaults = [
  "none",
  "no-key",
  "wrong-key",
  "content-type",
  "not-json",
  "too-many",
  "duplicate-id",
  "unknown-type",
  "extra-key",
  "missing-id",
  "empty-batch",
  "nested-property",
  "array-body",
  "future",
] as const;

export interface EventsSpec {
  kind: "events";
  target: "anchor" | "unknown-lead" | "long-id";
  anchor: number;
  events: EventSpec[];
  batch: boolean;
  fault: (typeof eventFaults)[number];
  resend: boolean;
}

export const eventsSpec: fc.Arbitrary<EventsSpec> = fc.record({
  kind: fc.constant("events" as const),
  target: fc.constantFrom("anchor", "anchor", "anchor", "anchor", "anchor", "anchor", "unknown-lead", "long-id"),
  anchor: fc.nat(1_000),
  events: fc.array(eventSpec, { minLength: 1, maxLength: 4 }),
  batch: fc.boolean(),
  fault: fc.oneof(
    { weight: 12, arbitrary: fc.constant("none" as const) },
    { weight: 6, arbitrary: fc.constantFrom(...eventFaults) },
  ),
  resend: fc.nat(4).map((value) => value === 0),
});

function eventTime(at: EventSpec["at"], now: number): string {
  if (at.kind === "odd") return at.text;
  const minutes = at.offsetQuarters * 15;
  const local = new Date(now - at.secondsAgo * 1000 + minutes * 60_000).toISOString().slice(0, 19);
  const sign = minutes < 0 ? "-" : "+";
  const zone = `${sign}${String(Math.floor(Math.abs(minutes) / 60)).padStart(2, "0")}:${String(Math.abs(minutes) % 60).padStart(2, "0")}`;
  return `${local}${minutes === 0 ? "Z" : zone}`;
}

export function planEvents(spec: EventsSpec, tag: CaseTag, secrets: FuzzSecrets): PlannedCase {
  const batch =
    spec.batch || spec.events.length > 1 || ["too-many", "duplicate-id", "empty-batch"].includes(spec.fault);
  const bodyFor = (now: number): string => {
    const events = spec.events.map((event, position) => {
      const properties = Object.fromEntries(
        event.type === "page_view" ? [...event.properties, ["url", event.url]] : event.properties,
      );
      const entries: [string, unknown][] = [
        ["id", `${event.idExtra} ev-${tag.run}-${tag.index}-${position}`],
        ["type", spec.fault === "unknown-type" ? "teleported" : event.type],
        ["at", spec.fault === "future" ? new Date(now + 3_600_000).toISOString() : eventTime(event.at, now)],
        ["properties", spec.fault === "nested-property" ? { deep: { a: 1 } } : properties],
      ];
      if (spec.fault === "extra-key") entries.push(["score", 100]);
      return `{${entries
        .filter(([name]) => !(spec.fault === "missing-id" && name === "id"))
        .map(([name, value]) => `${JSON.stringify(name)}:${propertiesJson(value)}`)
        .join(",")}}`;
    });
    if (spec.fault === "too-many") while (events.length <= 100) events.push(events[0] ?? "{}");
    if (spec.fault === "duplicate-id") events.push(events[0] ?? "{}");
    if (spec.fault === "array-body") return `[${events.join(",")}]`;
    const body =
      spec.fault === "empty-batch" ? '{"events":[]}' : batch ? `{"events":[${events.join(",")}]}` : (events[0] ?? "{}");
    return spec.fault === "not-json" ? body.slice(0, -1) : body;
  };
  const leadFor = (context: SendContext) => {
    if (spec.target === "unknown-lead") return `no-such-lead-${tag.run}-${tag.index}`;
    if (spec.target === "long-id") return "l".repeat(129);
    return context.anchors[spec.anchor % context.anchors.length] ?? "none";
  };
  const call = (context: SendContext): HttpCall => ({
    method: "POST",
    path: `/leads/${encodeURIComponent(leadFor(context))}/events`,
    headers: [
      ...(spec.fault === "no-key" ? [] : keyHeaders(spec.fault === "wrong-key" ? "wrong" : "right", secrets)),
      ["content-type", spec.fault === "content-type" ? "text/plain" : "application/json"],
    ],
    body: bodyFor(context.now),
  });
  const expected = ((): Expected => {
    if (spec.fault === "no-key" || spec.fault === "wrong-key") return mustRefuse(401);
    if (spec.target === "long-id") return mustRefuse(422);
    if (spec.fault === "content-type") return mustRefuse(415);
    if (spec.fault === "not-json") return mustRefuse(400);
    if (spec.fault !== "none") return mustRefuse(422);
    // Text real SQS refuses leaves the contract open, as for leads (fuzz-oracle.ts).
    const odd = spec.events.some((event) => event.at.kind === "odd") || hasTextSqsRefuses(bodyFor(Date.now()));
    if (spec.target !== "anchor") return odd ? mustRefuse(404, 400, 422) : mustRefuse(404);
    return odd ? either([202], [400, 422]) : mustAccept(202);
  })();
  const times = spec.events.map((event) => (event.at.kind === "odd" ? event.at.text : "recent")).join(", ");
  const what =
    `events, ${spec.events.length} (${spec.events.map((event) => event.type).join(", ")}; at ${times}) for ${spec.target}` +
    `${batch ? " as a batch" : ""}${spec.fault === "none" ? "" : `, ${spec.fault}`}`;
  const request: PlannedRequest = {
    route: "POST /leads/{id}/events",
    what,
    call,
    expected,
    ...(spec.target === "anchor" ? { events: { anchor: spec.anchor } } : {}),
  };
  return { requests: spec.resend ? [request, { ...request, what: `${what}, sent again` }] : [request] };
}

/** JSON text; an object's own `__proto__` key is written like any other. */
function propertiesJson(value: unknown): string {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    return `{${Object.entries(value)
      .map(([name, item]) => `${JSON.stringify(name)}:${propertiesJson(item)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------
// GET /health, and paths no route serves

export interface HealthSpec {
  kind: "health";
}
export const healthSpec: fc.Arbitrary<HealthSpec> = fc.constant({ kind: "health" as const });

export function planHealth(): PlannedCase {
  const call = (): HttpCall => ({ method: "GET", path: "/health", headers: [] });
  return { requests: [{ route: "GET /health", what: "health probe", call, expected: mustAccept(200) }] };
}

export interface NoRouteSpec {
  kind: "no-route";
  method: string;
  path: string;
}

export const noRouteSpec: fc.Arbitrary<NoRouteSpec> = fc.record({
  kind: fc.constant("no-route" as const),
  method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"),
  path: fc.oneof(
    fc.constantFrom(
      "/",
      "/webhooks",
      "/webhooks/form/extra",
      "/leads/x/convert",
      "/HEALTH",
      "/health/",
      "/leads/x/events/y",
    ),
    anyText(30).map((text) => `/nope/${encodeURIComponent(text)}`),
  ),
});

export function planNoRoute(spec: NoRouteSpec): PlannedCase {
  // GET /leads/x/convert has no route in this release; POST /health and PUT /webhooks/... neither.
  const call = (): HttpCall => ({ method: spec.method, path: spec.path, headers: [] });
  return {
    requests: [
      { route: "(no such route)", what: `${spec.method} ${spec.path.slice(0, 60)}`, call, expected: mustRefuse(404) },
    ],
  };
}
