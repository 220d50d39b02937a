/**
 * The fuzz test's vocabulary: a generated case becomes one or more planned HTTP requests, each
 * with what the contract says its answer must be, and the platform leads or events it carries.
 */
import type { Identity } from "./fuzz-oracle.ts";

export const fuzzRoutes = [
  "POST /webhooks/{source}",
  "GET /webhooks/{source}",
  "GET /leads",
  "GET /leads/{id}",
  "POST /leads/{id}/events",
  "GET /health",
  "(no such route)",
] as const;
export type FuzzRoute = (typeof fuzzRoutes)[number];

export interface HttpCall {
  method: string;
  path: string;
  /** In order; a name may repeat (a duplicated header) and keeps the case it was written in. */
  headers: [string, string][];
  body?: string;
}

/**
 * The answers the contract allows. `accepted` statuses mean the request's leads must be stored
 * and its events applied; `refused` ones that none of them may be. A case the contract leaves
 * open lists both.
 */
export interface Expected {
  accepted: readonly number[];
  refused: readonly number[];
}

export const mustAccept = (...statuses: number[]): Expected => ({ accepted: statuses, refused: [] });
export const mustRefuse = (...statuses: number[]): Expected => ({ accepted: [], refused: statuses });
export const either = (accepted: readonly number[], refused: readonly number[]): Expected => ({ accepted, refused });

/** One lead as a platform identifies it; stored under `identity` if any request carrying it is accepted. */
export interface PlatformLead {
  source: "form" | "meta" | "google-ads";
  platformLeadId: string;
  /** Undefined: the lead has no valid email or phone, so nothing may be stored for it. */
  identity: Identity | undefined;
  /** Groups the deliveries of one person (several sources); defaults to the identity. */
  person?: string;
}

/** What a request needs at send time. */
export interface SendContext {
  now: number;
  /** Ids of the leads created before the run, for the events and read routes. */
  anchors: readonly string[];
}

export interface PlannedRequest {
  route: FuzzRoute;
  /** Short, human: names the case in a failure message. */
  what: string;
  /** Built when sent, so that signatures carry a fresh timestamp; a replay reuses the first call. */
  call: (context: SendContext) => HttpCall;
  /** Read after `call`; a function when it depends on the time (an exact replay of an old delivery). */
  expected: Expected | ((context: SendContext) => Expected);
  leads?: readonly PlatformLead[];
  /** Events sent to anchor lead `anchor`; applied if accepted (the ids come from the answer). */
  events?: { anchor: number };
  /** The index of the generated case it comes from, to replay and shrink that case. */
  caseIndex?: number;
  /** Checks an accepted answer's body; returns what is wrong with it. */
  checkBody?: (body: string) => string | undefined;
}

/** A Meta lead the Graph stand-in must know before the delivery naming it is sent. */
export interface GraphLeadPlan {
  leadgenId: string;
  fieldData: [name: string, value: string][];
}

/** One generated case, planned: its requests, in the order a platform would send them. */
export interface PlannedCase {
  requests: PlannedRequest[];
  graphLeads?: GraphLeadPlan[];
}

/** What makes each run's identifiers unique: the run id, and the case's index in the run. */
export interface CaseTag {
  run: string;
  index: number;
}

/** Memoises `build` so that an exact replay sends the very same bytes as the first request. */
export function once(build: (context: SendContext) => HttpCall) {
  let first: { call: HttpCall; at: number } | undefined;
  return {
    call(context: SendContext): HttpCall {
      first ??= { call: build(context), at: context.now };
      return first.call;
    },
    signedAt: () => first?.at,
  };
}
