// rekey dashboard pages: fills the overview and run pages from their event stream.
// Served as a file (the Content-Security-Policy allows no inline script). Builds the DOM with
// createElement and textContent only, never innerHTML, so no data is ever parsed as markup.

(() => {
  const body = document.body;
  const page = body.dataset.page;
  const role = body.dataset.role;
  const runId = body.dataset.runId;
  const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
  const numbers = new Intl.NumberFormat('en');
  const timeOfDay = new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const dateTime = new Intl.DateTimeFormat('en-GB', {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });

  // ---- small helpers ----

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs ?? {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') el.className = value;
      else if (key === 'text') el.textContent = value;
      else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
      else if (key in el && typeof value !== 'string') el[key] = value;
      else el.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function replace(id, ...children) {
    const el = document.getElementById(id);
    if (el === null) return;
    el.replaceChildren(
      ...children.flat().filter((c) => c !== undefined && c !== null && c !== false),
    );
    el.removeAttribute('aria-busy');
  }

  const num = (n) => numbers.format(Math.round(n));

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return '—';
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s}s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m}m ${s % 60}s`;
    const hours = Math.floor(m / 60);
    if (hours < 48) return `${hours}h ${m % 60}m`;
    return `${Math.floor(hours / 24)}d ${hours % 24}h`;
  }

  function relative(iso) {
    if (iso === null || iso === undefined) return '—';
    const diff = (Date.parse(iso) - Date.now()) / 1000;
    const text = duration(Math.abs(diff)).split(' ')[0];
    return diff >= 0 ? `in ${text}` : `${text} ago`;
  }

  function time(iso, text) {
    return h(
      'time',
      { datetime: iso, title: dateTime.format(new Date(iso)) },
      text ?? relative(iso),
    );
  }

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  const PHASE = {
    preparing: ['Preparing', 'info'],
    rewrapping: ['Rewrapping', 'info'],
    verifying: ['Verifying', 'info'],
    completed: ['Completed', 'ok'],
    failed: ['Failed', 'bad'],
  };

  function phaseBadge(run) {
    if (run.paused) return h('span', { class: 'badge', 'data-tone': 'warn', text: 'Paused' });
    if (run.phase === 'failed' && run.error === 'cancelled') {
      return h('span', { class: 'badge', 'data-tone': 'idle', text: 'Cancelled' });
    }
    const [label, tone] = PHASE[run.phase] ?? [run.phase, 'idle'];
    return h('span', { class: 'badge', 'data-tone': tone, text: label });
  }

  function barTone(run) {
    if (run.phase === 'completed') return 'ok';
    if (run.phase === 'failed') return 'bad';
    if (run.paused) return 'warn';
    return undefined;
  }

  function progressBar(percent, label, tone, extra) {
    return h(
      'progress',
      {
        max: '100',
        value: String(percent),
        'aria-label': label,
        'data-tone': tone,
        class: extra,
      },
      `${percent}%`,
    );
  }

  function setLive(state, text) {
    const el = document.getElementById('live-status');
    if (el === null) return;
    el.dataset.state = state;
    el.textContent = text;
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(body ?? {}),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error ?? `request failed (${response.status})`);
    return data;
  }

  function say(id, text, tone) {
    const el = document.getElementById(id);
    if (el === null) return;
    el.textContent = text;
    if (tone === undefined) delete el.dataset.tone;
    else el.dataset.tone = tone;
  }

  // ---- the event stream ----

  function connect(url, handlers) {
    const source = new EventSource(url);
    source.addEventListener('open', () => setLive('live', 'Live'));
    source.addEventListener('error', () => setLive('reconnecting', 'Reconnecting…'));
    source.addEventListener('snapshot', (e) => handlers.snapshot(JSON.parse(e.data)));
    source.addEventListener('run', (e) => handlers.run(JSON.parse(e.data)));
    source.addEventListener('overview', (e) => handlers.overview?.(JSON.parse(e.data)));
    source.addEventListener('gone', () => {
      source.close();
      setLive('gone', 'Not found');
    });
    return source;
  }

  // ---- charts ----

  const charts = new Map();

  function chartColors() {
    return {
      text: cssVar('--muted'),
      grid: cssVar('--border'),
      primary: cssVar('--ok'),
      active: [cssVar('--warn'), '#d97706', '#f59e0b', '#fbbf24', '#a16207'],
      disabled: cssVar('--idle'),
      accent: cssVar('--accent'),
    };
  }

  function upsertChart(key, canvas, config) {
    if (typeof Chart === 'undefined') return;
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    const existing = charts.get(key);
    if (existing !== undefined && existing.canvas === canvas) {
      existing.data = config.data;
      existing.options = config.options;
      existing.update('none');
      return;
    }
    existing?.destroy();
    charts.set(key, new Chart(canvas, config));
  }

  // ---- overview ----

  const summaries = new Map();

  function kekStatus(k) {
    switch (k.status) {
      case 'ok':
        return ['Healthy', 'ok'];
      case 'due':
        return ['Rotation due', 'bad'];
      case 'rotating':
        return ['Rotating', 'info'];
      case 'unavailable':
        return ['Provider unavailable', 'bad'];
      default:
        return ['No schedule', 'idle'];
    }
  }

  function kekCard(k) {
    const [label, tone] = kekStatus(k);
    const primary = k.versions.find((v) => v.state === 'primary');
    const facts = h('dl', { class: 'facts' });
    const fact = (term, ...value) => facts.append(h('dt', { text: term }), h('dd', {}, ...value));
    fact(
      'Primary',
      primary ? h('code', { text: primary.ref }) : h('span', { class: 'muted', text: 'none' }),
    );
    fact('Age', k.primaryAgeSeconds === null ? '—' : duration(k.primaryAgeSeconds));
    fact('Policy', k.policy ?? h('span', { class: 'muted', text: 'manual rotation only' }));
    if (k.dueAt !== null) {
      const late = Date.parse(k.dueAt) <= Date.now();
      fact(
        'Due',
        h(
          'span',
          { class: late ? 'late' : '' },
          time(
            k.dueAt,
            late ? `overdue by ${relative(k.dueAt).replace(' ago', '')}` : relative(k.dueAt),
          ),
        ),
      );
    }
    const next = k.nextRotationAt;
    fact(
      'Next scheduled',
      next === null ? '—' : time(next, Date.parse(next) <= Date.now() ? 'due now' : relative(next)),
    );
    const versions = h(
      'ul',
      { class: 'versions', 'aria-label': `Versions of ${k.name}` },
      [...k.versions]
        .reverse()
        .map((v) =>
          h(
            'li',
            {},
            h('span', { class: 'pill', 'data-state': v.state, text: v.state }),
            h('span', { class: 'ref', title: v.ref, text: v.ref }),
            h('span', { class: 'when' }, time(v.createdAt)),
          ),
        ),
    );
    return h(
      'article',
      { class: 'card', 'aria-label': `KEK ${k.name}` },
      h(
        'div',
        { class: 'card-head' },
        h(
          'div',
          { class: 'card-title' },
          h('h3', { text: k.name }),
          h('span', { class: 'tag', text: k.provider }),
        ),
        h('span', { class: 'badge', 'data-tone': tone, text: label }),
      ),
      facts,
      k.versions.length === 0 ? h('p', { class: 'muted', text: 'No versions yet.' }) : versions,
    );
  }

  function runPace(run) {
    if (!run.active) return '';
    if (run.paused) return 'paused';
    if (run.etaSeconds === null) return `${num(run.ratePerSecond)}/s`;
    return `${num(run.ratePerSecond)}/s · ETA ${duration(run.etaSeconds)}`;
  }

  function runCard(run) {
    const t = run.totals;
    const processed = t.done + t.skipped + t.failed;
    return h(
      'article',
      { class: 'card run-card', 'data-run-id': run.id },
      h(
        'div',
        { class: 'card-head' },
        h(
          'div',
          { class: 'card-title' },
          h('h3', {}, h('a', { href: `/runs/${run.id}`, text: `${run.kekName}` })),
          run.targetRef ? h('code', { class: 'tag', text: `→ ${run.targetRef}` }) : null,
        ),
        phaseBadge(run),
      ),
      progressBar(t.percent, `Progress of the ${run.kekName} rotation`, barTone(run)),
      h(
        'div',
        { class: 'run-line' },
        h(
          'span',
          {},
          h('strong', { text: `${t.percent}%` }),
          ` · ${num(processed)} of ${num(t.planned)} DEKs`,
        ),
        h(
          'span',
          {},
          run.active ? `${num(run.ratePerSecond)}/s · ETA ${duration(run.etaSeconds)}` : '',
        ),
      ),
    );
  }

  function inventoryCharts(view) {
    const colors = chartColors();
    const states = new Map();
    for (const k of view.keks) for (const v of k.versions) states.set(v.ref, v.state);
    const names = [
      ...new Set(view.inventory.flatMap((i) => i.counts.map((c) => c.kekName))),
    ].sort();
    if (names.length === 0) {
      return [h('p', { class: 'empty', text: 'No DEKs stored yet.' })];
    }
    return names.map((name) => {
      const refs = [
        ...new Set(
          view.inventory.flatMap((i) =>
            i.counts.filter((c) => c.kekName === name).map((c) => c.kekRef),
          ),
        ),
      ];
      const versions = view.keks.find((k) => k.name === name)?.versions.map((v) => v.ref) ?? [];
      refs.sort((a, b) => versions.indexOf(a) - versions.indexOf(b) || a.localeCompare(b));
      const dbs = view.inventory.map((i) => i.database);
      const count = (db, ref) =>
        view.inventory
          .find((i) => i.database === db)
          ?.counts.find((c) => c.kekName === name && c.kekRef === ref)?.count ?? 0;
      let activeIndex = 0;
      const datasets = refs.map((ref) => {
        const state = states.get(ref) ?? 'disabled';
        const color =
          state === 'primary'
            ? colors.primary
            : state === 'active'
              ? colors.active[activeIndex++ % colors.active.length]
              : colors.disabled;
        return {
          label: `${ref} (${state})`,
          data: dbs.map((db) => count(db, ref)),
          backgroundColor: color,
          borderRadius: 3,
          barThickness: 18,
        };
      });
      const canvas = h('canvas', {
        role: 'img',
        'aria-label': `DEKs of ${name} per database and version`,
      });
      const box = h('div', { class: 'chart-box' }, canvas);
      box.style.height = `${Math.max(7, dbs.length * 2.4 + 4.5)}rem`;
      const table = h(
        'table',
        {},
        h('caption', { text: `DEKs of ${name} per database and version` }),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col', text: 'Database' }),
            refs.map((r) => h('th', { scope: 'col', class: 'num ref-col', title: r, text: r })),
          ),
        ),
        h(
          'tbody',
          {},
          dbs.map((db) =>
            h(
              'tr',
              { 'data-database': db },
              h('th', { scope: 'row', text: db }),
              refs.map((r) => h('td', { class: 'num', 'data-ref': r, text: num(count(db, r)) })),
            ),
          ),
        ),
      );
      const card = h(
        'article',
        { class: 'card chart-card', 'data-kek': name },
        h('h3', { text: name }),
        box,
        h(
          'details',
          {},
          h('summary', { text: 'Show as table' }),
          h('div', { class: 'table-wrap' }, table),
        ),
      );
      requestAnimationFrame(() =>
        upsertChart(`inventory:${name}`, canvas, {
          type: 'bar',
          data: { labels: dbs, datasets },
          options: {
            indexAxis: 'y',
            responsive: true,
            maintainAspectRatio: false,
            animation: false,
            scales: {
              x: {
                stacked: true,
                beginAtZero: true,
                ticks: { color: colors.text, precision: 0 },
                grid: { color: colors.grid },
              },
              y: { stacked: true, ticks: { color: colors.text }, grid: { display: false } },
            },
            plugins: {
              legend: {
                position: 'bottom',
                labels: {
                  color: colors.text,
                  boxWidth: 12,
                  boxHeight: 12,
                  usePointStyle: true,
                  pointStyle: 'rectRounded',
                },
              },
              tooltip: {
                callbacks: { label: (ctx) => `${ctx.dataset.label}: ${num(ctx.parsed.x)}` },
              },
            },
          },
        }),
      );
      return card;
    });
  }

  function recentTable(runs) {
    if (runs.length === 0) return h('p', { class: 'empty', text: 'No finished runs yet.' });
    return h(
      'div',
      { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Recent runs' },
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['KEK', 'Target version', 'Result', 'Rewrapped', 'Failed', 'Started', 'Finished'].map(
              (c, i) =>
                h('th', { scope: 'col', class: i === 3 || i === 4 ? 'num' : undefined, text: c }),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          runs.map((r) =>
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, h('a', { href: `/runs/${r.id}`, text: r.kekName })),
              h('td', {}, h('code', { text: r.targetRef ?? '—' })),
              h('td', {}, phaseBadge(r)),
              h('td', { class: 'num', text: num(r.totals.done) }),
              h('td', { class: 'num', text: num(r.totals.failed) }),
              h('td', {}, time(r.createdAt)),
              h('td', {}, r.finishedAt ? time(r.finishedAt) : '—'),
            ),
          ),
        ),
      ),
    );
  }

  function renderRuns() {
    const all = [...summaries.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const active = all.filter((r) => r.active);
    replace(
      'active-runs',
      active.length === 0
        ? h('p', { class: 'empty', text: 'No rotation in progress.' })
        : h('div', { class: 'run-list' }, active.map(runCard)),
    );
    replace('recent-runs', recentTable(all.filter((r) => !r.active).slice(0, 10)));
  }

  function renderOverview(view) {
    summaries.clear();
    for (const r of [...view.activeRuns, ...view.recentRuns]) summaries.set(r.id, r);
    replace(
      'keks',
      view.keks.length === 0
        ? h('p', { class: 'empty', text: 'No KEK configured.' })
        : view.keks.map(kekCard),
    );
    replace('inventory', h('div', { class: 'chart-grid' }, inventoryCharts(view)));
    renderRuns();
  }

  function startOverview() {
    connect('/api/events', {
      snapshot: renderOverview,
      overview: renderOverview,
      run: (summary) => {
        summaries.set(summary.id, summary);
        renderRuns();
      },
    });
    const form = document.getElementById('start-form');
    form?.addEventListener('submit', async (event) => {
      event.preventDefault();
      const button = document.getElementById('start-button');
      const kekName = new FormData(form).get('kekName');
      button.disabled = true;
      say('start-message', `Starting a rotation of ${kekName}…`);
      try {
        const result = await post('/api/rotations', { kekName });
        say(
          'start-message',
          result.joined ? 'A rotation was already running: opening it.' : 'Rotation started.',
        );
        window.location.assign(`/runs/${result.run.id}`);
      } catch (error) {
        say('start-message', error.message, 'bad');
        button.disabled = false;
      }
    });
  }

  // ---- run page ----

  let currentRun;

  function stat(label, value, tone) {
    return h(
      'div',
      { class: 'stat', 'data-tone': tone },
      h('dt', { text: label }),
      h('dd', { text: value }),
    );
  }

  function renderRun(run) {
    currentRun = run;
    const moving = run.active && !run.paused;
    const t = run.totals;
    const title = document.getElementById('run-title');
    if (title !== null) {
      title.replaceChildren(`Rotation of ${run.kekName} `, phaseBadge(run));
      document.title = `${run.kekName} run ${run.id.slice(0, 8)} · rekey`;
    }
    const subtitle = [
      run.targetRef ? `to ${run.targetRef}` : 'preparing a new version',
      `started ${relative(run.createdAt)} by ${run.trigger}`,
      run.sweep > 0 ? `sweep ${run.sweep + 1}` : null,
      run.finishedAt ? `finished ${relative(run.finishedAt)}` : null,
    ]
      .filter(Boolean)
      .join(' · ');
    replace('run-subtitle', subtitle);

    replace(
      'run-summary',
      h(
        'div',
        { class: 'card summary-card' },
        h(
          'div',
          { class: 'summary-top' },
          h('span', { class: 'percent', id: 'run-percent', text: `${t.percent}%` }),
          h('span', {
            class: 'muted',
            text: run.active
              ? `${num(t.done + t.skipped + t.failed)} of ${num(t.planned)} DEKs`
              : `${num(t.done)} DEKs rewrapped`,
          }),
        ),
        progressBar(t.percent, 'Overall progress', barTone(run), 'big'),
        h(
          'dl',
          { class: 'stats' },
          stat('Done', num(t.done), 'ok'),
          stat('Skipped', num(t.skipped), t.skipped > 0 ? 'warn' : undefined),
          stat('Failed', num(t.failed), t.failed > 0 ? 'bad' : undefined),
          stat('Remaining', num(t.remaining)),
          stat('Rate', moving ? `${num(run.ratePerSecond)}/s` : '—'),
          stat('ETA', moving ? duration(run.etaSeconds) : '—'),
        ),
      ),
    );
    const overall = document.querySelector('#run-summary progress');
    overall?.setAttribute('id', 'run-progress');

    replace(
      'run-databases',
      h(
        'div',
        {
          class: 'table-wrap',
          tabindex: '0',
          role: 'region',
          'aria-label': 'Progress per database',
        },
        h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col', text: 'Database' }),
              h('th', { scope: 'col', text: 'Progress' }),
              ['Done', 'Skipped', 'Failed', 'Remaining'].map((c) =>
                h('th', { scope: 'col', class: 'num', text: c }),
              ),
              h('th', { scope: 'col', text: 'From versions' }),
            ),
          ),
          h(
            'tbody',
            {},
            run.databases.map((d) =>
              h(
                'tr',
                { 'data-database': d.database },
                h('th', { scope: 'row', text: d.database }),
                h(
                  'td',
                  { class: 'bar' },
                  h(
                    'div',
                    { class: 'bar-cell' },
                    progressBar(d.percent, `Progress in ${d.database}`, barTone(run)),
                    h('span', { text: d.planning ? 'planning' : `${d.percent}%` }),
                  ),
                ),
                h('td', { class: 'num', text: num(d.done) }),
                h('td', { class: 'num', text: num(d.skipped) }),
                h('td', { class: 'num', text: num(d.failed) }),
                h('td', { class: 'num', text: num(d.remaining) }),
                h(
                  'td',
                  { class: 'wrap' },
                  d.fromRefs.length === 0 ? '—' : h('code', { text: d.fromRefs.join(', ') }),
                ),
              ),
            ),
          ),
        ),
      ),
    );

    replace(
      'run-errors',
      run.errors.length === 0
        ? h('p', { class: 'empty', text: 'No errors.' })
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              {},
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  h('th', { scope: 'col', text: 'Class' }),
                  h('th', { scope: 'col', text: 'Where' }),
                  h('th', { scope: 'col', class: 'num', text: 'Count' }),
                ),
              ),
              h(
                'tbody',
                {},
                run.errors.map((e) =>
                  h(
                    'tr',
                    {},
                    h('td', { class: 'wrap', text: e.name }),
                    h('td', {
                      text:
                        e.source === 'deks' ? 'DEKs' : e.source === 'jobs' ? 'Queue jobs' : 'Run',
                    }),
                    h('td', { class: 'num', text: num(e.count) }),
                  ),
                ),
              ),
            ),
          ),
    );

    replace(
      'run-audit',
      run.audit.length === 0
        ? h('p', { class: 'muted', text: 'Nothing recorded yet.' })
        : h(
            'ol',
            { class: 'timeline' },
            run.audit.map((a) =>
              h(
                'li',
                {},
                time(a.at, timeOfDay.format(new Date(a.at))),
                h(
                  'div',
                  { class: 'what' },
                  h('div', {}, h('strong', { text: a.action }), ` by ${a.actor}`),
                  Object.keys(a.detail).length === 0 && a.kekRef === null
                    ? null
                    : h('div', {
                        class: 'detail',
                        text: [a.kekRef, ...Object.entries(a.detail).map(([k, v]) => `${k}=${v}`)]
                          .filter(Boolean)
                          .join('  '),
                      }),
                ),
              ),
            ),
          ),
    );

    renderActions(run);
    renderThroughput(run);
  }

  const DONE = { pause: 'Paused.', resume: 'Resumed.', cancel: 'Cancelled.', retry: 'Retried.' };

  function renderActions(run) {
    const box = document.getElementById('run-actions');
    if (box === null || role !== 'operator') return;
    const action = (name, label, enabled, extra) =>
      h(
        'button',
        {
          type: 'button',
          class: `button ${extra ?? ''}`,
          disabled: !enabled,
          'data-action': name,
          onclick: async () => {
            if (
              name === 'cancel' &&
              !window.confirm(
                'Cancel this rotation? DEKs already rewrapped stay on the new version.',
              )
            )
              return;
            box.querySelectorAll('button').forEach((b) => {
              b.disabled = true;
            });
            say('action-message', `${label}…`);
            try {
              const result = await post(`/api/rotations/${run.id}/${name}`);
              say('action-message', DONE[name]);
              if (result.run.id !== run.id) window.location.assign(`/runs/${result.run.id}`);
            } catch (error) {
              say('action-message', error.message, 'bad');
              renderActions(currentRun);
            }
          },
        },
        label,
      );
    // Only the actions that make sense in the run's state are offered.
    box.replaceChildren(
      ...[
        run.active &&
          (run.paused
            ? action('resume', 'Resume', true, 'button-primary')
            : action('pause', 'Pause', true)),
        run.active && action('cancel', 'Cancel run', true, 'button-danger'),
        run.phase === 'failed' && action('retry', 'Retry', true, 'button-primary'),
      ].filter(Boolean),
    );
  }

  function renderThroughput(run) {
    const canvas = document.getElementById('throughput-chart');
    if (canvas === null) return;
    const colors = chartColors();
    const points = run.throughput;
    const box = canvas.parentElement;
    const empty = box.querySelector('.chart-empty');
    if (points.length < 2 || points.every((p) => p.perSecond === 0)) {
      // An empty chart says why, instead of drawing a flat line.
      const text = run.active
        ? 'Waiting for the first rewraps…'
        : 'No rewraps recorded by this dashboard.';
      if (empty === null) box.append(h('p', { class: 'chart-empty', text }));
      else empty.textContent = text;
    } else {
      empty?.remove();
    }
    upsertChart('throughput', canvas, {
      type: 'line',
      data: {
        labels: points.map((p) => timeOfDay.format(new Date(p.t))),
        datasets: [
          {
            label: 'DEKs per second',
            data: points.map((p) => p.perSecond),
            borderColor: colors.accent,
            backgroundColor: `${colors.accent}22`,
            fill: true,
            tension: 0.3,
            pointRadius: 0,
            borderWidth: 2,
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: {
            ticks: { color: colors.text, maxTicksLimit: 6, maxRotation: 0 },
            grid: { display: false },
          },
          y: {
            beginAtZero: true,
            ticks: { color: colors.text, precision: 0 },
            grid: { color: colors.grid },
          },
        },
        plugins: { legend: { display: false } },
      },
    });
  }

  function startRun() {
    connect(`/api/events?run=${encodeURIComponent(runId)}`, {
      snapshot: renderRun,
      run: renderRun,
    });
  }

  if (page === 'overview') startOverview();
  else if (page === 'run') startRun();
})();
