// The explorer page: asks the server (server.py) for pictures and draws the controls it
// describes. No library, nothing fetched from anywhere but this server.
"use strict";

const PAGE = 12; // thumbnails per page
const state = {
  info: null,
  source: "test:0", // test:N, prior:SEED or upload:N (session.py)
  settings: {}, // label name -> setting, for the controls the user has moved
  page: 0,
  other: 1,
  shown: null, // the last answer of /api/render
};
const controls = {}; // label name -> {describe, root, update(encoded, belief, data)}

const $ = (id) => document.getElementById(id);

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

// The page is busy (body data-busy="1") while a request is out or a render is due.
let pending = 0;
let dirty = false;

function markBusy() {
  document.body.dataset.busy = pending > 0 || dirty ? "1" : "0";
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": body instanceof Blob ? uploadType(body) : "application/json" },
    body: body instanceof Blob ? body : JSON.stringify(body),
  };
  pending += 1;
  markBusy();
  try {
    const response = await fetch(path, options);
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || response.statusText);
    return answer;
  } finally {
    pending -= 1;
    markBusy();
  }
}

function uploadType(file) {
  return file.type && file.type.startsWith("image/") ? file.type : "application/octet-stream";
}

function say(message) {
  $("status").textContent = message || "";
}

const imageUrl = (source) => `/api/image?source=${encodeURIComponent(source)}`;
const testNumber = (source) => (source.startsWith("test:") ? Number(source.slice(5)) : null);

// Live rendering: at most one request in flight; the latest settings win. ---------------------

let inFlight = false;

function render() {
  dirty = true;
  markBusy();
  pump();
}

async function pump() {
  if (inFlight || !dirty) return;
  dirty = false;
  inFlight = true;
  const request = { source: state.source, settings: { ...state.settings } };
  try {
    const answer = await api("/api/render", request);
    if (request.source === state.source) show(answer, request);
    say("");
  } catch (error) {
    say(error.message);
  }
  inFlight = false;
  pump();
}

function show(answer, request) {
  state.shown = answer;
  const edited = $("edited");
  edited.src = answer.image;
  edited.dataset.request = JSON.stringify(request);
  for (const [name, control] of Object.entries(controls)) {
    control.update(answer.encoded[name], answer.beliefs[name], answer.data ? answer.data[name] : undefined);
  }
  $("edits").textContent = answer.captions.length ? answer.captions.join(" · ") : "every label as encoded";
}

// Choosing the image ---------------------------------------------------------------------

function choose(source) {
  state.source = source;
  const number = testNumber(source);
  $("original").src = imageUrl(source);
  $("original-caption").textContent = {
    test: `test image ${number}`, prior: `drawn from the prior (seed ${source.slice(6)})`, upload: "your upload",
  }[source.split(":")[0]];
  if (number !== null) {
    $("index").value = number;
    state.page = Math.floor(number / PAGE);
  }
  drawThumbnails();
  render();
  swap();
  drawDiversity();
}

function chooseTest(number) {
  const count = state.info.test_images;
  if (!count) return;
  choose(`test:${Math.min(Math.max(0, number), count - 1)}`);
}

function drawThumbnails() {
  const count = state.info.test_images;
  const box = $("thumbnails");
  box.replaceChildren();
  for (let n = state.page * PAGE; n < Math.min(count, (state.page + 1) * PAGE); n++) {
    const thumb = el("img", { src: imageUrl(`test:${n}`), alt: `test image ${n}`, title: `test image ${n}` });
    if (state.source === `test:${n}`) thumb.classList.add("chosen");
    thumb.addEventListener("click", () => chooseTest(n));
    box.append(thumb);
  }
}

function turnPage(step) {
  const pages = Math.max(1, Math.ceil(state.info.test_images / PAGE));
  state.page = (state.page + step + pages) % pages;
  drawThumbnails();
}

async function upload(file) {
  try {
    say("uploading…");
    const answer = await api("/api/upload", file);
    say("");
    choose(answer.source);
  } catch (error) {
    say(error.message);
  }
}

// One control per label, as the server describes it (controls.py) ---------------------------

function move(name, setting) {
  state.settings[name] = setting;
  render();
}

function reset(name) {
  delete state.settings[name];
  render();
}

