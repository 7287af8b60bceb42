// A camera frame's planes (as VideoFrame.copyTo gives them: I420, or NV12, what many Windows and
// macOS webcams send) shrunk and converted to the int32 RGB pixels TF.js makes a tensor of, in
// JavaScript: no canvas. Bilinear, as drawImage shrinks.

// [Kr, Kb] of the colour matrices a camera frame may name (VideoColorSpace.matrix).
const MATRICES = Object.freeze({
  bt709: Object.freeze([0.2126, 0.0722]), smpte170m: Object.freeze([0.299, 0.114]),
  bt470bg: Object.freeze([0.299, 0.114]), 'bt2020-ncl': Object.freeze([0.2627, 0.0593]),
});

// Where a format keeps its chroma samples, from copyTo's layout: I420 has a U and a V plane; NV12
// one plane of U, V pairs. -> {Y, U, V: {offset, stride}, step: from one sample to the next in a row}
const CHROMA = Object.freeze({
  I420: ([Y, U, V]) => ({ Y, U, V, step: 1 }),
  NV12: ([Y, UV]) => ({ Y, U: UV, V: { offset: UV.offset + 1, stride: UV.stride }, step: 2 }),
});

// Whether readPlanes reads a frame's pixel format (others are drawn).
export function readsFormat(format) {
  return Object.hasOwn(CHROMA, format);
}

// Whether readPlanes knows a frame's colour matrix (none named: BT.601, what cameras mostly send);
// a frame naming another is drawn instead, as the browser knows every matrix.
export function knowsColours(colorSpace) {
  return !colorSpace?.matrix || Object.hasOwn(MATRICES, colorSpace.matrix);
}

// For each output position along an axis of n -> m samples: the two source indices (times step,
// the samples' spacing in memory) and the weight of the second (pixel centres aligned, as drawImage
// samples).
function taps(n, m, step = 1) {
  const i0 = new Int32Array(m);
  const i1 = new Int32Array(m);
  const f = new Float32Array(m);
  for (let i = 0; i < m; i += 1) {
    const s = Math.min(n - 1, Math.max(0, ((i + 0.5) * n) / m - 0.5));
    const a = Math.floor(s);
    i0[i] = a * step;
    i1[i] = Math.min(n - 1, a + 1) * step;
    f[i] = s - a;
  }
  return { i0, i1, f };
}

// The conversion's constants for a frame's colour space: the matrix's [Kr, Kb] (none named:
// BT.601, what cameras mostly send) and its range (limited unless it says full).
function coefficients(colorSpace) {
  const [kr, kb] = MATRICES[colorSpace?.matrix] ?? MATRICES.smpte170m;
  const kg = 1 - kr - kb;
  const full = colorSpace?.fullRange === true;
  const cs = full ? 1 : 255 / 224;
  return {
    y0: full ? 0 : 16, ys: full ? 1 : 255 / 219,
    crR: 2 * (1 - kr) * cs, cbB: 2 * (1 - kb) * cs,
    cbG: (2 * (1 - kb) * kb / kg) * cs, crG: (2 * (1 - kr) * kr / kg) * cs,
  };
}

// One pixel's RGB from its luma (0-255 scaled) and chroma (centred on 0) into out at o, rounded and
// clamped as a Uint8ClampedArray stores (but for halves: up, not to even); by hand, as a clamping
// store per channel was slower (576 x 576 -> 320 x 320 in Node, one comparison: 2.0 against 1.7 ms).
function store(out, o, luma, cb, cr, crR, cbG, crG, cbB) {
  const r = luma + crR * cr + 0.5;
  const g = luma - cbG * cb - crG * cr + 0.5;
  const b = luma + cbB * cb + 0.5;
  out[o] = r <= 0 ? 0 : r >= 255 ? 255 : r | 0;
  out[o + 1] = g <= 0 ? 0 : g >= 255 ? 255 : g | 0;
  out[o + 2] = b <= 0 ? 0 : b >= 255 ? 255 : b | 0;
}

// format: readsFormat's; data: the planes (Uint8Array), layout: copyTo's [{offset, stride}] per
// plane; w x h the frame's visible size, out: width x height; colorSpace: the frame's.
// -> Int32Array (RGB, row by row).
export function readPlanes(format, data, layout, w, h, width, height, colorSpace) {
  const k = coefficients(colorSpace);
  const planes = CHROMA[format](layout);
  if (w === 2 * width && h === 2 * height) return readHalf(data, planes, width, height, k);
  const { y0, ys, crR, cbG, crG, cbB } = k;
  const { Y, U, V, step } = planes;
  const cw = (w + 1) >> 1;
  const ch = (h + 1) >> 1;
  const lx = taps(w, width);
  const ly = taps(h, height);
  const cx = taps(cw, width, step);
  const cy = taps(ch, height);
  const out = new Int32Array(width * height * 3);
  let o = 0;
  for (let j = 0; j < height; j += 1) {
    const ya = Y.offset + ly.i0[j] * Y.stride;
    const yb = Y.offset + ly.i1[j] * Y.stride;
    const fy = ly.f[j];
    const ua = U.offset + cy.i0[j] * U.stride;
    const ub = U.offset + cy.i1[j] * U.stride;
    const va = V.offset + cy.i0[j] * V.stride;
    const vb = V.offset + cy.i1[j] * V.stride;
    const gy = cy.f[j];
    for (let i = 0; i < width; i += 1) {
      const x0 = lx.i0[i];
      const x1 = lx.i1[i];
      const fx = lx.f[i];
      const top = data[ya + x0] + (data[ya + x1] - data[ya + x0]) * fx;
      const bottom = data[yb + x0] + (data[yb + x1] - data[yb + x0]) * fx;
      const c0 = cx.i0[i];
      const c1 = cx.i1[i];
      const gx = cx.f[i];
      const ut = data[ua + c0] + (data[ua + c1] - data[ua + c0]) * gx;
      const ubm = data[ub + c0] + (data[ub + c1] - data[ub + c0]) * gx;
      const vt = data[va + c0] + (data[va + c1] - data[va + c0]) * gx;
      const vbm = data[vb + c0] + (data[vb + c1] - data[vb + c0]) * gx;
      const luma = (top + (bottom - top) * fy - y0) * ys;
      store(out, o, luma, ut + (ubm - ut) * gy - 128, vt + (vbm - vt) * gy - 128, crR, cbG, crG, cbB);
      o += 3;
    }
  }
  return out;
}

// A frame read at exactly half its size (640 x 480 -> 320 x 240, most webcams' default): bilinear
// then samples midway between two rows and columns, so each pixel is the mean of a 2 x 2 block of
// luma, and the chroma planes are already at that size (576 x 576 in Node: 0.65-0.7 ms against
// 1.7-2.3 at 320 x 320).
function readHalf(data, { Y, U, V, step }, width, height, { y0, ys, crR, cbG, crG, cbB }) {
  const out = new Int32Array(width * height * 3);
  let o = 0;
  for (let j = 0; j < height; j += 1) {
    const ya = Y.offset + 2 * j * Y.stride;
    const yb = ya + Y.stride;
    const ua = U.offset + j * U.stride;
    const va = V.offset + j * V.stride;
    for (let x = 0, c = 0; x < 2 * width; x += 2, c += step) {
      const luma = ((data[ya + x] + data[ya + x + 1] + data[yb + x] + data[yb + x + 1]) * 0.25 - y0) * ys;
      store(out, o, luma, data[ua + c] - 128, data[va + c] - 128, crR, cbG, crG, cbB);
      o += 3;
    }
  }
  return out;
}
