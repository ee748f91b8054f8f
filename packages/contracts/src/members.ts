import { z } from 'zod';

// Who belongs to a memorial (API.md "Who may do what"): its owner, who made it, and the organisers
// the owner invited by email.

export const MemberRole = z.enum(['owner', 'organiser']).meta({ id: 'MemberRole' });
export type MemberRole = z.infer<typeof MemberRole>;

export const Member = z
  .object({
    account_id: z.string(),
    email: z.string(),
    name: z.string(),
    role: MemberRole,
    created_at: z.string(),
  })
  .meta({ id: 'Member' });
export type Member = z.infer<typeof Member>;

export const MemberList = z.object({ items: z.array(Member) }).meta({ id: 'MemberList' });

/** Trimmed and lower-cased like a sign-in's address, so the invited person signs in to this account. */
export const InviteOrganiserRequest = z.object({ email: z.string().trim().toLowerCase().pipe(z.email().max(254)) }).meta({ id: 'InviteOrganiserRequest' });
export type InviteOrganiserRequest = z.infer<typeof InviteOrganiserRequest>;