function marksOf(describe) {
  const span = describe.max - describe.min;
  const marks = el("div", { class: "marks" });
  for (const mark of describe.marks) {
    const at = el("span", {}, mark.text);
    const percent = (100 * (mark.at - describe.min)) / span;
    at.style.left = `${percent}%`;
    if (percent < 8) at.style.transform = "none"; // keep the ends' words inside the panel
    if (percent > 92) at.style.transform = "translateX(-100%)";
    marks.append(at);
  }
  return marks;
}

function beliefBar(describe, belief) {
  const bar = el("span", { class: "bar" });
  if (belief.probs) {
    for (const p of belief.probs) {
      const part = el("span");
      part.style.width = `${100 * p}%`;
      bar.append(part);
    }
  } else {
    const part = el("span");
    const fraction = (belief.value - describe.min) / (describe.max - describe.min);
    part.style.width = `${100 * Math.min(1, Math.max(0, fraction))}%`;
    bar.append(part);
  }
  return bar;
}

function makeControl(describe) {
  const name = describe.name;
  const state_ = el("span", { class: "state" }, "as encoded");
  const resetButton = el("button", { type: "button", class: "reset", title: "back to the image's own z_c" }, "reset");
  resetButton.addEventListener("click", () => reset(name));
  const head = el("div", { class: "control-head" }, el("span", { class: "name" }, name),
    el("span", { class: "kind" }, describe.kind), state_, resetButton);
  const belief = el("div", { class: "belief" });
  const root = el("div", { class: "control", "data-label": name }, head);
  let widget;
  let setWidget;

  if (describe.widget === "classes") {
    widget = el("div", { class: "classes" });
    const buttons = describe.classes.map((text, k) => {
      const button = el("button", { type: "button", "data-value": k }, text);
      button.addEventListener("click", () => move(name, k));
      widget.append(button);
      return button;
    });
    setWidget = (setting, encoded) => buttons.forEach((button, k) => {
      button.classList.toggle("chosen", setting === k);
      button.classList.toggle("encoded", setting === undefined && encoded === k);
    });
    root.append(widget);
  } else {
    widget = el("input", { type: "range", min: describe.min, max: describe.max, step: describe.step,
      "aria-label": name, "data-label": name });
    widget.addEventListener("input", () => {
      move(name, describe.widget === "slider" ? Number.parseInt(widget.value, 10) : Number(widget.value));
    });
    setWidget = (setting, encoded) => { widget.value = setting === undefined ? encoded : setting; };
    root.append(widget, marksOf(describe));
  }
  root.append(belief);

  return {
    describe,
    update(encoded, q, data) {
      const setting = state.settings[name];
      setWidget(setting, encoded);
      root.classList.toggle("moved", setting !== undefined);
      state_.textContent = setting === undefined ? "as encoded" : "set";
      const parts = [beliefBar(describe, q), el("span", { class: "text" }, `q: ${q.text}`)];
      if (data !== undefined) parts.push(el("span", { class: "data" }, `data: ${data === null ? "?" : data}`));
      belief.replaceChildren(...parts);
    },
    root,
  };
}

// Swap and diversity ---------------------------------------------------------------------

async function swap() {
  if (!state.info.test_images) return;
  const other = `test:${Math.min(Math.max(0, state.other), state.info.test_images - 1)}`;
  $("other-image").src = imageUrl(other);
  try {
    const answer = await api("/api/swap", { source: state.source, other });
    $("source-on-other").src = answer.source_on_other;
    $("other-on-source").src = answer.other_on_source;
  } catch (error) {
    say(error.message);
  }
}

function diversityValueField() {
  const describe = controls[$("diversity-label").value].describe;
  const field = $("diversity-value-field");
  let input;
  if (describe.values) {
    input = el("select", { id: "diversity-value" }, el("option", { value: "" }, "predicted value"),
      ...describe.values.map((v) => el("option", { value: v.value }, v.text)));
  } else {
    input = el("input", { id: "diversity-value", type: "number", min: describe.min, max: describe.max,
      step: describe.step, placeholder: "predicted" });
  }
  input.addEventListener("change", drawDiversity);
  field.replaceChildren(el("label", { for: "diversity-value" }, "value"), input);
}

let diversitySeed = 0;

async function drawDiversity() {
  const label = $("diversity-label").value;
  const text = $("diversity-value").value;
  const request = { source: state.source, label, num: Number.parseInt($("draws").value, 10) || 12,
    seed: diversitySeed };
  if (text !== "") request.value = Number(text);
  try {
    const answer = await api("/api/diversity", request);
    $("diversity").replaceChildren(...answer.samples.map((src) => el("img", { src, alt: answer.text })));
    $("variance").src = answer.variance;
    $("variance-caption").textContent = `per-pixel variance of ${answer.text} (max ${answer.max_variance.toPrecision(2)})`;
  } catch (error) {
    say(error.message);
  }
}

