import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { metaGraphStandIn } from "@leadflow/local";

/** The local Meta Graph stand-in on a port of its own, for tests without the whole stack. */
export async function startMetaGraph() {
  const handle = metaGraphStandIn();
  const server = createServer((request, response) => {
    void handle(request, response, new URL(request.url ?? "/", "http://x").pathname);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    /** What META_GRAPH_URL points at. */
    url: `${origin}/v25.0`,
    control: metaGraphControl(origin),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Steers a Meta Graph stand-in: add leads, fail every lookup, list the lookups. */
export function metaGraphControl(base: string) {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${base}${path}`, { method: "POST", body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`Meta Graph stand-in ${path} answered ${response.status}`);
  };
  return {
    addLeads: (leads: Record<string, unknown>) => post("/leads", leads),
    setOutage: (on: boolean) => post("/outage", { on }),
    calls: async () =>
      (await (await fetch(`${base}/calls`)).json()) as { leadgenId: string; accessToken: string; status: number }[],
  };
}
