// rtsim view: a library's 3-D map, the live cursor with its trail, the current matches and
// each trigger, from rtsim's own server (nothing is fetched from the network).
// window.rtsimView holds the page's state, read by people in the console and by the tests.
//
// Drawing 10^5 points every frame is too slow for a software renderer (headless Chromium,
// a laptop without a GPU driver). While the camera moves, the cloud is drawn from a random
// subset sized to keep the frame rate (the draw order is shuffled once, so any prefix is a
// uniform sample), with the live layer (cursor, trail, matches, flashes) over it. 150 ms
// after the camera stops, every point is drawn once into a texture; from then on each
// live update only composites that texture with the live layer. Nothing is drawn while
// nothing changes, so an idle page costs the engine's machine nothing.
import {
  AdditiveBlending, BufferAttribute, BufferGeometry, Color, Line, LineBasicMaterial, Mesh,
  MeshBasicMaterial, OrbitControls, OrthographicCamera, PerspectiveCamera, PlaneGeometry,
  Points, PointsMaterial, Raycaster, Scene, SphereGeometry, Vector2, Vector3, WebGLRenderer,
  WebGLRenderTarget,
} from "/static/three-view.min.js";

const TRAIL = 64;          // live positions kept in the cursor's trail
const FLASH_S = 0.6;       // a trigger's flash, seconds
const MAX_FLASHES = 16;
const DIM = 0.12;          // brightness of points hidden by the search or folder filter
const SETTLE_S = 0.15;     // the camera still this long: draw every point
const MIN_BUDGET = 4000;   // points drawn while moving, at least

const state = {
  ready: false, count: 0, embedder: "", live: false, connected: false,
  hops: 0, triggers: 0, lastHopSeq: -1, cursor: null, topk: [], flashing: [],
  hovered: -1, lastAudition: null, visible: 0, frames: 0, error: null,
  drawn: 0, budget: 0, cloudDraws: 0,
};
window.rtsimView = state;

const el = (id) => document.getElementById(id);
const setStatus = (text) => { el("status").textContent = text; };

main().catch((err) => { state.error = String(err); setStatus("error: " + err); });

async function main() {
  const [scene, buf] = await Promise.all([
    fetch("/api/scene.json").then(checked).then((r) => r.json()),
    fetch("/api/points.bin").then(checked).then((r) => r.arrayBuffer()),
  ]);
  const raw = new Float32Array(buf);
  if (raw.length !== 3 * scene.count) throw new Error(`points: ${raw.length / 3} != ${scene.count}`);
  const view = makeView(scene, normalise(raw));
  Object.assign(state, { count: scene.count, embedder: scene.embedder, live: scene.live });
  el("title").textContent = `rtsim view · ${scene.embedder} · ${scene.count} items`;
  setupFilters(scene, view);
  setupPointer(scene, view);
  if (scene.live) connect(scene, view); else setStatus("library only (no engine followed)");
  state.ready = true;
  view.loop();
}

function checked(r) {
  if (!r.ok) throw new Error(`${r.url}: HTTP ${r.status}`);
  return r;
}

// Centre the map and scale its largest extent to 2 (the same transform is applied to live
// positions, so the cursor lands where its matches are).
function normalise(raw) {
  const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < raw.length; i += 3) {
    for (let a = 0; a < 3; a++) {
      lo[a] = Math.min(lo[a], raw[i + a]); hi[a] = Math.max(hi[a], raw[i + a]);
    }
  }
  if (raw.length === 0) { lo.fill(0); hi.fill(1); }
  const mid = lo.map((v, a) => (v + hi[a]) / 2);
  const extent = Math.max(...hi.map((v, a) => v - lo[a]));
  const scale = extent > 1e-6 ? 2 / extent : 1;  // one item, or all at one place: unscaled
  const map = (x, a) => (x - mid[a]) * scale;
  const pos = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) pos[i] = map(raw[i], i % 3);
  return { pos, map: (xyz) => xyz.map((v, a) => map(v, a)) };
}

function palette(n) {
  return Array.from({ length: n }, (_, i) => new Color().setHSL((i * 0.618034) % 1, 0.65, 0.58));
}

