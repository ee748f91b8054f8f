import type { HttpBindings } from '@hono/node-server';
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { ErrorBody } from '@mt/contracts';
import type { AccessEnv } from '../access.js';
import type { PrincipalEnv } from '../auth/principal.js';
import { validationError } from '../http-errors.js';

// Shared pieces of every route module: the one validation hook and the OpenAPI response shapes.

export type GatewayEnv = { Bindings: HttpBindings; Variables: AccessEnv['Variables'] & PrincipalEnv['Variables'] };

/** Every request that does not match its schema gets one answer: 422 naming the fields. */
export const validationHook = (result: { success: boolean; error?: { issues: readonly { path: PropertyKey[]; message: string }[] }; target?: string }) => {
  if (!result.success) throw validationError(result.error?.issues ?? [], result.target);
};

export const newRoutes = () => new OpenAPIHono<GatewayEnv>({ defaultHook: validationHook });

const ERROR_TEXT: Record<number, string> = {
  400: 'The request could not be read',
  401: 'No credential, or a bad one',
  403: 'A member whose role may not do this',
  429: "Too many attempts: wait the Retry-After header's seconds",
  404: 'No such thing (or not yours)',
  409: 'Conflicts with the current state',
  413: 'Too large',
  415: 'Unsupported media type',
  416: 'Range not satisfiable',
  422: 'Validation failed: details name the field',
  503: 'A dependency is unavailable',
};
export const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [c, { description: ERROR_TEXT[c] ?? 'Error', content: { 'application/json': { schema: ErrorBody } } }]));
export const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
export const body = <T extends z.ZodType>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });
export const binary = (type: string, description: string) => ({ description, content: { [type]: { schema: z.string().openapi({ format: 'binary' }) } } });

export const ProjectParam = z.object({ project_id: z.string().max(64) });
/** The files of an upload form, and the caption the uploader may give them (checked again as a CaptionText). */
export const UploadForm = z.object({
  files: z.array(z.string().openapi({ format: 'binary' })),
  caption: z.string().max(200).optional().openapi({ description: 'A caption for the photos (one line, at most 200 characters)' }),
});
export const AssetParam = ProjectParam.extend({ asset_id: z.string().max(64) });
export const JobParam = z.object({ job_id: z.string().max(64) });
