export { createEntities, type Entities } from "./entities.ts";
export { createLeadStore, type LeadStore, LeadTooLargeError } from "./leads.ts";
export { createNurtureStore, dueShards, type NurtureTableStore } from "./nurture.ts";
export { createOutboundStore, type LedgerClaim, type LedgerMessage, type OutboundStore } from "./outbound.ts";
export { createRoutingStore, type RoutingStore } from "./routing.ts";
export { createTableInput, tableDefinition } from "./table.ts";
