// The page: controls, readouts and plots. Everything numeric happens in worker.ts; this
// file only keeps the series the worker sends and redraws at most once per frame.
import { DIGITS_FILE } from './digits.ts';
import { LineChart, sharedRange, type Series } from './plot.ts';
import {
  FIGURE1, MODELS, type FromWorker, type Model, type RunConfig, type RuntimeInfo, type ThreadsChoice, type ToWorker,
} from './protocol.ts';

const COLORS: Record<Model, string> = { bn: '#1d4ed8', plain: '#ea580c' };
const PIXELS = 784;
const SIDE = 28;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`index.html has no #${id}`);
  return found as T;
}

const controls = {
  run: element<HTMLButtonElement>('run'),
  reset: element<HTMLButtonElement>('reset'),
  lr: element<HTMLSelectElement>('lr'),
  init: element<HTMLSelectElement>('init'),
  batch: element<HTMLSelectElement>('batch'),
  seed: element<HTMLInputElement>('seed'),
  simd: element<HTMLInputElement>('simd'),
  threads: element<HTMLSelectElement>('threads'),
};
const readout = {
  status: element('status'),
  step: element('step'),
  speed: element('speed'),
  bnTime: element('bn-time'),
  build: element('build'),
  threads: element('threads-run'),
  accuracy: { bn: element('acc-bn'), plain: element('acc-plain') } as Record<Model, HTMLElement>,
};

const perModel = (make: (model: Model) => Omit<Series, 'x' | 'y'>) => MODELS.map(make);
const charts = {
  accuracy: new LineChart(element('accuracy'), perModel((m) => ({ color: COLORS[m], width: 2 })), {
    yLabel: 'test accuracy', yRange: [0, 1], yFormat: (v) => `${Math.round(v * 100)}%`,
  }),
  loss: new LineChart(element('loss'), perModel((m) => ({ color: COLORS[m], width: 2 })), { yLabel: 'cross-entropy' }),
  percentiles: Object.fromEntries(MODELS.map((m) => [m, new LineChart(element(`pct-${m}`), [
    { color: COLORS[m], width: 1.25, dash: [5, 3] },
    { color: COLORS[m], width: 2 },
    { color: COLORS[m], width: 1.25, dash: [5, 3] },
  ], { yLabel: 'sigmoid input' })])) as Record<Model, LineChart>,
};

function setValue(target: HTMLElement, value: string | number | boolean, text = String(value)): void {
  target.dataset.value = String(value);
  target.textContent = text;
}

function readConfig(): RunConfig | null {
  const seed = Number(controls.seed.value);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    setValue(readout.status, 'error', `seed: expected a non-negative integer, got "${controls.seed.value}"`);
    return null;
  }
  return {
    seed,
    lr: Number(controls.lr.value),
    initStd: Number(controls.init.value),
    batch: Number(controls.batch.value),
    simd: controls.simd.checked,
    threads: threadsChoice(controls.threads.value),
  };
}

/** The threads select's value ('auto' or a count) as init() takes it; anything else is 'auto'. */
function threadsChoice(value: string | null): ThreadsChoice {
  const listed = [...controls.threads.options].some((option) => option.value === value);
  return listed && value !== 'auto' ? Number(value) : 'auto';
}

/** Selects `value`, adding it as an option when a link asked for one the list lacks. */
function choose(select: HTMLSelectElement, value: number): void {
  if (![...select.options].some((option) => Number(option.value) === value)) select.add(new Option(String(value)));
  select.value = [...select.options].find((option) => Number(option.value) === value)!.value;
}

function applyConfig(config: RunConfig): void {
  controls.seed.value = String(config.seed);
  choose(controls.lr, config.lr);
  choose(controls.init, config.initStd);
  choose(controls.batch, config.batch);
  controls.simd.checked = config.simd;
  controls.threads.value = String(config.threads);
}

// ?seed=…&lr=…&init=…&batch=…&simd=0&threads=2 preset the controls and ?steps=N pauses training
// at step N: a link to a given run.
const query = new URLSearchParams(location.search);
const stopAt = Number(query.get('steps')) > 0 ? Math.floor(Number(query.get('steps'))) : null;

