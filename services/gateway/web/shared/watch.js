// The viewer's page of a view link: the memorial's names and dates, and its video through the short-
// lived signed URL the API gave (a <video> plays it, with Range, without any credential); a download
// when the family allowed it.
import { Name, nameAndYears } from '../common.js';
import { getLang, t } from '../lib/i18n.js';
import { setTitle } from '../lib/page.js';
import { html, useEffect } from '../lib/ui.js';

/** A file name the viewer's computer accepts, from the memorial's title. */
const fileName = (title) => `${title.replace(/[\\/:*?"<>|]+/g, ' ').trim() || 'memorial'}.mp4`;

export function SharedHead({ project }) {
  const sub = nameAndYears(project, 'subject');
  return html`<div class="page-head">
    <div>
      <h1 id="share-h" tabindex="-1"><${Name} text=${project.title} /></h1>
      ${sub ? html`<p class="lead">${sub}</p>` : ''}
    </div>
  </div>`;
}

export function WatchView({ shared }) {
  const { project, video } = shared;
  useEffect(() => setTitle(project.title), [project.title, getLang()]);
  return html`<${SharedHead} project=${project} />
    <section class="panel" aria-labelledby="watch-h">
      <h2 id="watch-h">${t('m.video')}</h2>
      ${
        video
          ? html`<div class="player">
              <video id="shared-player" controls preload="metadata" playsinline poster=${video.poster_url ?? null} src=${video.url}
                aria-label=${t('m.videoLabel', { title: project.title })}></video>
            </div>
            ${
              shared.can_download
                ? html`<div class="actions"><a class="btn btn-primary" id="shared-download" href=${video.url} download=${fileName(project.title)}>${t('m.download')}</a></div>`
                : ''
            }`
          : html`<p class="empty" id="no-video">${t('share.noVideo')}</p>`
      }
      <p class="muted small share-note">${t('share.viewNote')}</p>
    </section>`;
}
