import { httpHandler, json } from "@leadflow/lambda";

/** GET /health */
export const handler = httpHandler(async () => json(200, { status: "ok" }));