function configFromUrl(): RunConfig {
  const number = (key: string, fallback: number) => (query.has(key) && Number.isFinite(Number(query.get(key))) ? Number(query.get(key)) : fallback);
  const d = FIGURE1.defaults;
  return {
    seed: number('seed', d.seed), lr: number('lr', d.lr), initStd: number('init', d.initStd), batch: number('batch', d.batch),
    simd: query.get('simd') !== '0', threads: threadsChoice(query.get('threads')),
  };
}

let running = false;
let step = 0;
let drawPending = false;
const gridCells: { label: number; verdicts: Record<Model, HTMLElement> }[] = [];

function drawDigits(images: Float32Array, labels: number[]): void {
  const host = element('digits');
  host.replaceChildren();
  gridCells.length = 0;
  labels.forEach((label, i) => {
    const cell = document.createElement('div');
    cell.className = 'digit';
    const canvas = document.createElement('canvas');
    canvas.width = SIDE;
    canvas.height = SIDE;
    const picture = new ImageData(SIDE, SIDE);
    for (let p = 0; p < PIXELS; p++) {
      const shade = 255 - Math.round(255 * images[i * PIXELS + p]!);
      picture.data.set([shade, shade, shade, 255], 4 * p);
    }
    canvas.getContext('2d')!.putImageData(picture, 0, 0);
    const verdict = (model: Model) => {
      const line = document.createElement('div');
      line.className = model;
      return line;
    };
    const verdicts = { bn: verdict('bn'), plain: verdict('plain') };
    const truth = document.createElement('div');
    truth.textContent = `label ${label}`;
    cell.append(canvas, truth, verdicts.bn, verdicts.plain);
    host.append(cell);
    gridCells.push({ label, verdicts });
  });
}

function showPredictions(predictions: Record<Model, number[]>): void {
  gridCells.forEach((cell, i) => {
    for (const model of MODELS) {
      const guess = predictions[model][i]!;
      const verdict = cell.verdicts[model];
      verdict.textContent = `${model === 'bn' ? 'BN' : 'no BN'}: ${guess} ${guess === cell.label ? '✓' : '✗'}`;
      verdict.classList.toggle('wrong', guess !== cell.label);
    }
  });
}

function redraw(): void {
  drawPending = false;
  const xMax = Math.max(step, 100);
  charts.accuracy.draw(xMax);
  charts.loss.draw(xMax, sharedRange(charts.loss.series, [0, 2.5]).map((v, i) => (i === 0 ? Math.max(v, 0) : v)) as [number, number]);
  // One scale for both percentile charts, so the drift without BN reads against BN directly.
  const range = sharedRange([...charts.percentiles.bn.series, ...charts.percentiles.plain.series], [-2, 2]);
  for (const model of MODELS) charts.percentiles[model].draw(xMax, range);
}

function scheduleRedraw(): void {
  if (!drawPending) {
    drawPending = true;
    requestAnimationFrame(redraw);
  }
}

/**
 * Why the networks train on one thread, as far as the page can tell: init()'s own reason
 * when it refused the count chosen; for 'auto', what it decides from (cross-origin
 * isolation, the build, the logical cores); nothing when 1 was chosen.
 */
function whyOneThread(runtime: RuntimeInfo): string | null {
  if (runtime.refused !== null) return runtime.refused;
  if (runtime.asked === 1) return null;
  if (!crossOriginIsolated) return 'the page is not cross-origin isolated';
  if (!runtime.simd) return 'the scalar build runs one thread';
  return `'auto' on ${navigator.hardwareConcurrency} logical cores`;
}

let runtime: RuntimeInfo | null = null;

function showThreads(threads: number): void {
  const why = threads === 1 && runtime !== null ? whyOneThread(runtime) : null;
  setValue(readout.threads, threads, why === null ? String(threads) : `${threads} (${why})`);
}

function showRuntime(info: RuntimeInfo): void {
  runtime = info;
  setValue(readout.build, info.simd, info.simd ? 'SIMD' : 'scalar');
  controls.simd.checked = info.simd;
  controls.threads.value = String(info.asked);
  showThreads(info.threads);
}

