// One memorial: loads it, then puts its parts together: heading, photos (and those added by relatives),
// music, making the video, the video with its adjustments, and sharing (invite family, share the video).
// With a video, the video comes first; before that, the photos lead.
import { ErrorNotice } from '../common.js';
import { api, TERMINAL } from '../lib/api.js';
import { getLang, t } from '../lib/i18n.js';
import { setTitle, useHeadingFocus } from '../lib/page.js';
import { html, useEffect, useState } from '../lib/ui.js';
import { MemorialHead } from './head.js';
import { useJob } from './job.js';
import { useLinks } from './links.js';
import { MakePanel } from './make.js';
import { MusicPanel, useMusic } from './music.js';
import { usePhotoTiles } from './photo-tiles.js';
import { PhotosPanel } from './photos.js';
import { RelativesPanel } from './relatives.js';
import { InvitePanel, ShareVideoPanel } from './share-panels.js';
import { VideoPanel } from './video.js';

/** The newest audio file is the music. */
const newestAudio = (assets) => assets.filter((a) => a.kind === 'audio').sort((a, b) => (a.created_at < b.created_at ? 1 : -1))[0] ?? null;

function MemorialPage({ start }) {
  const id = start.project.id;
  const [project, setProject] = useState(start.project);
  const [error, setError] = useState(null);
  const refreshProject = async () => {
    try {
      const p = await api('GET', `/projects/${encodeURIComponent(id)}`);
      setProject(p);
      return p;
    } catch {
      return null; // keep what we have
    }
  };
  const jobs = useJob({ refreshProject, setError });
  const music = useMusic(id, newestAudio(start.assets), (a) => photos.addAsset(a));
  const photos = usePhotoTiles(
    id,
    start.assets.filter((a) => a.kind === 'photo'),
    {
      onAudioFile: (f) => music.upload(f),
      onAudioAsset: (a) => music.setMusic(a),
      refreshProject,
      setError,
    },
  );
  const links = useLinks(id, setError);
  useEffect(() => setTitle(project.title), [project.title, getLang()]);
  useEffect(() => {
    // A job already running (another tab, or before a reload) is followed like one started here.
    if (start.job && !TERMINAL.has(start.job.status)) jobs.watch(start.job);
  }, []);

  const sections = {
    head: html`<${MemorialHead} key="head" project=${project} />`,
    err: html`<div key="err" class="errors"><${ErrorNotice} error=${error} onClose=${() => setError(null)} /></div>`,
    photos: html`<${PhotosPanel} key="photos" photos=${photos} busy=${jobs.busy} />`,
    music: html`<${MusicPanel} key="music" music=${music} busy=${jobs.busy} />`,
    make: html`<${MakePanel} key="make" project=${project} photoCount=${photos.photos.length} uploading=${photos.uploading} jobs=${jobs} />`,
    relatives: html`<${RelativesPanel} key="relatives" photos=${photos} busy=${jobs.busy} />`,
    invite: html`<${InvitePanel} key="invite" links=${links} />`,
    share: html`<${ShareVideoPanel} key="share" links=${links} />`,
    video: project.video ? html`<${VideoPanel} key="video" project=${project} photos=${photos.photos} jobs=${jobs} />` : null,
  };
  const order = project.video
    ? ['head', 'err', 'video', 'share', 'make', 'relatives', 'photos', 'invite', 'music']
    : ['head', 'err', 'relatives', 'photos', 'invite', 'music', 'make', 'share'];
  return order.map((k) => sections[k]);
}

export function MemorialView({ id }) {
  const [start, setStart] = useState(null); // { project, assets, job }
  const [error, setError] = useState(null);
  useEffect(() => {
    let alive = true;
    (async () => {
      const [project, assets] = await Promise.all([
        api('GET', `/projects/${encodeURIComponent(id)}`),
        api('GET', `/projects/${encodeURIComponent(id)}/assets`),
      ]);
      const job = project.active_job_id ? await api('GET', `/jobs/${encodeURIComponent(project.active_job_id)}`).catch(() => null) : null;
      if (alive) setStart({ project, assets: assets.items, job });
    })().catch((e) => alive && setError(e));
    return () => {
      alive = false;
    };
  }, [id]);
  useHeadingFocus(Boolean(start || error));

  if (error) return html`<h1 tabindex="-1">${t('app.name')}</h1><div class="errors"><${ErrorNotice} error=${error} onClose=${() => setError(null)} /></div>`;
  if (!start) return html`<p class="muted">${t('loading')}</p>`;
  return html`<${MemorialPage} start=${start} />`;
}