// Download what is on screen ---------------------------------------------------------------

function snapshot() {
  // One canvas of the visible pictures (original, edited, swaps, diversity, variance), each
  // drawn pixel for pixel at 3x, with their captions and the label settings below.
  const cell = 3 * state.info.image_shape[1];
  const rows = [
    [[$("original"), $("original-caption").textContent], [$("edited"), "edited"]],
    [[$("other-image"), "other image"], [$("source-on-other"), "z_c of this, rest of other"],
      [$("other-on-source"), "z_c of other, rest of this"]],
    [...document.querySelectorAll("#diversity img")].map((img) => [img, ""])
      .concat([[$("variance"), "variance"]]),
  ].map((row) => row.filter(([img]) => img.complete && img.naturalWidth > 0));
  const captionHeight = 18;
  const lines = [`run ${state.info.run}: ${$("edits").textContent}`];
  const width = Math.max(...rows.map((row) => row.length)) * (cell + 8) + 8;
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(width, 480);
  canvas.height = rows.length * (cell + captionHeight + 8) + 8 + 18 * lines.length;
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff";
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.imageSmoothingEnabled = false;
  context.fillStyle = "#1d2433";
  context.font = "12px sans-serif";
  rows.forEach((row, r) => {
    const y = 8 + r * (cell + captionHeight + 8);
    row.forEach(([img, caption], c) => {
      const x = 8 + c * (cell + 8);
      context.drawImage(img, x, y, cell, cell);
      context.fillText(caption, x, y + cell + 13, cell);
    });
  });
  lines.forEach((line, k) => context.fillText(line, 8, canvas.height - 8 - 18 * (lines.length - 1 - k)));
  return canvas;
}

function download() {
  const link = el("a", { href: snapshot().toDataURL("image/png"), download: `explorer-${state.source.replace(":", "-")}.png` });
  document.body.append(link);
  link.click();
  link.remove();
}

// Start ------------------------------------------------------------------------------------

async function start() {
  try {
    state.info = await api("/api/info");
  } catch (error) {
    say(error.message);
    return;
  }
  const info = state.info;
  $("run-info").textContent = `run ${info.run} · ${info.model} · ${info.image_shape.join("×")} · ` +
    `${info.labels.length} labels · ${info.test_images} test images`;
  $("test-count").textContent = `of ${info.test_images}`;
  $("index").max = Math.max(0, info.test_images - 1);
  $("other").max = Math.max(0, info.test_images - 1);
  $("draws").max = info.max_draws;
  for (const describe of info.labels) {
    controls[describe.name] = makeControl(describe);
    $("controls").append(controls[describe.name].root);
    $("diversity-label").append(el("option", { value: describe.name }, describe.name));
  }
  diversityValueField();

  $("index").addEventListener("change", () => chooseTest(Number.parseInt($("index").value, 10) || 0));
  $("previous").addEventListener("click", () => chooseTest((testNumber(state.source) ?? 1) - 1));
  $("next").addEventListener("click", () => chooseTest((testNumber(state.source) ?? -1) + 1));
  $("page-back").addEventListener("click", () => turnPage(-1));
  $("page-forward").addEventListener("click", () => turnPage(1));
  $("upload").addEventListener("change", () => { if ($("upload").files.length) upload($("upload").files[0]); });
  $("draw-prior").addEventListener("click", () => choose(`prior:${Math.floor(Math.random() * 1e9)}`));
  $("reset-all").addEventListener("click", () => { state.settings = {}; render(); });
  $("download").addEventListener("click", download);
  $("other").addEventListener("change", () => { state.other = Number.parseInt($("other").value, 10) || 0; swap(); });
  $("diversity-label").addEventListener("change", () => { diversityValueField(); drawDiversity(); });
  $("draws").addEventListener("change", drawDiversity);
  $("diversity-draw").addEventListener("click", () => { diversitySeed += 1; drawDiversity(); });

  state.other = Math.min(1, Math.max(0, info.test_images - 1));
  $("other").value = state.other;
  choose(info.test_images ? "test:0" : "prior:0");
}

window.explorer = { state, choose, move, snapshot }; // for tests and the console
start();
