// tapfido card panel: cards from GET / (JSON), switches as same-origin
// POSTs, the exchange log from the Server-Sent Events stream at /events.
'use strict';

const MAX_LOG = 500;
let lastSeq = 0;
let refreshTimer = null;
let filter = 'all';

function $(selector, root) { return (root || document).querySelector(selector); }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === 'class') node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) {
      node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    }
  }
  return node;
}

function setField(root, name, text, cls) {
  const node = $(`[data-field="${name}"]`, root);
  node.textContent = text;
  if (cls !== undefined) node.className = cls;
}

const PRESENCE = { field: 'off (field: the tap is presence)', on: 'on (touched)', withheld: 'withheld' };

function renderCard(card) {
  const id = `card-${card.slot}`;
  let node = document.getElementById(id);
  if (!node) {
    node = $('#card-template').content.firstElementChild.cloneNode(true);
    node.id = id;
    node.dataset.slot = card.slot;
    for (const button of node.querySelectorAll('button[data-action]')) {
      button.addEventListener('click', () => act(card.slot, button));
    }
    $('#cards').append(node);
    $('#filter').append(el('option', { value: String(card.slot) }, `slot ${card.slot}`));
  }
  setField(node, 'title', `Slot ${card.slot} · Virtual PCD 00 ${String(card.slot).padStart(2, '0')}`);
  const present = card.inserted && card.link === 'connected';
  setField(node, 'field', card.inserted ? (present ? 'in field' : 'in field, no reader') : 'out of field',
    'badge ' + (card.inserted ? (present ? 'in' : 'pending') : 'out'));
  node.dataset.inserted = String(card.inserted);
  node.dataset.link = card.link;
  node.dataset.touch = card.touch;
  setField(node, 'profile', card.profile);
  setField(node, 'aaguid', card.aaguid || '—');
  setField(node, 'vpcd', card.vpcd);
  setField(node, 'link', card.link);
  setField(node, 'touch', PRESENCE[card.touch] || card.touch);
  setField(node, 'apdus', String(card.apdus));
  setField(node, 'pin', card.pinSet ? `set, ${card.pinRetries} retries left` : `not set (${card.pinRetries} retries)`);
  setField(node, 'signCount', String(card.signCount));
  for (const button of node.querySelectorAll('button[data-touch]')) {
    button.classList.toggle('active', button.dataset.touch === card.touch);
  }
  const rps = $('[data-field="rps"]', node);
  rps.replaceChildren();
  if (!card.rps || card.rps.length === 0) {
    rps.append(el('div', { class: 'none' }, 'none'));
  }
  for (const rp of card.rps || []) {
    const list = el('ul');
    for (const cred of rp.credentials) {
      const who = cred.user || '(no user name)';
      const display = cred.displayName && cred.displayName !== cred.user ? ` (${cred.displayName})` : '';
      list.append(el('li', { class: 'credential' }, `${who}${display} · credProtect ${cred.credProtect} · created #${cred.created}`));
    }
    rps.append(el('div', { class: 'rp', 'data-rp': rp.rp },
      el('strong', {}, rp.rp), rp.name && rp.name !== rp.rp ? ` — ${rp.name}` : '', list));
  }
}

async function refresh() {
  const response = await fetch('/', { headers: { Accept: 'application/json' }, cache: 'no-store' });
  if (!response.ok) throw new Error(`status ${response.status}`);
  const doc = await response.json();
  $('#version').textContent = `v${doc.version}`;
  for (const card of doc.cards) renderCard(card);
}

function scheduleRefresh() {
  if (refreshTimer !== null) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    refresh().catch((err) => console.warn('status refresh failed:', err.message));
  }, 120);
}

async function act(slot, button) {
  button.disabled = true;
  try {
    const response = await fetch(`/usb${slot}/${button.dataset.action}`, { method: 'POST' });
    if (!response.ok) console.warn(`${button.dataset.action}: status ${response.status}`);
    await refresh();
  } catch (err) {
    console.warn(`${button.dataset.action} failed:`, err.message);
  } finally {
    button.disabled = false;
  }
}