function setRunning(value: boolean): void {
  running = value;
  controls.run.textContent = running ? 'Pause' : 'Start';
  setValue(readout.status, running ? 'training' : 'paused');
}

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (message: ToWorker) => worker.postMessage(message);

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const message = event.data;
  switch (message.type) {
    case 'reset':
      step = 0;
      for (const chart of [charts.accuracy, charts.loss, charts.percentiles.bn, charts.percentiles.plain]) chart.clear();
      applyConfig(message.config);
      showRuntime(message.runtime);
      setValue(readout.speed, '', '–');
      setValue(readout.bnTime, '', '–');
      drawDigits(message.grid.images, message.grid.labels);
      for (const button of [controls.run, controls.reset]) button.disabled = false;
      setRunning(running);
      scheduleRedraw();
      break;
    case 'runtime':
      showRuntime(message.runtime);
      break;
    case 'progress': {
      step = message.step;
      setValue(readout.step, step, step.toLocaleString('en'));
      if (String(message.threads) !== readout.threads.dataset.value) showThreads(message.threads);
      // The worker has the last word: it stops by itself at ?steps=N or on an error.
      if (message.running !== running) setRunning(message.running);
      for (const point of message.losses) {
        MODELS.forEach((m, i) => {
          charts.loss.series[i]!.x.push(point.step);
          charts.loss.series[i]!.y.push(point.loss[m]);
        });
      }
      for (const e of message.evaluations) {
        MODELS.forEach((m, i) => {
          charts.accuracy.series[i]!.x.push(e.step);
          charts.accuracy.series[i]!.y.push(e.accuracy[m]);
          charts.percentiles[m].series.forEach((s, q) => {
            s.x.push(e.step);
            s.y.push(e.percentiles[m][q]!);
          });
        });
      }
      const last = message.evaluations[message.evaluations.length - 1];
      if (last !== undefined) {
        for (const m of MODELS) setValue(readout.accuracy[m], last.accuracy[m], `${(100 * last.accuracy[m]).toFixed(1)}%`);
        showPredictions(last.predictions);
      }
      if (message.speed !== null) {
        const { stepsPerSecond, bnForwardUs, bnBackwardUs } = message.speed;
        setValue(readout.speed, stepsPerSecond, stepsPerSecond.toFixed(0));
        setValue(readout.bnTime, `${bnForwardUs} ${bnBackwardUs}`, `${bnForwardUs.toFixed(1)} / ${bnBackwardUs.toFixed(1)} µs`);
      }
      const diverged = MODELS.filter((m) => message.divergedAt[m] !== null)
        .map((m) => `${m === 'bn' ? 'BN' : 'no BN'} diverged at step ${message.divergedAt[m]}`);
      if (diverged.length > 0) setValue(readout.status, 'diverged', diverged.join('; '));
      scheduleRedraw();
      break;
    }
    case 'error':
      setRunning(false);
      setValue(readout.status, 'error', message.message);
      console.error(`training worker: ${message.message}`);
      break;
  }
};
worker.onerror = (event) => {
  setValue(readout.status, 'error', event.message);
  console.error(`training worker failed: ${event.message}`);
};

controls.run.addEventListener('click', () => {
  setRunning(!running);
  send({ type: running ? 'start' : 'pause' });
});
const reset = () => {
  const config = readConfig();
  if (config !== null) send({ type: 'reset', config });
};
controls.reset.addEventListener('click', reset);
for (const restarting of [controls.init, controls.batch, controls.seed]) restarting.addEventListener('change', reset);
controls.lr.addEventListener('change', () => send({ type: 'lr', lr: Number(controls.lr.value) }));
const switchRuntime = () => send({ type: 'runtime', simd: controls.simd.checked, threads: threadsChoice(controls.threads.value) });
for (const moving of [controls.simd, controls.threads]) moving.addEventListener('change', switchRuntime);
addEventListener('resize', scheduleRedraw);

const initial = configFromUrl();
applyConfig(initial);
send({ type: 'load', digitsUrl: new URL(DIGITS_FILE, document.baseURI).href, config: initial, stopAt });
