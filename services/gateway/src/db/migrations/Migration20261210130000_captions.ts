import { Migration } from '@mikro-orm/migrations';

/**
 * Photo captions (issue 13): a photo's caption (at most 200 characters, checked by the API and here)
 * and a memorial's caption style (`lower_third` shows them over the lower part of each photo, `off`
 * shows none).
 */
export class Migration20261210130000_captions extends Migration {
  override name = 'Migration20261210130000_captions';

  override up(): void {
    this.addSql(`alter table assets add column caption text check (char_length(caption) between 1 and 200)`);
    this.addSql(`alter table projects add column caption_style text not null default 'lower_third' check (caption_style in ('lower_third', 'off'))`);
  }

  override down(): void {
    this.addSql(`alter table assets drop column caption`);
    this.addSql(`alter table projects drop column caption_style`);
  }
}