function makeView(scene, norm) {
  const renderer = new WebGLRenderer({ antialias: false });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  renderer.setSize(window.innerWidth, window.innerHeight);
  el("map").appendChild(renderer.domElement);
  const world = new Scene();  // the live layer, drawn over the cached cloud every frame
  const cloud = new Scene();
  cloud.background = new Color(0x101216);
  const target = new WebGLRenderTarget(1, 1);
  const quad = new Scene();
  quad.add(new Mesh(new PlaneGeometry(2, 2),
                    new MeshBasicMaterial({ map: target.texture, depthTest: false })));
  const flat = new OrthographicCamera(-1, 1, 1, -1, 0, 1);
  const camera = new PerspectiveCamera(55, window.innerWidth / window.innerHeight, 0.01, 100);
  camera.position.set(1.5, 1.1, 1.8);
  const controls = new OrbitControls(camera, renderer.domElement);
  controls.enableDamping = true;
  controls.dampingFactor = 0.15;  // settles within half a second: then every point is drawn

  const n = scene.count;
  const colours = palette(scene.labels.length);
  const base = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) colours[scene.label[i]].toArray(base, 3 * i);
  const geometry = new BufferGeometry();
  geometry.setAttribute("position", new BufferAttribute(norm.pos, 3));
  geometry.setAttribute("color", new BufferAttribute(base.slice(), 3));
  const order = new Uint32Array(n).map((_, i) => i);
  for (let i = n - 1; i > 0; i--) {  // shuffled draw order: any prefix is a uniform sample
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  geometry.setIndex(new BufferAttribute(order, 1));
  const size = n > 20000 ? 0.012 : n > 2000 ? 0.025 : 0.05;
  const points = new Points(geometry, new PointsMaterial({ size, vertexColors: true }));
  cloud.add(points);

  const k = 64;  // highlighted matches (the wire's k is at most 64)
  const topGeom = new BufferGeometry();
  topGeom.setAttribute("position", new BufferAttribute(new Float32Array(3 * k), 3));
  topGeom.setDrawRange(0, 0);
  const top = new Points(topGeom, new PointsMaterial({ size: size * 2.2, color: 0xffffff }));
  world.add(top);

  const cursor = new Mesh(new SphereGeometry(0.035, 16, 12),
                          new MeshBasicMaterial({ color: 0xffd23f }));
  cursor.visible = false;
  world.add(cursor);
  const trailGeom = new BufferGeometry();
  trailGeom.setAttribute("position", new BufferAttribute(new Float32Array(3 * TRAIL), 3));
  trailGeom.setAttribute("color", new BufferAttribute(new Float32Array(3 * TRAIL), 3));
  trailGeom.setDrawRange(0, 0);
  const trail = new Line(trailGeom, new LineBasicMaterial({ vertexColors: true }));
  world.add(trail);
  const trailPts = [];

  const flashes = Array.from({ length: MAX_FLASHES }, () => {
    const m = new Mesh(new SphereGeometry(0.03, 12, 8), new MeshBasicMaterial({
      color: 0xff5a36, transparent: true, blending: AdditiveBlending, depthWrite: false }));
    m.visible = false; m.userData.t0 = 0; world.add(m); return m;
  });
  let nextFlash = 0;

  const resize = () => {
    camera.aspect = window.innerWidth / window.innerHeight;
    camera.updateProjectionMatrix();
    renderer.setSize(window.innerWidth, window.innerHeight);
    const px = renderer.getDrawingBufferSize(new Vector2());
    target.setSize(px.x, px.y);
    view.cloudStale = true;
  };
  window.addEventListener("resize", () => resize());

  const view = {
    scene, norm, points, base, renderer, camera, world, controls,
    cloudStale: true, liveStale: true, spinning: false,
    setVisible(mask) {
      const c = geometry.getAttribute("color");
      let shown = 0;
      for (let i = 0; i < n; i++) {
        const f = mask[i] ? 1 : DIM;
        shown += mask[i];
        for (let a = 0; a < 3; a++) c.array[3 * i + a] = base[3 * i + a] * f;
      }
      c.needsUpdate = true;
      state.visible = shown;
      view.mask = mask;
      view.cloudStale = true;
    },
    hop(msg) {
      if (msg.silent) return;
      const p = norm.map(msg.xyz);
      cursor.position.set(p[0], p[1], p[2]);
      cursor.visible = true;
      state.cursor = msg.xyz;
      trailPts.push(p);
      if (trailPts.length > TRAIL) trailPts.shift();
      const tp = trailGeom.getAttribute("position"), tc = trailGeom.getAttribute("color");
      trailPts.forEach((q, i) => {
        tp.array.set(q, 3 * i);
        const fade = (i + 1) / trailPts.length;
        tc.array.set([1.0 * fade, 0.82 * fade, 0.25 * fade], 3 * i);
      });
      tp.needsUpdate = tc.needsUpdate = true;
      trailGeom.setDrawRange(0, trailPts.length);
      const ids = msg.ids.filter((i) => i >= 0 && i < n).slice(0, k);
      const pos = topGeom.getAttribute("position");
      ids.forEach((id, j) => pos.array.set(norm.pos.subarray(3 * id, 3 * id + 3), 3 * j));
      pos.needsUpdate = true;
      topGeom.setDrawRange(0, ids.length);
      state.topk = ids;
      showMatches(scene, ids, msg.distances);
      view.liveStale = true;
    },
    flash(id) {
      if (!(id >= 0 && id < n)) return;
      const m = flashes[nextFlash++ % MAX_FLASHES];
      m.position.fromArray(norm.pos, 3 * id);
      m.userData.t0 = performance.now() / 1000;
      m.userData.id = id;
      m.visible = true;
      view.liveStale = true;
    },
    spin(on) {  // turn the map continuously (a show mode; the frame-rate test uses it)
      controls.autoRotate = view.spinning = Boolean(on);
      controls.autoRotateSpeed = 6;
    },
    loop() {
      let budget = Math.min(n, 50000), lastMove = -1, full = false, last = 0;
      const frame = () => {
        const now = performance.now() / 1000;
        const dt = last ? now - last : 0;
        last = now;
        const moved = controls.update();
        if (moved) {  // keep a moving frame near 30-40 ms: size the subset to the frame time
          if (dt > 0.028) budget = Math.max(MIN_BUDGET, Math.floor(budget * 0.8));
          else if (dt < 0.02) budget = Math.min(n, Math.ceil(budget * 1.15));
          lastMove = now;
        }
        const moving = moved || now - lastMove < SETTLE_S;
        state.moving = moving;
        // the cloud is drawn this frame: to the screen while moving, else into the cache
        const drawCloud = moving || view.cloudStale || !full;
        if (drawCloud) {
          const count = moving ? Math.min(budget, n) : n;
          geometry.setDrawRange(0, count);
          renderer.setRenderTarget(moving ? null : target);
          renderer.autoClear = true;
          renderer.render(cloud, camera);
          renderer.setRenderTarget(null);
          full = !moving;
          view.cloudStale = false;
          state.drawn = count;
          state.budget = budget;
          state.cloudDraws++;
        }
        const live = [];
        for (const m of flashes) {
          if (!m.visible) continue;
          const age = (now - m.userData.t0) / FLASH_S;
          if (age >= 1) { m.visible = false; view.liveStale = true; continue; }
          m.scale.setScalar(1 + 3 * age);
          m.material.opacity = 1 - age;
          live.push(m.userData.id);
        }
        state.flashing = live;
        if (drawCloud || view.liveStale || live.length) {
          if (!moving) {  // the cached cloud under the live layer
            renderer.autoClear = true;
            renderer.render(quad, flat);
          }
          renderer.autoClear = false;
          renderer.clearDepth();
          renderer.render(world, camera);
          view.liveStale = false;
          state.frames++;
        }
        requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    },
  };
  view.setVisible(new Uint8Array(n).fill(1));
  resize();
  window.rtsimSpin = (on) => view.spin(on);
  window.rtsimScreenOf = (id) => {  // item id -> CSS pixel [x, y] on the page
    const v = new Vector3().fromArray(norm.pos, 3 * id).project(camera);
    const r = renderer.domElement.getBoundingClientRect();
    return [r.left + (v.x + 1) / 2 * r.width, r.top + (1 - v.y) / 2 * r.height];
  };
  return view;
}

function showMatches(scene, ids, distances) {
  const box = el("matches");
  box.replaceChildren(...ids.slice(0, 5).map((id, j) => {
    const row = document.createElement("div");
    row.textContent = `${j + 1}. ${scene.names[id]}  ${Number(distances[j]).toFixed(3)}`;
    if (j === 0) row.className = "best";
    return row;
  }));
}

function setupFilters(scene, view) {
  const select = el("label");
  scene.labels.forEach((lab, i) => {
    const opt = document.createElement("option");
    opt.value = String(i); opt.textContent = lab; select.appendChild(opt);
  });
  const hay = scene.names.map((name, i) => (name + " " + scene.files[i]).toLowerCase());
  const apply = () => {
    const q = el("search").value.trim().toLowerCase();
    const lab = select.value === "" ? -1 : Number(select.value);
    const mask = new Uint8Array(scene.count);
    for (let i = 0; i < scene.count; i++) {
      mask[i] = (lab < 0 || scene.label[i] === lab) && (!q || hay[i].includes(q)) ? 1 : 0;
    }
    view.setVisible(mask);
    el("shown").textContent = `${state.visible} of ${scene.count} shown`;
  };
  el("search").addEventListener("input", apply);
  select.addEventListener("change", apply);
  apply();
}

function setupPointer(scene, view) {
  const ray = new Raycaster();
  ray.params.Points.threshold = view.points.material.size * 0.6;
  const mouse = new Vector2();
  const tip = el("tip");
  let pending = null, latest = null, down = null;
  const pick = (ev) => {
    const r = view.renderer.domElement.getBoundingClientRect();
    mouse.set(((ev.clientX - r.left) / r.width) * 2 - 1, -((ev.clientY - r.top) / r.height) * 2 + 1);
    ray.setFromCamera(mouse, view.camera);
    const hit = ray.intersectObject(view.points).find((h) => view.mask[h.index]);
    return hit ? hit.index : -1;
  };
  view.renderer.domElement.addEventListener("pointermove", (event) => {
    latest = event;  // the newest position is picked, once per frame
    if (pending) return;
    pending = requestAnimationFrame(() => {
      pending = null;
      const ev = latest;
      const id = pick(ev);
      state.hovered = id;
      if (id < 0) { tip.hidden = true; return; }
      tip.textContent = `${scene.names[id]}\n${scene.files[id]}  (${scene.labels[scene.label[id]]})`;
      tip.style.left = `${ev.clientX + 14}px`; tip.style.top = `${ev.clientY + 12}px`;
      tip.hidden = false;
    });
  });
  view.renderer.domElement.addEventListener("pointerdown", (ev) => {
    down = [ev.clientX, ev.clientY];
  });
  view.renderer.domElement.addEventListener("click", (ev) => {
    const dragged = down && Math.hypot(ev.clientX - down[0], ev.clientY - down[1]) > 4;
    if (dragged) return;  // the end of a turn of the map, not a click on a point
    const id = pick(ev);
    if (id >= 0) audition(id);
  });
}

// Play an item's sound (its span of its file, cut by the server); a new one stops the last.
const player = new Audio();
async function audition(id) {
  state.lastAudition = { id, bytes: 0, played: false, error: null };
  try {
    const blob = await fetch(`/api/audio/${id}`).then(checked).then((r) => r.blob());
    state.lastAudition.bytes = blob.size;
    player.pause();
    if (player.src) URL.revokeObjectURL(player.src);
    player.src = URL.createObjectURL(blob);
    await player.play();
    state.lastAudition.played = true;
  } catch (err) {
    state.lastAudition.error = String(err);  // e.g. autoplay refused before any user gesture
  }
}
window.rtsimAudition = audition;

function connect(scene, view) {
  const ws = new WebSocket(`ws://${location.host}/live`);
  ws.onopen = () => { state.connected = true; setStatus(`following ${scene.embedder} live`); };
  ws.onclose = () => {
    state.connected = false;
    setStatus("engine stream closed; retrying…");
    setTimeout(() => connect(scene, view), 1000);
  };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === "hop") {
      state.hops++; state.lastHopSeq = msg.seq; view.hop(msg);
    } else if (msg.type === "trigger") {
      state.triggers++; view.flash(msg.id);
    }
  };
}
