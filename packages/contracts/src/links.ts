import { z } from 'zod';

// Share links (API.md "Share links (capability links)"): a view link to watch the finished video, a
// contribute link to add photos without an account. The key is the credential; it is shown once.

export const ShareLinkKind = z.enum(['view', 'contribute']).meta({ id: 'ShareLinkKind' });
export type ShareLinkKind = z.infer<typeof ShareLinkKind>;

export const CreateShareLinkRequest = z
  .object({
    kind: ShareLinkKind,
    label: z.string().trim().min(1).max(100).nullish(),
    expires_at: z.iso
      .datetime({ offset: true })
      .nullish()
      .refine((s) => !s || Date.parse(s) > Date.now(), 'must be in the future'),
    password: z.string().min(4).max(200).nullish(),
    allow_download: z.boolean().optional().meta({ description: 'View links only (default false)' }),
    moderated: z.boolean().optional().meta({ description: 'Contribute links only (default true): members approve each photo first' }),
  })
  .refine((b) => b.kind === 'view' || b.allow_download === undefined, { message: 'only a view link allows downloads', path: ['allow_download'] })
  .refine((b) => b.kind === 'contribute' || b.moderated === undefined, { message: 'only a contribute link is moderated', path: ['moderated'] })
  .meta({ id: 'CreateShareLinkRequest' });
export type CreateShareLinkRequest = z.infer<typeof CreateShareLinkRequest>;

/** A link as listed: never its key. */
export const ShareLink = z
  .object({
    id: z.string(),
    kind: ShareLinkKind,
    label: z.string().nullable(),
    expires_at: z.string().nullable(),
    allow_download: z.boolean(),
    moderated: z.boolean(),
    has_password: z.boolean(),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    use_count: z.number().int(),
  })
  .meta({ id: 'ShareLink' });
export type ShareLink = z.infer<typeof ShareLink>;

/** The link just made, with its `url` (`<origin>/#/s/<key>`): the only time the key is shown. */
export const CreatedShareLink = ShareLink.extend({ url: z.string() }).meta({ id: 'CreatedShareLink' });
export type CreatedShareLink = z.infer<typeof CreatedShareLink>;

export const ShareLinkList = z.object({ items: z.array(ShareLink) }).meta({ id: 'ShareLinkList' });

/** What a link holder sees: the memorial's names and dates, and the video through short-lived signed URLs. */
export const SharedView = z
  .object({
    kind: ShareLinkKind,
    project: z.object({ title: z.string(), subject_name: z.string().nullable(), born: z.string().nullable(), died: z.string().nullable() }),
    video: z
      .object({
        url: z.string().meta({ description: 'A signed URL, valid for minutes; a <video> plays it with Range requests' }),
        poster_url: z.string().nullable(),
        duration_seconds: z.number(),
      })
      .nullable(),
    can_download: z.boolean(),
    can_upload: z.boolean(),
  })
  .meta({ id: 'SharedView' });
export type SharedView = z.infer<typeof SharedView>;

/** Who added a photo through a contribute link, as they typed it. */
export const ContributorName = z.string().trim().min(1).max(100);