function time(ms) {
  const d = new Date(ms);
  return d.toLocaleTimeString(undefined, { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

function framesHex(ev) {
  return ev.frames.map(([cmd, resp]) => `>> ${cmd}\n<< ${resp}`).join('\n');
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'copied';
  } catch (_) {
    const area = el('textarea', {}, text);
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    button.textContent = ok ? 'copied' : 'copy failed';
  }
  setTimeout(() => { button.textContent = 'copy hex'; }, 1200);
}

function cborBlock(title, cbor) {
  if (!cbor) return null;
  return el('div', {}, el('h4', {}, title), el('pre', { class: 'cbor' }, cbor.diag || `(${cbor.error})`));
}

function addEntry(node, slot) {
  node.dataset.slot = String(slot);
  node.hidden = filter !== 'all' && filter !== String(slot);
  const log = $('#log');
  log.prepend(node);
  while (log.childElementCount > MAX_LOG) log.lastElementChild.remove();
  $('#count').textContent = `${log.childElementCount} entries`;
}

function addExchange(ev) {
  const ok = ev.sw === '90 00' || ev.sw.startsWith('61');
  const ctap = ev.ctapStatus ? ` · ${ev.ctapStatus}` : '';
  const copy = el('button', { type: 'button', class: 'copy' }, 'copy hex');
  copy.addEventListener('click', (e) => { e.preventDefault(); copyText(framesHex(ev), copy); });
  const summary = el('summary', {},
    el('span', { class: 'time' }, time(ev.time)),
    el('span', { class: 'slot' }, `slot ${ev.slot}`),
    el('span', { class: 'instr' }, ev.instruction),
    el('span', { class: 'sw ' + (ok ? 'ok' : 'err') }, `${ev.sw} ${ev.status}${ctap}`),
    el('span', { class: 'meta' }, `${ev.header} · ${ev.requestLength}→${ev.responseLength} bytes · ${ev.frames.length} frame${ev.frames.length === 1 ? '' : 's'}${ev.complete ? '' : ' · incomplete'}`),
    copy);
  const details = el('details', {}, summary,
    cborBlock('request CBOR', ev.requestCbor),
    cborBlock('response CBOR', ev.responseCbor),
    el('h4', {}, 'frames'),
    el('pre', { class: 'hex' }, framesHex(ev)));
  const item = el('li', { class: 'exchange' }, details);
  if (ev.ctapCommand) item.dataset.ctap = ev.ctapCommand;
  addEntry(item, ev.slot);
}

function connect() {
  const badge = $('#stream');
  const source = new EventSource('/events');
  source.addEventListener('open', () => { badge.textContent = 'live'; });
  source.addEventListener('error', () => { badge.textContent = 'reconnecting'; });
  const fresh = (handler) => (message) => {
    const ev = JSON.parse(message.data);
    if (ev.seq <= lastSeq) return;
    lastSeq = ev.seq;
    handler(ev);
    scheduleRefresh();
  };
  source.addEventListener('exchange', fresh(addExchange));
  source.addEventListener('power', fresh((ev) => {
    addEntry(el('li', { class: 'power' }, `${time(ev.time)}  slot ${ev.slot}  ${ev.power}`), ev.slot);
  }));
  source.addEventListener('card', fresh(() => {}));
  source.addEventListener('lagged', (message) => {
    addEntry(el('li', { class: 'power' }, `${message.data} events missed (the page fell behind)`), 'all');
  });
}

document.addEventListener('DOMContentLoaded', () => {
  $('#filter').addEventListener('change', (e) => {
    filter = e.target.value;
    for (const item of $('#log').children) {
      item.hidden = filter !== 'all' && item.dataset.slot !== filter && item.dataset.slot !== 'all';
    }
  });
  $('#clear').addEventListener('click', () => { $('#log').replaceChildren(); $('#count').textContent = ''; });
  refresh().catch((err) => console.warn('status failed:', err.message)).finally(connect);
});
