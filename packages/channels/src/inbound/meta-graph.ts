import { z } from "zod";

/** A lead as `GET /{leadgen_id}` returns it. */
const GraphLeadSchema = z.object({
  id: z.string(),
  created_time: z.string().optional(),
  ad_id: z.string().optional(),
  form_id: z.string().optional(),
  campaign_id: z.string().optional(),
  field_data: z.array(z.object({ name: z.string(), values: z.array(z.string()).default([]) })).default([]),
});
export type GraphLead = z.infer<typeof GraphLeadSchema>;

const GraphErrorSchema = z.object({
  error: z.object({ message: z.string().optional(), type: z.string().optional(), code: z.number().optional() }),
});

/**
 * The Graph API did not give us the lead. Always retried through the queue: outages, rate
 * limits and an expired token pass, and Graph's "does not exist" (100, subcode 33) is also its
 * answer to a token missing `leads_retrieval`, so leads flow again once the cause is fixed. What
 * outlasts the retries is dead-lettered with this message.
 */
export class GraphApiError extends Error {
  override readonly name = "GraphApiError";
}

export interface MetaGraphClient {
  fetchLead(leadgenId: string): Promise<GraphLead>;
}

export interface MetaGraphOptions {
  /** e.g. https://graph.facebook.com/v23.0; a local stand-in in tests. */
  baseUrl: string;
  accessToken: string;
  timeoutMs?: number;
}

export function metaGraphClient({ baseUrl, accessToken, timeoutMs = 10_000 }: MetaGraphOptions): MetaGraphClient {
  const base = baseUrl.replace(/\/+$/, "");
  return {
    async fetchLead(leadgenId) {
      const url = `${base}/${encodeURIComponent(leadgenId)}?access_token=${encodeURIComponent(accessToken)}`;
      let response: Response;
      try {
        response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      } catch (error) {
        throw new GraphApiError(`Graph API unreachable: ${(error as Error).name}`);
      }
      const body: unknown = await response.json().catch(() => undefined);
      if (!response.ok) throw new GraphApiError(describeFailure(response.status, body));
      const lead = GraphLeadSchema.safeParse(body);
      if (!lead.success) throw new GraphApiError(`Graph API answered an unexpected lead shape (${response.status})`);
      return lead.data;
    },
  };
}

function describeFailure(status: number, body: unknown): string {
  const parsed = GraphErrorSchema.safeParse(body);
  if (!parsed.success) return `Graph API answered ${status}`;
  const { type, code, message } = parsed.data.error;
  return `Graph API answered ${status}: ${type ?? "error"} ${code ?? ""} ${message ?? ""}`.trim();
}
