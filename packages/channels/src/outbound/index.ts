export * from "./deliver.ts";
export * from "./message.ts";
export * from "./send.ts";
