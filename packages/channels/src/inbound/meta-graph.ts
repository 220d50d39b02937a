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

/** The Graph API did not give us the lead. */
export class GraphApiError extends Error {
  override readonly name = "GraphApiError";
  /**
   * True when no retry can help (Graph error 100: the lead does not exist or cannot be read);
   * the queue then dead-letters at once. Outages, rate limits and an expired token are retried,
   * so leads flow again by themselves once the cause is fixed.
   */
  readonly permanent: boolean;

  constructor(message: string, permanent = false) {
    super(message);
    this.permanent = permanent;
  }
}

const graphObjectMissing = 100;

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
      if (!response.ok) {
        const code = GraphErrorSchema.safeParse(body).data?.error.code;
        throw new GraphApiError(describeFailure(response.status, body), code === graphObjectMissing);
      }
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
