import type { Bus, Logger, Storage } from '@mt/platform';
import type { Accounts } from '../auth/accounts.js';
import type { Repositories } from '../db/index.js';
import type { JobCommands } from '../job-commands.js';
import type { JobRequests } from '../job-requests.js';
import type { LinkSettings } from './shared.js';

/** What the route modules use; built once by createGateway. */
export interface RouteDeps {
  repos: Repositories;
  storage: Storage;
  jobs: JobCommands;
  requests: JobRequests;
  bus: () => Bus | null;
  log: Logger;
  /** Makes a photo's thumbnail from its local file and stores it: the object key. */
  storeThumbnail: (localPhoto: string, projectId: string, assetId: string) => Promise<string>;
  /** The thumbnail's key of a photo that has none yet (uploaded before thumbnails), made from the original. */
  ensureThumbnail: (projectId: string, assetId: string, uploadKey: string) => Promise<string>;
  /** Accounts, sign-in codes, sessions and API keys (better-auth). */
  accounts: Accounts;
  /** Share links: their page's origin, signed media URLs, upload cap and rate limits. */
  links: LinkSettings;
}
