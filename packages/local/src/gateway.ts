import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { localAccountId } from "./development.ts";
import { type LambdaHandler, lambdaContext } from "./lambda-runtime.ts";
import type { requestActivity } from "./yielding.ts";

export interface GatewayRoute {
  /** As in the manifest: `POST /webhooks/{source}`. */
  routeKey: string;
  functionName: string;
  handler: LambdaHandler;
  timeoutSeconds: number;
}

/** API Gateway HTTP APIs refuse bodies over 10 MB themselves. */
const maxPayloadBytes = 10 * 1024 * 1024;
const textContentType = /^(text\/|application\/(json|xml|javascript)\b|[^;]*\+(json|xml)\b)/i;

interface CompiledRoute extends GatewayRoute {
  method: string;
  pattern: RegExp;
  parameterNames: string[];
}

/** A development tool served beside the API under a path prefix (e.g. the Meta Graph stand-in). */
export type LocalTool = (request: IncomingMessage, response: ServerResponse, path: string) => Promise<void>;

/**
 * API Gateway (HTTP API, payload format 2.0) on one machine: each request becomes the event
 * AWS would send, for the very handler AWS would run. It listens first and serves routes once
 * they are loaded, so the handlers' environment can name its URL. Routes and local tools alike
 * answer only requests whose `Host` names this machine (see `localHosts`).
 */
export async function startGateway(port: number, activity?: ReturnType<typeof requestActivity>, host = "127.0.0.1") {
  let routes: CompiledRoute[] | undefined;
  const tools = new Map<string, LocalTool>();
  const answering = new Set<ServerResponse>();
  let closing = false;
  let ownHosts: ReadonlySet<string> = new Set();

  async function dispatch(request: IncomingMessage, response: ServerResponse) {
    if (!ownHosts.has(request.headers.host?.toLowerCase() ?? "")) {
      // The body is never read: the connection closes with the answer.
      response.shouldKeepAlive = false;
      return send(response, errorResult(403, "forbidden", "This server answers only requests for localhost"));
    }
    if (closing) return send(response, errorResult(503, "stopping", "leadflow is stopping"));
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    for (const [prefix, tool] of tools)
      if (path.startsWith(prefix)) return tool(request, response, path.slice(prefix.length));
    if (!routes) return send(response, errorResult(503, "starting", "leadflow is starting; retry in a moment"));
    // Only API traffic makes the worker yield, not the local tools (which the worker itself calls).
    activity?.started();
    response.once("close", () => activity?.finished());
    return handle(routes, request, response);
  }

  const server = createServer((request, response) => {
    answering.add(response);
    response.once("close", () => answering.delete(response));
    if (closing) response.shouldKeepAlive = false;
    dispatch(request, response).catch((error: unknown) => {
      console.error("gateway: request failed", error);
      if (!response.headersSent) send(response, errorResult(500, "internal_error", "The local gateway failed"));
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, host, resolve));
  const address = server.address() as AddressInfo;
  ownHosts = localHosts(address.port);

  return {
    port: address.port,
    url: `http://localhost:${address.port}`,
    serve(loaded: readonly GatewayRoute[]) {
      // As API Gateway: a literal path wins over a `{param}` (POST /webhooks/sms-inbound over
      // POST /webhooks/{source}), whatever the order routes are listed in.
      routes = loaded.map(compileRoute).sort((a, b) => a.parameterNames.length - b.parameterNames.length);
    },
    mount(prefix: string, tool: LocalTool) {
      tools.set(prefix, tool);
    },
    /**
     * Stops accepting requests and lets those under way finish (their connections then close,
     * keep-alive or not); after `graceMs` whatever is left is cut.
     */
    close: (graceMs = 5_000) =>
      new Promise<void>((resolve) => {
        closing = true;
        for (const response of answering) if (!response.headersSent) response.shouldKeepAlive = false;
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearInterval(sweep);
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

/**
 * The `Host` values this gateway answers: a loopback name with its own port, or without one
 * only on port 80, where HTTP leaves it out. Anything else is another site's page reaching in
 * (a form post, or a DNS-rebinding name that resolves to 127.0.0.1), and gets 403.
 */
export function localHosts(port: number): ReadonlySet<string> {
  const names = ["localhost", "127.0.0.1", "[::1]"];
  return new Set([...names.map((name) => `${name}:${port}`), ...(port === 80 ? names : [])]);
}

async function handle(routes: readonly CompiledRoute[], request: IncomingMessage, response: ServerResponse) {
  const url = new URL(request.url ?? "/", "http://localhost");
  const method = request.method ?? "GET";
  const match = findRoute(routes, method, url.pathname);
  const body = await readBody(request);
  if (body === undefined) return send(response, errorResult(413, "payload_too_large", "Request entity too large"));
  if (!match) return send(response, errorResult(404, "not_found", `No route for ${method} ${url.pathname}`));
  if (match === "malformed")
    return send(response, errorResult(400, "invalid_request", "The path is not valid URL encoding"));

  const event = toEvent(request, url, body, match.route.routeKey, match.pathParameters);
  const result = (await match.route.handler(
    event,
    lambdaContext(match.route.functionName, match.route.timeoutSeconds),
  )) as APIGatewayProxyStructuredResultV2 | string;
  send(
    response,
    typeof result === "string" ? { statusCode: 200, body: result } : result,
    event.requestContext.requestId,
  );
}

function compileRoute(route: GatewayRoute): CompiledRoute {
  const [method = "GET", path = "/"] = route.routeKey.split(" ");
  const parameterNames: string[] = [];
  const source = path.replace(/\{([^}]+)\}/g, (_match, name: string) => {
    parameterNames.push(name);
    return "([^/]+)";
  });
  return { ...route, method, pattern: new RegExp(`^${source}$`), parameterNames };
}

function findRoute(routes: readonly CompiledRoute[], method: string, path: string) {
  for (const route of routes) {
    if (route.method !== method) continue;
    const found = route.pattern.exec(path);
    if (!found) continue;
    try {
      const values = route.parameterNames.map((name, index) => [name, decodeURIComponent(found[index + 1] as string)]);
      return { route, pathParameters: Object.fromEntries(values) as Record<string, string> };
    } catch {
      return "malformed" as const;
    }
  }
  return undefined;
}

/** The body, or undefined when it is over API Gateway's limit. */
async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxPayloadBytes) {
      request.resume();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

function toEvent(
  request: IncomingMessage,
  url: URL,
  body: Buffer,
  routeKey: string,
  pathParameters: Record<string, string>,
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams)
    query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
  const isText = textContentType.test(headers["content-type"] ?? "");
  const now = Date.now();
  return {
    version: "2.0",
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(url.search ? { queryStringParameters: query } : {}),
    ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    requestContext: {
      accountId: localAccountId,
      apiId: "local",
      domainName: headers.host ?? "localhost",
      domainPrefix: "localhost",
      http: {
        method: request.method ?? "GET",
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey,
      stage: "$default",
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(body.length > 0 ? { body: body.toString(isText ? "utf8" : "base64") } : {}),
    isBase64Encoded: body.length > 0 && !isText,
  };
}

function send(response: ServerResponse, result: APIGatewayProxyStructuredResultV2, requestId?: string) {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  if (result.cookies?.length) headers["set-cookie"] = result.cookies;
  if (requestId) headers["apigw-requestid"] = requestId;
  const body = result.body === undefined ? "" : Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8");
  response.writeHead(result.statusCode ?? 200, headers).end(body);
}

function errorResult(statusCode: number, code: string, message: string): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ error: { code, message, details: null } }),
  };
}
