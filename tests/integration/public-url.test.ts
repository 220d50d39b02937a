import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

/** PUBLIC_URL, the base of links in messages: set directly (npm start), or read from SSM (AWS). */

const parameterName = "/leadflow/test/public-url";
const requests: { target: string | undefined; name: string }[] = [];
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    const { Name } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { Name: string };
    requests.push({ target: request.headers["x-amz-target"] as string | undefined, name: Name });
    response.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
    response.end(
      JSON.stringify({
        Parameter: { Name, Type: "String", Value: "https://abc123.execute-api.us-east-1.amazonaws.com/" },
      }),
    );
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  vi.stubEnv("AWS_REGION", "us-east-1");
  vi.stubEnv("AWS_ACCESS_KEY_ID", "local");
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "local");
  vi.stubEnv("AWS_ENDPOINT_URL_SSM", `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await new Promise((resolve) => server.close(resolve));
});

describe("publicUrl", () => {
  it("is PUBLIC_URL when set (npm start sets the local server's URL), without a trailing slash", async () => {
    const { publicUrl } = await import("@leadflow/lambda");
    vi.stubEnv("PUBLIC_URL", "http://localhost:3000/");
    vi.stubEnv("PUBLIC_URL_PARAMETER", parameterName);
    expect(await publicUrl()).toBe("http://localhost:3000");
    expect(requests).toEqual([]);
  });

  it("is read once from the SSM parameter PUBLIC_URL_PARAMETER names (the API's URL, on AWS)", async () => {
    const { publicUrl } = await import("@leadflow/lambda");
    vi.stubEnv("PUBLIC_URL", undefined);
    vi.stubEnv("PUBLIC_URL_PARAMETER", parameterName);
    expect(await publicUrl()).toBe("https://abc123.execute-api.us-east-1.amazonaws.com");
    expect(await publicUrl()).toBe("https://abc123.execute-api.us-east-1.amazonaws.com");
    expect(requests).toEqual([{ target: "AmazonSSM.GetParameter", name: parameterName }]);
  });

  it("fails as a configuration error when the function's manifest entry did not ask for it", async () => {
    const { ConfigurationError, publicUrl } = await import("@leadflow/lambda");
    vi.stubEnv("PUBLIC_URL", undefined);
    vi.stubEnv("PUBLIC_URL_PARAMETER", undefined);
    await expect(publicUrl()).rejects.toBeInstanceOf(ConfigurationError);
  });
});
