// Creating a memorial: a title (required), a name and life dates, and three choices for the video.
import { ErrorNotice } from '../common.js';
import { api } from '../lib/api.js';
import { getLang, t } from '../lib/i18n.js';
import { focusSoon, setTitle, useHeadingFocus } from '../lib/page.js';
import { html, useEffect, useState } from '../lib/ui.js';

const DATE_RE = /^\d{4}(-\d{2}-\d{2})?$/;
const FIELD_IDS = { title: 'f-title', subject_name: 'f-name', born: 'f-born', died: 'f-died' };
const START = { title: '', subject_name: '', born: '', died: '', transition_seconds: '6', resolution: '1080p', transition_style: 'auto' };

function RadioGroup({ name, legend, options, value, onChange }) {
  return html`<fieldset class="choices">
    <legend>${legend}</legend>
    <div class="choice-row">
      ${options.map(([v, label, hint]) => {
        const id = `${name}-${v}`;
        return html`<div class="choice" key=${v}>
          <input type="radio" name=${name} id=${id} value=${v} checked=${v === value} aria-describedby=${`${id}-hint`} onChange=${() => onChange(name, v)} />
          <label for=${id}><span class="choice-label">${label}</span><span class="choice-hint" id=${`${id}-hint`}>${hint}</span></label>
        </div>`;
      })}
    </div>
  </fieldset>`;
}

/** A labelled text input with its hint and its error line (described by both). */
function TextField({ name, label, hint, describedBy, error, value, onInput, ...attrs }) {
  const id = FIELD_IDS[name];
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${hint ? html`<p class="hint" id=${`${id}-hint`}>${hint}</p>` : ''}
    <input id=${id} name=${name} value=${value} autocomplete="off" aria-invalid=${error ? 'true' : null}
      aria-describedby=${describedBy ?? `${hint ? `${id}-hint ` : ''}${id}-error`} onInput=${(e) => onInput(name, e.currentTarget.value)} ...${attrs} />
    <p class="field-error" id=${`${id}-error`} hidden=${!error}>${error ?? ''}</p>
  </div>`;
}

/** The form's own checks, in the order of the fields: { field: message }. */
function check(v) {
  const title = v.title.trim();
  const born = v.born.trim();
  const died = v.died.trim();
  const errors = {};
  if (!title) errors.title = t('create.errTitle');
  if (born && !DATE_RE.test(born)) errors.born = t('create.errDate');
  if (died && !DATE_RE.test(died)) errors.died = born && died.slice(0, 4) < born.slice(0, 4) ? t('create.errOrder') : t('create.errDate');
  else if (!errors.born && born && died && died < born) errors.died = t('create.errOrder');
  return errors;
}

function requestBody(v) {
  const body = { title: v.title.trim(), transition_seconds: Number(v.transition_seconds), resolution: v.resolution, transition_style: v.transition_style };
  for (const k of ['subject_name', 'born', 'died']) if (v[k].trim()) body[k] = v[k].trim();
  return body;
}

export function CreateView() {
  const [values, setValues] = useState(START);
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [sending, setSending] = useState(false);
  useEffect(() => setTitle(t('create.title')), [getLang()]);
  useHeadingFocus(true);

  const set = (name, value) => {
    setValues((v) => ({ ...v, [name]: value }));
    // A message about a field goes away as soon as it is being corrected.
    if (errors[name]) setErrors((e) => ({ ...e, [name]: null }));
  };

  const submit = async (ev) => {
    ev.preventDefault();
    setError(null);
    const bad = check(values);
    setErrors(bad);
    const first = Object.keys(FIELD_IDS).find((k) => bad[k]);
    if (first) return focusSoon(`#${FIELD_IDS[first]}`);
    setSending(true);
    try {
      const p = await api('POST', '/projects', requestBody(values));
      location.hash = `#/m/${p.id}`;
    } catch (e) {
      setSending(false);
      const field = e.details?.field;
      if (FIELD_IDS[field]) {
        setErrors({ [field]: e.message });
        focusSoon(`#${FIELD_IDS[field]}`);
      } else setError(e);
    }
  };

  const text = { onInput: set };
  return html`
    <div class="page-head"><div><h1 tabindex="-1">${t('create.title')}</h1><p class="lead">${t('create.intro')}</p></div></div>
    <form class="panel form" novalidate onSubmit=${submit}>
      <${TextField} ...${text} name="title" label=${t('create.fTitle')} hint=${t('create.fTitleHint')} value=${values.title} error=${errors.title} required maxlength="200" />
      <${TextField} ...${text} name="subject_name" label=${t('create.fName')} hint=${t('create.fNameHint')} value=${values.subject_name} error=${errors.subject_name} maxlength="200" />
      <div class="two">
        <${TextField} ...${text} name="born" label=${t('create.fBorn')} describedBy="f-date-hint f-born-error" value=${values.born} error=${errors.born} inputmode="numeric" maxlength="10" placeholder="1941" />
        <${TextField} ...${text} name="died" label=${t('create.fDied')} describedBy="f-date-hint f-died-error" value=${values.died} error=${errors.died} inputmode="numeric" maxlength="10" placeholder="2026" />
      </div>
      <p class="hint" id="f-date-hint">${t('create.fDateHint')}</p>
      <${RadioGroup} name="transition_seconds" legend=${t('create.fLength')} value=${values.transition_seconds} onChange=${set}
        options=${[['6', t('create.len6'), t('create.len6Hint')], ['10', t('create.len10'), t('create.len10Hint')]]} />
      <${RadioGroup} name="resolution" legend=${t('create.fResolution')} value=${values.resolution} onChange=${set}
        options=${[['720p', t('create.res720'), t('create.res720Hint')], ['1080p', t('create.res1080'), t('create.res1080Hint')]]} />
      <${RadioGroup} name="transition_style" legend=${t('create.fStyle')} value=${values.transition_style} onChange=${set}
        options=${[['auto', t('create.styleAuto'), t('create.styleAutoHint')], ['generative', t('create.styleGenerative'), t('create.styleGenerativeHint')], ['classic', t('create.styleClassic'), t('create.styleClassicHint')]]} />
      <div><${ErrorNotice} error=${error} onClose=${() => setError(null)} /></div>
      <div class="actions">
        <button type="submit" class="btn btn-primary" id="create-submit" disabled=${sending}>${t('create.submit')}</button>
        <a class="btn btn-quiet" href="#/">${t('create.cancel')}</a>
      </div>
    </form>`;
}
