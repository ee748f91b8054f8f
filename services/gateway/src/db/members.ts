import { randomBytes } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { MemberRole } from '@mt/contracts';

/** A member of a memorial, with the account's email and name. */
export interface MemberRow {
  project_id: string;
  account_id: string;
  email: string;
  name: string;
  role: MemberRole;
  created_at: Date;
}

const SELECT_MEMBER = `select m.project_id, m.account_id, u.email, u.name, m.role, m.created_at
  from project_members m join "user" u on u.id = m.account_id`;

/**
 * The `project_members` table: who belongs to which memorial, and in what role. The owner's row is
 * written with the memorial itself (ProjectRepo.create); organisers are added and removed here.
 */
export class MemberRepo {
  constructor(private readonly orm: MikroORM) {}

  em(): EntityManager {
    return this.orm.em.fork();
  }

  /** The account's role on the memorial; null when it is not a member (or there is no such memorial). */
  async role(projectId: string, accountId: string, em = this.em()): Promise<MemberRole | null> {
    const rows = await em.execute<{ role: MemberRole }[]>(`select role from project_members where project_id = ? and account_id = ?`, [projectId, accountId]);
    return rows[0]?.role ?? null;
  }

  /** The owner first, then organisers in the order they were invited. */
  async list(projectId: string, em = this.em()): Promise<MemberRow[]> {
    return em.execute<MemberRow[]>(`${SELECT_MEMBER} where m.project_id = ? order by m.role = 'owner' desc, m.created_at, m.account_id`, [projectId]);
  }

  async find(projectId: string, accountId: string, em = this.em()): Promise<MemberRow | null> {
    const rows = await em.execute<MemberRow[]>(`${SELECT_MEMBER} where m.project_id = ? and m.account_id = ?`, [projectId, accountId]);
    return rows[0] ?? null;
  }

  /** Adds an organiser; an account that is already a member keeps its role. Returns the member. */
  async addOrganiser(projectId: string, accountId: string, em = this.em()): Promise<MemberRow> {
    await em.execute(`insert into project_members (project_id, account_id, role) values (?, ?, 'organiser') on conflict do nothing`, [projectId, accountId]);
    return (await this.find(projectId, accountId, em))!;
  }

  /** Removes an organiser (never the owner): whether one was removed. */
  async removeOrganiser(projectId: string, accountId: string, em = this.em()): Promise<boolean> {
    const rows = await em.execute<{ account_id: string }[]>(
      `delete from project_members where project_id = ? and account_id = ? and role = 'organiser' returning account_id`,
      [projectId, accountId],
    );
    return rows.length > 0;
  }

  /**
   * The account of an email address, made when it is new (name empty, as a first sign-in by code
   * makes it), so an invited organiser signs in to the account the invitation named. The address is
   * expected normalised (trimmed, lower-cased) by the request's contract.
   */
  async accountForEmail(email: string, name = '', em = this.em()): Promise<string> {
    // The id has the shape of the sign-in library's own (32 random characters).
    const rows = await em.execute<{ id: string }[]>(
      `insert into "user" ("id", "name", "email", "emailVerified") values (?, ?, ?, false)
       on conflict ("email") do update set "email" = excluded."email" returning "id"`,
      [randomBytes(16).toString('hex'), name, email],
    );
    return rows[0]!.id;
  }
}
