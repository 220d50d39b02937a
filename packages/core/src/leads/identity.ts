import type { IdentityConflict } from "./lead.ts";
import type { NormalizedLead } from "./normalize.ts";

export interface Identifier {
  kind: "email" | "phone";
  value: string;
}

/**
 * Uniqueness claims on emails and phones. Each claim is one item written once, with a condition,
 * and never changed: two workers racing for the same new email end with one owner.
 */
export interface IdentityClaims {
  /** The lead that owns each identifier, for those already claimed. */
  findOwners(identifiers: readonly Identifier[]): Promise<Map<string, string>>;
  /** Claims the identifier for `leadId` unless already claimed; returns the owner either way. */
  claim(identifier: Identifier, leadId: string): Promise<string>;
}

export interface ResolvedIdentity {
  leadId: string;
  /** The id was minted here: the lead is most likely not stored yet. */
  isNew: boolean;
  /** Identifiers of this capture that already belong to another lead; left where they are. */
  conflicts: IdentityConflict[];
}

export function identifierKey({ kind, value }: Identifier): string {
  return `${kind}:${value}`;
}

/** Email first: when a capture's email and phone point at two leads, the email decides. */
export function identifiersOf(lead: Pick<NormalizedLead, "email" | "phone">): Identifier[] {
  const identifiers: Identifier[] = [];
  if (lead.email) identifiers.push({ kind: "email", value: lead.email });
  if (lead.phone) identifiers.push({ kind: "phone", value: lead.phone });
  return identifiers;
}

/**
 * The same email or phone is the same lead. A capture joins the lead that owns any of its
 * identifiers (the email first). A person never seen gets a new lead, anchored by the claim on
 * its first identifier: whoever writes that claim first decides the lead's id, and a loser joins
 * the winner. The other identifiers are then claimed for the lead; one that another lead already
 * owns stays there and is reported as a conflict. Claims never move, so no race can leave two
 * leads believing they own one email.
 */
export async function resolveIdentity(
  claims: IdentityClaims,
  identifiers: readonly Identifier[],
  newLeadId: () => string,
  /** The lead the delivery is already pinned to: it is joined whatever the identifiers say. */
  pinnedLeadId?: string,
): Promise<ResolvedIdentity> {
  const owners = await claims.findOwners(identifiers);
  let leadId = pinnedLeadId ?? identifiers.map((identifier) => owners.get(identifierKey(identifier))).find(Boolean);
  let isNew = false;
  const [anchor] = identifiers;
  if (leadId === undefined && anchor) {
    const minted = newLeadId();
    leadId = await claims.claim(anchor, minted);
    isNew = leadId === minted;
    owners.set(identifierKey(anchor), leadId);
  }
  if (leadId === undefined) throw new Error("A capture without an email or phone cannot be resolved");

  const conflicts: IdentityConflict[] = [];
  for (const identifier of identifiers) {
    const owner: string = owners.get(identifierKey(identifier)) ?? (await claims.claim(identifier, leadId));
    if (owner !== leadId) conflicts.push({ ...identifier, ownerLeadId: owner });
  }
  return { leadId, isNew, conflicts };
}
